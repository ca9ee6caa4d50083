"""The one exception type the config package raises."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem the user must fix.

    `str()` is always a single line naming the culprit (file, line, key, value) so a
    front end can print it verbatim after `Error loading config.toml: `.
    """

    def __init__(self, message: str) -> None:
        # Newlines would break the one-line contract; collapse them rather than trust callers.
        super().__init__(" ".join(message.split("\n")).strip())

    @property
    def message(self) -> str:
        return str(self.args[0])
