"""`<environment_context>`: the facts about the machine the model needs every turn."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import msgspec


class EnvironmentContext(msgspec.Struct, frozen=True):
    cwd: Path
    shell: str
    approval_policy: str
    sandbox_mode: str
    network_access: bool
    writable_roots: tuple[Path, ...] = msgspec.field(default_factory=tuple)
    current_date: str = ""
    timezone: str = ""

    def render(self) -> str:
        lines = [
            "<environment_context>",
            f"  <cwd>{escape(str(self.cwd))}</cwd>",
            f"  <shell>{escape(self.shell)}</shell>",
            f"  <current_date>{self.current_date}</current_date>",
            f"  <timezone>{escape(self.timezone)}</timezone>",
            f"  <approval_policy>{self.approval_policy}</approval_policy>",
            f"  <sandbox_mode>{self.sandbox_mode}</sandbox_mode>",
            f"  <network_access>{'enabled' if self.network_access else 'restricted'}</network_access>",
        ]
        if self.writable_roots:
            roots = "".join(f"<root>{escape(str(r))}</root>" for r in self.writable_roots)
            lines.append(f"  <writable_roots>{roots}</writable_roots>")
        lines.append("</environment_context>")
        return "\n".join(lines)

    def differs_from(self, other: EnvironmentContext) -> bool:
        """Whether the model must be told again (the date alone changing is not enough)."""
        return (
            self.cwd != other.cwd
            or self.approval_policy != other.approval_policy
            or self.sandbox_mode != other.sandbox_mode
            or self.network_access != other.network_access
            or self.writable_roots != other.writable_roots
        )


def user_shell_name(env: dict[str, str] | None = None) -> str:
    shell = (env if env is not None else os.environ).get("SHELL", "") or "/bin/bash"
    return Path(shell).name or "bash"


def local_timezone_name() -> str:
    """An IANA name (`Europe/Paris`) when it can be found, else the abbreviation."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz and not tz.startswith("/"):
        return tz
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        return target.split("zoneinfo/", 1)[1]
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except OSError:
        name = ""
    return name or (dt.datetime.now().astimezone().tzname() or "UTC")


def today() -> str:
    return dt.datetime.now().astimezone().date().isoformat()


def escape(text: str) -> str:
    """`&`, `<` and `>` as XML entities (xml.sax.saxutils.escape, without importing xml)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
