"""What one connection has negotiated: whether it is initialized, who the client is, whether
it opted into the experimental API, which notifications it does not want."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Session:
    initialized: bool = False
    # The `initialized` notification arrived (Codex does not require it before requests).
    client_ready: bool = False
    client_name: str | None = None
    client_version: str | None = None
    experimental_api: bool = False
    opted_out_notifications: frozenset[str] = field(default_factory=frozenset)

    @property
    def originator(self) -> str | None:
        """The client's name: the `originator` header and the threads' `originator`."""
        return self.client_name
