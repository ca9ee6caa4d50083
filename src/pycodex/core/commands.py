"""Commands a front end runs outside any thread (the app-server's `command/exec`).

`start_command` starts an argv under a sandbox policy, with stdout and stderr on pipes
(or one PTY), stdin on a pipe when asked for, as the leader of its own process group
(forked by the process zygote when there is one, so it dies with pycodex even after
`kill -9`). The caller owns the returned :class:`StartedCommand`: it reads the output,
writes the input, and must `close()` it, which kills the group and reaps the leader —
on every path, cancellation included.

The process layer and the sandbox are imported when a command starts, not before.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import io
import os
import struct
import termios
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pycodex.process.env import EnvPolicy
    from pycodex.process.spawn import ChildProcess
    from pycodex.protocol.policies import SandboxPolicy

DEFAULT_TERMINAL_SIZE = (24, 80)  # rows, cols


class CommandStartError(Exception):
    """The command was not started (no sandbox here, missing program, bad cwd)."""


class StdinClosed(Exception):
    """Input cannot be written: stdin was never opened, was closed, or the process ended."""


def command_env(
    policy: EnvPolicy, base: Mapping[str, str], overrides: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """The environment a command gets: `shell_environment_policy` applied to `base`, then
    `overrides` (a None value unsets the variable)."""
    from pycodex.process.env import build_command_env

    env = build_command_env(policy, base)
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@dataclass
class StartedCommand:
    """A running command. `stdout` carries the terminal's output under a PTY (`stderr` is
    then None). Call `close()` when done with it."""

    proc: ChildProcess
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader | None
    tty: bool
    _stdin: asyncio.WriteTransport | None = None
    _stdin_gate: asyncio.Event = field(default_factory=asyncio.Event)
    _terminal_fd: int = -1
    _transports: list[asyncio.BaseTransport] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def write(self, data: bytes) -> None:
        """Send `data` to the command's stdin (its terminal under a PTY)."""
        transport = self._stdin
        if transport is None or transport.is_closing():
            raise StdinClosed("stdin is already closed")
        transport.write(data)
        # A command that does not read must not make the writer's buffer grow without end.
        if transport.get_write_buffer_size() > 0:
            await self._stdin_gate.wait()

    def close_stdin(self) -> None:
        """End of input: EOF on the pipe; under a PTY, the terminal's end-of-file key."""
        transport, self._stdin = self._stdin, None
        if transport is None:
            return
        if self.tty:
            transport.write(b"\x04")
        transport.close()

    def resize(self, rows: int, cols: int) -> None:
        """Set the PTY's size (its foreground process gets SIGWINCH); OSError if gone."""
        if self._terminal_fd < 0:
            raise OSError("not a PTY")
        fcntl.ioctl(self._terminal_fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def kill(self) -> None:
        """SIGKILL the command's whole process group."""
        from pycodex.process.groups import kill_group

        kill_group(self.proc.pid)

    async def wait(self) -> int:
        """The exit code once the leader exited (a signal N is 128 + N, as shells say)."""
        from pycodex.process.spawn import wait_for_exit

        code = await wait_for_exit(self.proc)
        return 128 - code if code < 0 else code

    async def close(self) -> None:
        """Kill whatever of the group is left, reap the leader, release the pipes."""
        self.kill()
        with contextlib.suppress(ProcessLookupError):
            await asyncio.shield(self.wait())
        self.kill()  # the group's id is safe to signal until every member died
        from pycodex.process.groups import UNOWNED

        UNOWNED.discard(self.proc.pid)
        self._stdin = None
        for transport in self._transports:
            transport.close()
        if self._terminal_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._terminal_fd)
            self._terminal_fd = -1


async def start_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    sandbox: SandboxPolicy,
    stdin: bool = False,
    tty: bool = False,
    size: tuple[int, int] | None = None,
) -> StartedCommand:
    """Start `argv` under `sandbox`; raises CommandStartError when it cannot start."""
    from pycodex.sandbox.launcher import SandboxUnavailable, prepare_command

    if not argv:
        raise CommandStartError("command must not be empty")
    try:
        # A worker thread: the first sandboxed command probes the machine (seconds at worst).
        prepared = await asyncio.to_thread(prepare_command, list(argv), policy=sandbox, cwd=cwd, env=env)
    except SandboxUnavailable as exc:
        raise CommandStartError(str(exc)) from None
    if tty:
        return await _start_on_terminal(prepared.argv, cwd, prepared.env, size or DEFAULT_TERMINAL_SIZE)
    return await _start_on_pipes(prepared.argv, cwd, prepared.env, stdin)


async def _start_on_pipes(argv: list[str], cwd: Path, env: Mapping[str, str], stdin: bool) -> StartedCommand:
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    in_r, in_w = os.pipe2(os.O_CLOEXEC) if stdin else (-1, -1)
    try:
        proc = await _spawn(argv, cwd, env, in_r if stdin else None, out_w, err_w, ctty=False)
    except BaseException:
        for fd in (out_r, err_r, in_w):
            if fd >= 0:
                os.close(fd)
        raise
    finally:
        for fd in (out_w, err_w, in_r):
            if fd >= 0:
                os.close(fd)
    command = StartedCommand(proc=proc, stdout=asyncio.StreamReader(), stderr=None, tty=False)
    try:
        command.stdout = await _reader(command, out_r)
        command.stderr = await _reader(command, err_r)
        if stdin:
            await _writer(command, in_w)
    except BaseException:
        await command.close()
        raise
    return command


async def _start_on_terminal(
    argv: list[str], cwd: Path, env: Mapping[str, str], size: tuple[int, int]
) -> StartedCommand:
    master, slave = os.openpty()
    os.set_inheritable(master, False)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    try:
        proc = await _spawn(argv, cwd, env, slave, slave, slave, ctty=True)
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    command = StartedCommand(proc=proc, stdout=asyncio.StreamReader(), stderr=None, tty=True)
    command._terminal_fd = master
    try:
        command.stdout = await _reader(command, os.dup(master))
        await _writer(command, os.dup(master))
    except BaseException:
        await command.close()
        raise
    return command


async def _spawn(
    argv: list[str], cwd: Path, env: Mapping[str, str], stdin: int | None, stdout: int, stderr: int,
    *, ctty: bool,
) -> ChildProcess:
    """The command forked by the zygote when it can, else spawned directly; recorded for
    the exit safety net while it runs."""
    from pycodex.process import zygote
    from pycodex.process.groups import UNOWNED

    proc: ChildProcess | None = None
    try:
        with contextlib.suppress(zygote.ZygoteError):
            proc = await zygote.spawn(argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout,
                                      stderr=stderr, ctty=ctty)
        if proc is None:
            proc = await _spawn_directly(argv, cwd, env, stdin, stdout, stderr, ctty=ctty)
    except OSError as exc:
        raise CommandStartError(_start_failure(exc, cwd, argv[0])) from None
    UNOWNED.add(proc.pid, "")
    return proc


async def _spawn_directly(
    argv: list[str], cwd: Path, env: Mapping[str, str], stdin: int | None, stdout: int, stderr: int,
    *, ctty: bool,
) -> ChildProcess:
    setsid = _setsid_ctty() if ctty else None
    spawn_argv = [setsid, "--ctty", "--", *argv] if setsid else argv
    return await asyncio.create_subprocess_exec(
        *spawn_argv, cwd=str(cwd), env=dict(env),
        stdin=stdin if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=stdout, stderr=stderr, start_new_session=setsid is None,
    )


@functools.cache
def _setsid_ctty() -> str | None:
    from pycodex.process.sessions import _setsid_ctty as find

    return find()


def _start_failure(exc: OSError, cwd: Path, program: str) -> str:
    if isinstance(exc, FileNotFoundError):
        if not cwd.is_dir():
            return f"working directory does not exist: {cwd}"
        return f"command not found: {exc.filename or program}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or program}"
    return f"failed to start {program}: {exc.strerror}"


async def _reader(command: StartedCommand, fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    file = io.FileIO(fd, "rb")  # owned, and closed, by the transport
    try:
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), file)
    except BaseException:
        file.close()
        raise
    command._transports.append(transport)
    return reader


class _StdinProtocol(asyncio.BaseProtocol):
    """Opens `gate` whenever the pipe can take more input."""

    def __init__(self, gate: asyncio.Event) -> None:
        self._gate = gate
        gate.set()

    def pause_writing(self) -> None:
        self._gate.clear()

    def resume_writing(self) -> None:
        self._gate.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._gate.set()


async def _writer(command: StartedCommand, fd: int) -> None:
    loop = asyncio.get_running_loop()
    file = io.FileIO(fd, "wb")
    try:
        transport, _ = await loop.connect_write_pipe(lambda: _StdinProtocol(command._stdin_gate), file)
    except BaseException:
        file.close()
        raise
    command._stdin = transport
    command._transports.append(transport)
