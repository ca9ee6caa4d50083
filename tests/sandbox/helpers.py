"""The fixture world of the sandbox attack table, host-side listeners and fault injection.

World layout (all under a pytest tmp dir, which lies under /tmp, so every policy here
excludes /tmp and $TMPDIR from the writable roots):

    ws/                 the cwd and writable root: .git/{hooks,config,HEAD}, .agents/skills,
                        link -> outside, gitdirs/extra (the git dir of `extra`)
    extra/              a second writable root, a worktree: .git is a `gitdir:` file
    outside/            must never change: victim, sock (a host unix listener)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pycodex.process import zygote
from pycodex.process.spawn import ExecRequest, run_command
from pycodex.protocol.policies import ReadOnlyPolicy, SandboxPolicy, WorkspaceWritePolicy
from pycodex.sandbox import _shim, launcher

PROBES = Path(__file__).with_name("probes.py")
FAULTINJECT = Path(__file__).with_name("faultinject.py")
PYTHON = os.path.realpath(sys.executable)
SRC = str(Path(launcher.__file__).resolve().parents[2])


def policy_for(mode: str, *, network: bool = False, extra: Path | None = None) -> SandboxPolicy:
    if mode == "read-only":
        return ReadOnlyPolicy(network_access=network)
    return WorkspaceWritePolicy(
        writable_roots=[str(extra)] if extra else [],
        network_access=network,
        exclude_slash_tmp=True,
        exclude_tmpdir_env_var=True,
    )


def backend_skip_reason(backend: str) -> str | None:
    reason = launcher.preflight(backend)
    return None if reason is None else f"backend {backend} unavailable here: {reason}"


@dataclass
class World:
    base: Path
    ws: Path = field(init=False)
    extra: Path = field(init=False)
    outside: Path = field(init=False)

    def __post_init__(self) -> None:
        self.ws = self.base / "ws"
        self.extra = self.base / "extra"
        self.outside = self.base / "outside"
        for d in (self.ws / ".git" / "hooks", self.ws / ".agents" / "skills", self.extra,
                  self.outside, self.gitdir_target):
            d.mkdir(parents=True, exist_ok=True)
        (self.ws / ".git" / "config").write_text("[core]\n")
        (self.ws / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (self.gitdir_target / "HEAD").write_text("ref: refs/heads/extra\n")
        (self.extra / ".git").write_text(f"gitdir: {self.gitdir_target}\n")
        (self.outside / "victim").write_text("original\n")
        (self.ws / "link").symlink_to(self.outside)

    @property
    def gitdir_target(self) -> Path:
        return self.base / "ws" / "gitdirs" / "extra"

    def snapshot(self, root: Path) -> dict[str, tuple[str, int, str]]:
        """Every path under `root` with its type, mode and content (files)."""
        out: dict[str, tuple[str, int, str]] = {}
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                st = p.lstat()
                kind = "link" if p.is_symlink() else "dir" if p.is_dir() else "file"
                content = ""
                if kind == "file" and p.suffix != ".sock" and name != "sock":
                    content = p.read_text(errors="replace")
                out[str(p.relative_to(root))] = (kind, st.st_mode, content)
        return out


class Listeners:
    """Loopback listeners on the host that count every connection / datagram."""

    def __init__(self, unix_path: Path) -> None:
        self.hits: dict[str, int] = {"tcp4": 0, "tcp6": 0, "udp4": 0, "unix_path": 0,
                                     "unix_abstract": 0}
        self.abstract = f"pycodex-sandbox-test-{uuid.uuid4().hex}"
        self.unix_path = str(unix_path)
        self._sel = selectors.DefaultSelector()
        self._socks: list[socket.socket] = []
        self.ports: dict[str, int] = {}
        self._add("tcp4", socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0))
        self._add("tcp6", socket.AF_INET6, socket.SOCK_STREAM, ("::1", 0))
        self._add("udp4", socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 0))
        self._add("unix_path", socket.AF_UNIX, socket.SOCK_STREAM, self.unix_path)
        self._add("unix_abstract", socket.AF_UNIX, socket.SOCK_STREAM, "\0" + self.abstract)
        self._stop = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _add(self, name: str, family: int, kind: int, address: Any) -> None:
        s = socket.socket(family, kind)
        s.bind(address)
        if kind == socket.SOCK_STREAM:
            s.listen(16)
        s.setblocking(False)
        if family != socket.AF_UNIX:
            self.ports[name] = s.getsockname()[1]
        self._socks.append(s)
        self._sel.register(s, selectors.EVENT_READ, name)

    def _loop(self) -> None:
        while not self._stop:
            for key, _ in self._sel.select(timeout=0.05):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                with contextlib.suppress(OSError):
                    if sock.type == socket.SOCK_STREAM:
                        conn, _ = sock.accept()
                        conn.close()
                    else:
                        sock.recvfrom(64)
                    self.hits[key.data] += 1

    def settle(self) -> dict[str, int]:
        time.sleep(0.1)
        return dict(self.hits)

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        for s in self._socks:
            s.close()
        self._sel.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.unix_path)


@contextlib.contextmanager
def attack_world(base: Path) -> Iterator[tuple[World, Listeners, subprocess.Popen[bytes]]]:
    world = World(base)
    listeners = Listeners(world.outside / "sock")
    neighbour = subprocess.Popen(["sleep", "60"], cwd=world.outside)
    try:
        yield world, listeners, neighbour
    finally:
        neighbour.kill()
        neighbour.wait()
        listeners.close()


# How a prepared command is started: "argv" runs `prepared.argv` as a program (a fresh
# interpreter runs the shim: what `pycodex sandbox -- CMD` does); "zygote" goes through
# pycodex's own spawn path (`run_command`), where the process zygote runs the shim's code
# in a fork of itself. Both must confine identically.
SPAWN_PATHS = ("argv", "zygote")


def probe_spec(world: World, listeners: Listeners, neighbour: int,
               only: Sequence[str] = (), via: str = "argv") -> dict[str, Any]:
    zygote_pid = zygote.zygote_pid() if via == "zygote" else os.getpid()
    return {
        "ws": str(world.ws), "outside": str(world.outside), "extra": str(world.extra),
        "gitdir_target": str(world.gitdir_target), "neighbour_pid": neighbour,
        "agent_pid": os.getpid(), "zygote_pid": zygote_pid, "ports": listeners.ports,
        "unix_path": listeners.unix_path, "unix_abstract": listeners.abstract,
        "only": list(only),
    }


def run_sandboxed(argv: Sequence[str], *, backend: str | None, policy: SandboxPolicy,
                  cwd: Path, timeout: float = 30, env: dict[str, str] | None = None,
                  via: str = "argv",
                  ) -> tuple[subprocess.CompletedProcess[str], launcher.SandboxedCommand]:
    cmd = launcher.prepare_command(argv, policy=policy, cwd=cwd,
                                   env=env if env is not None else dict(os.environ),
                                   backend=backend)
    if via == "zygote":
        return run_in_zygote(cmd.argv, cmd.env, cwd, timeout), cmd
    done = subprocess.run(cmd.argv, env=cmd.env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, start_new_session=True)
    return done, cmd


def run_in_zygote(argv: Sequence[str], env: dict[str, str], cwd: Path,
                  timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """`argv` through pycodex's spawn path; the zygote must be on (it is on Linux)."""
    assert zygote.available(), "the process zygote did not start"
    result = asyncio.run(run_command(ExecRequest(argv, cwd, env, timeout_s=timeout)))
    assert not result.timed_out, result.aggregated
    return subprocess.CompletedProcess(list(argv), result.exit_code, result.stdout,
                                       result.stderr)


def run_probes(spec: dict[str, Any], *, backend: str | None, policy: SandboxPolicy,
               cwd: Path, via: str = "argv") -> dict[str, str]:
    done, _ = run_sandboxed([PYTHON, "-I", str(PROBES), json.dumps(spec)], backend=backend,
                            policy=policy, cwd=cwd, via=via)
    assert done.returncode == 0, f"probe run failed ({done.returncode}): {done.stderr}"
    results: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def wait_gone(paths: Sequence[Path], timeout: float = 3.0) -> list[Path]:
    """Paths still present after `timeout` (the placeholder janitor is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in paths if os.path.lexists(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def faultinject_argv(faults: Sequence[str], argv: Sequence[str]) -> list[str]:
    return [PYTHON, "-I", str(FAULTINJECT), *(f"--{f}" for f in faults), "--", *argv]


def python_in_subprocess(code: str) -> list[str]:
    """Run `code` with pycodex importable (the test venv's site-packages)."""
    return [sys.executable, "-c", code]


__all__ = ["_shim"]
