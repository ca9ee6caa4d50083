"""`--listen URL` parsed into where the server listens: ``stdio://`` (default),
``ws://IP:PORT``, ``unix://`` (the default control socket) or ``unix://PATH``."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path


class ListenUrlError(ValueError):
    """A --listen value pycodex cannot serve; the message is the one-line answer."""


@dataclass(frozen=True)
class Stdio:
    pass


@dataclass(frozen=True)
class WebSocket:
    host: str
    port: int

    @property
    def is_loopback(self) -> bool:
        return ipaddress.ip_address(self.host).is_loopback


@dataclass(frozen=True)
class UnixSocket:
    # None: the default control socket under $PYCODEX_HOME.
    path: Path | None


ListenTarget = Stdio | WebSocket | UnixSocket

_EXPECTED = "expected `stdio://`, `unix://`, `unix://PATH` or `ws://IP:PORT`"


def parse_listen_url(url: str) -> ListenTarget:
    if url == "stdio://":
        return Stdio()
    if url.startswith("unix://"):
        raw = url[len("unix://") :]
        return UnixSocket(Path(raw).absolute() if raw else None)
    if url.startswith("ws://"):
        return _websocket(url)
    if url == "off":
        raise ListenUrlError("--listen off: pycodex has no remote control; nothing would listen")
    raise ListenUrlError(f"unsupported --listen URL `{url}`; {_EXPECTED}")


def _websocket(url: str) -> WebSocket:
    address = url[len("ws://") :]
    host, sep, port_text = address.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(host)
        port = int(port_text)
    except ValueError:
        raise ListenUrlError(f"invalid websocket --listen URL `{url}`; expected `ws://IP:PORT`") from None
    if not sep or not 0 <= port <= 65535:
        raise ListenUrlError(f"invalid websocket --listen URL `{url}`; expected `ws://IP:PORT`")
    return WebSocket(host, port)
