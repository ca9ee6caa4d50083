"""The `userAgent` `initialize` answers with, in Codex's shape:
``<client>/<codex version> (<OS> <version>; <arch>) <terminal> (<client>; <client version>)``.

The version is the Codex version pycodex is wire-compatible with, not pycodex's own: the
official SDKs parse it (`name/version…`, first word of the version) and refuse a runtime
older than the protocol features they use (the Python SDK wants ≥ 0.151.0).
"""

from __future__ import annotations

import platform
import re
from collections.abc import Mapping
from pathlib import Path

from pycodex import CODEX_COMPAT_VERSION


def user_agent(
    client_name: str,
    client_version: str,
    env: Mapping[str, str],
    *,
    os_release: Path = Path("/etc/os-release"),
) -> str:
    arch = platform.machine() or "unknown"
    text = (
        f"{client_name}/{CODEX_COMPAT_VERSION} ({_os_description(os_release)}; {arch}) "
        f"{_terminal(env)} ({client_name}; {client_version})"
    )
    # Codex sends the same string as an HTTP header: keep it visible ASCII.
    return "".join(c if " " <= c <= "~" else "_" for c in text)


def platform_os() -> str:
    system = platform.system()
    return {"Darwin": "macos", "Linux": "linux", "Windows": "windows"}.get(system, system.lower())


def platform_family() -> str:
    return "windows" if platform.system() == "Windows" else "unix"


def _os_description(os_release: Path) -> str:
    system = platform.system()
    if system == "Darwin":
        return f"Mac OS {_triplet(platform.mac_ver()[0])}"
    if system != "Linux":
        return f"{system or 'unknown'} {_triplet(platform.release())}"
    fields: dict[str, str] = {}
    try:
        for line in os_release.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                fields[key.strip()] = value.strip().strip('"')
    except OSError:
        pass
    name = (fields.get("NAME") or "Linux").split()[0]
    return f"{name} {_triplet(fields.get('VERSION_ID', ''))}"


def _triplet(raw: str) -> str:
    # Codex prints semantic versions ("Debian 12.0.0") where os-release says "12".
    numbers = re.findall(r"\d+", raw)[:3]
    if not numbers:
        return raw or "unknown"
    return ".".join(str(int(n)) for n in numbers + ["0"] * (3 - len(numbers)))


def _terminal(env: Mapping[str, str]) -> str:
    program = env.get("TERM_PROGRAM", "").strip()
    if program:
        version = env.get("TERM_PROGRAM_VERSION", "").strip()
        return f"{program}/{version}" if version else program
    return env.get("TERM", "").strip() or "unknown"
