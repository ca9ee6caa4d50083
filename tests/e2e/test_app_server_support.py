"""Helpers shared by the app-server end-to-end tests (no tests here).

Every test starts the installed `pycodex app-server` as a real process in a scrubbed
environment with its own homes. Reads have a generous deadline that only turns a hang into
a failure; nothing is synchronised by sleeping and no duration is asserted.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import subprocess
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

from tests.support.app_server_traffic import TrafficValidator

Json = dict[str, Any]
PYCODEX = Path(sys.executable).parent / "pycodex"
HANG = 30.0  # seconds before a missing message counts as a hang


def shared_dir() -> Path:
    env = os.environ.get("PYCODEX_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared"


@cache
def reference_examples() -> Json:
    path = shared_dir() / "reference" / "app-server" / "examples.json"
    data: Json = json.loads(path.read_text(encoding="utf-8"))["client_requests"]
    return data


def reference_error(name: str) -> Json:
    error: Json = reference_examples()[name]["error"]
    return error


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYCODEX_HOME": str(tmp_path / "pycodex-home"),
        "CODEX_HOME": str(tmp_path / "codex-home"),
        "LANG": "C.UTF-8",
        "TERM": "xterm",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra)
    return env


def mock_provider_config(base_url: str, extra: str = "") -> str:
    """A config.toml selecting the mock model server (no retries), then `extra`."""
    return (
        'model = "gpt-5.5"\nmodel_provider = "mock"\n[model_providers.mock]\nname = "mock"\n'
        f'base_url = "{base_url}"\nenv_key = "MOCK_KEY"\nrequest_max_retries = 0\n'
        "stream_max_retries = 0\n" + extra
    )


def write_mock_config(home: Path, base_url: str, extra: str = "") -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(mock_provider_config(base_url, extra))


def initialize_params(name: str = "e2e_client", *, experimental: bool = False) -> Json:
    return {
        "clientInfo": {"name": name, "title": "E2E", "version": "1.2.3"},
        "capabilities": {"experimentalApi": experimental},
    }


def version_of(user_agent: str) -> tuple[int, ...]:
    """The version the official Python SDK reads: after the first `/`, its first word."""
    _, _, rest = user_agent.partition("/")
    word = rest.split()[0]
    return tuple(int(part) for part in re.findall(r"\d+", word)[:3])


class _Lines:
    """A pipe read by a thread, so a read can give up instead of hanging the test."""

    def __init__(self, stream: Any) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self.seen: list[bytes] = []
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: Any) -> None:
        for line in iter(stream.readline, b""):
            self._queue.put(line)
        self._queue.put(None)

    def next(self, timeout: float = HANG) -> bytes | None:
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout}s (seen: {self.seen[-5:]})") from None
        if line is not None:
            self.seen.append(line)
        return line

    def until(self, pattern: str) -> str:
        while (line := self.next()) is not None:
            text = line.decode(errors="replace")
            if re.search(pattern, text):
                return text
        raise AssertionError(f"stream ended without {pattern!r}: {self.seen}")

    def text(self) -> str:
        self._thread.join(timeout=HANG)
        while (line := self._queue.get_nowait() if not self._queue.empty() else None) is not None:
            self.seen.append(line)
        return b"".join(self.seen).decode(errors="replace")


class AppServer:
    """`pycodex app-server ARGS` with pipes; `rpc`/`send`/`recv` speak stdio JSON-RPC."""

    def __init__(
        self, tmp_path: Path, *args: str, env: dict[str, str] | None = None,
        root_args: tuple[str, ...] = (),
    ) -> None:
        self.env = env or server_env(tmp_path)
        self.proc = subprocess.Popen(
            [str(PYCODEX), *root_args, "app-server", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            cwd=tmp_path,
        )
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        self.stdout = _Lines(self.proc.stdout)
        self.stderr = _Lines(self.proc.stderr)
        self._next_id = 100
        self.traffic = TrafficValidator()

    def send_raw(self, data: bytes) -> None:
        for line in data.splitlines():
            with contextlib.suppress(ValueError):
                message = json.loads(line)
                if isinstance(message, dict):
                    self.traffic.sent(message)
        assert self.proc.stdin
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: Json) -> None:
        self.send_raw(json.dumps(message).encode() + b"\n")

    def recv(self) -> Json:
        line = self.stdout.next()
        assert line is not None, f"stdout closed; stderr: {self.stderr.seen}"
        message: Json = json.loads(line)
        self.traffic.received(message)
        return message

    def rpc(self, method: str, params: Json | None = None) -> Json:
        self._next_id += 1
        message: Json = {"id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        answer = self.recv()
        assert answer.get("id") == self._next_id, answer
        return answer

    def close_stdin(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()

    def wait(self) -> int:
        return self.proc.wait(timeout=HANG)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=HANG)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe and not pipe.closed:
                with contextlib.suppress(OSError):
                    pipe.close()


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is `pid` (Linux /proc)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (ppid) follows the parenthesised command name.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


class FrameClient:
    """A websocket-frames client straight over a unix socket (no HTTP upgrade), as Codex's
    control socket is spoken. Blocking, and it reads only when asked: a client that
    "never reads" is simply one that does not call :meth:`recv`."""

    def __init__(self, path: Path) -> None:
        import socket

        from websockets.protocol import Protocol, Side, State

        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(HANG)
        self.sock.connect(str(path))
        self._protocol = Protocol(Side.CLIENT, state=State.OPEN, max_size=None)
        self._fragments: list[bytes] = []
        self._ready: list[bytes] = []
        self._next_id = 100
        self.traffic = TrafficValidator()

    def send(self, message: Json) -> None:
        self.traffic.sent(message)
        self._protocol.send_text(json.dumps(message).encode())
        self.sock.sendall(b"".join(self._protocol.data_to_send()))

    def recv(self) -> Json | None:
        """The next message; None when the server closed the connection."""
        from websockets.frames import Frame, Opcode

        while not self._ready:
            data = self.sock.recv(65536)
            if not data:
                return None
            self._protocol.receive_data(data)
            for event in self._protocol.events_received():
                if isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.CONT):
                    self._fragments.append(bytes(event.data))
                    if event.fin:
                        self._ready.append(b"".join(self._fragments))
                        self._fragments = []
                elif isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
                    return None
        message: Json = json.loads(self._ready.pop(0))
        self.traffic.received(message)
        return message

    def rpc(self, method: str, params: Json | None = None) -> Json:
        self._next_id += 1
        self.send({"id": self._next_id, "method": method, "params": params or {}})
        answer = self.recv()
        assert answer is not None and answer.get("id") == self._next_id, answer
        return answer

    def close(self) -> None:
        self.sock.close()
