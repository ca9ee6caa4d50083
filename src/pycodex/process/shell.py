"""The user's shell: which one, how to wrap a script for it, and its login environment.

Discovery: `$SHELL`, else the passwd entry, else `/bin/bash`. bash, zsh and sh are
supported; anything else (fish, nu, ...) would not understand `-c` scripts written for a
POSIX shell, so bash stands in for it.

Login shells source the user's profile (`~/.profile`, `~/.bash_profile`, `~/.zprofile`),
often slowly (nvm, conda, pyenv). A `ShellSnapshot` runs the login shell once, captures
its environment (`env -0`) and caches it under `$PYCODEX_HOME/shell_snapshots/`; commands
that ask for a login shell then run as plain `shell -c` with that environment applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SHELLS = ("bash", "zsh", "sh")
FALLBACK_SHELL = "/bin/bash"
SNAPSHOT_DIR = "shell_snapshots"
SNAPSHOT_TIMEOUT_S = 10.0
# Variables that describe the snapshotting process itself, not the user's environment.
_MARKER = "__PYCODEX_LOGIN_ENV__"
_VOLATILE = frozenset({"_", "PWD", "OLDPWD", "SHLVL"})


@dataclass(frozen=True)
class UserShell:
    path: str

    @property
    def name(self) -> str:
        return Path(self.path).name

    def argv(self, script: str, *, login: bool) -> list[str]:
        return [self.path, "-lc" if login else "-c", script]


def _usable(path: str | None) -> str | None:
    if not path:
        return None
    if not os.path.isabs(path):
        path = shutil.which(path) or ""
    if path and Path(path).name in SUPPORTED_SHELLS and os.access(path, os.X_OK):
        return path
    return None


def discover_user_shell(env: Mapping[str, str] | None = None) -> UserShell:
    """The user's shell when it is one we support, else bash."""
    env = os.environ if env is None else env
    found = _usable(env.get("SHELL"))
    if found is None:
        with contextlib.suppress(KeyError, OSError):
            found = _usable(pwd.getpwuid(os.getuid()).pw_shell)
    return UserShell(found or shutil.which("bash") or FALLBACK_SHELL)


def resolve_shell(requested: str | None, default: UserShell) -> UserShell:
    """The shell a model asked for (`bash`, `/bin/zsh`), else the default; bash for unknowns."""
    if not requested:
        return default
    return UserShell(_usable(requested) or default.path)


def parse_env0(data: bytes) -> dict[str, str]:
    env: dict[str, str] = {}
    for entry in data.split(b"\0"):
        name, sep, value = entry.partition(b"=")
        if sep and name:
            key = name.decode("utf-8", "surrogateescape")
            if key not in _VOLATILE:
                env[key] = value.decode("utf-8", "surrogateescape")
    return env


class ShellSnapshot:
    """The login environment of one shell, captured once per session (lazily)."""

    def __init__(self, shell: UserShell, directory: Path, session_id: str) -> None:
        self.shell = shell
        self.path = directory / f"{session_id}.{shell.name}.env"
        self._env: dict[str, str] | None = None
        self._failed = False
        self._lock = asyncio.Lock()

    async def env(self, base_env: Mapping[str, str], cwd: Path) -> dict[str, str] | None:
        """The captured environment, or None when the login shell could not be captured
        (then callers fall back to a real login shell). Taken in `$HOME`, where a
        terminal's login shell starts, so one missing workdir cannot spoil it."""
        async with self._lock:
            if self._env is None and not self._failed:
                home = base_env.get("HOME")
                self._env = await self._capture(base_env, Path(home) if home else cwd)
                self._failed = self._env is None
            return None if self._env is None else dict(self._env)

    async def _capture(self, base_env: Mapping[str, str], cwd: Path) -> dict[str, str] | None:
        from pycodex.process.spawn import ExecRequest, SpawnError, run_command

        # `env -0` keeps values with newlines intact; the marker skips whatever the
        # profile itself printed; `exec` spares one process.
        argv = [self.shell.path, "-lc", f"printf '\\0{_MARKER}\\0'; exec env -0"]
        try:
            result = await run_command(
                ExecRequest(argv=argv, cwd=cwd, env=base_env, timeout_s=SNAPSHOT_TIMEOUT_S)
            )
        except SpawnError:
            return None  # e.g. HOME does not exist: no snapshot, commands use -lc
        if result.exit_code != 0 or result.timed_out:
            return None
        raw = result.stdout.encode("utf-8", "surrogateescape")
        marker = f"\0{_MARKER}\0".encode()
        if marker not in raw:
            return None
        env = parse_env0(raw.split(marker, 1)[1])
        if "PATH" not in env:
            return None
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_bytes(b"".join(f"{k}={v}".encode("utf-8", "surrogateescape") + b"\0"
                                     for k, v in sorted(env.items())))
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        return env

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
