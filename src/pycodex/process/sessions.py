"""Long-lived processes the model talks to across tool calls (`exec_command`/`write_stdin`).

A `ProcessSession` is one command started on a PTY (the child leads a new session with the
PTY as its controlling terminal, so `\\x03` interrupts it and programs see a terminal) or on
a pipe (stdout and stderr interleaved, stdin closed). It keeps running between tool calls;
each call collects what it printed since the last one. A `ProcessManager` holds a thread's
sessions: integer ids, at most `MAX_SESSIONS` open (the least recently used is pruned),
and the kill switches for an interrupted turn and for shutdown.

Invariants, as for one-shot commands (`pycodex.process.spawn`):
- the child leads its own process group, recorded with its turn in the thread's
  `ProcessGroups` (`pycodex.process.groups`); the group is SIGKILLed when the session ends
  for any reason;
- the leader is always reaped (asyncio's child watcher; exit noticed via pidfd);
- memory is bounded however much a process prints: unread output and the transcript are
  head + tail buffers, live deltas are capped.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import functools
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pycodex.process import zygote
from pycodex.process.groups import UNOWNED, ProcessGroups
from pycodex.process.spawn import ChildProcess, SpawnError, wait_for_exit
from pycodex.process.truncation import HeadTailBuffer
from pycodex.process.zygote import ZygoteError

MAX_SESSIONS = 16
# Unread output kept per session (head + tail); the model sees far less.
PENDING_CAP_BYTES = 1024 * 1024
TRANSCRIPT_CAP_BYTES = 1024 * 1024
READ_CHUNK = 64 * 1024
# After the leader exits, how long to wait for output still in flight before cutting off
# children that kept the terminal open.
DRAIN_GRACE_S = 0.25
# Live output: at most this many delta callbacks per second per session, each carrying at
# most DELTA_MAX_BYTES (the newest bytes win), and no more than DELTA_TOTAL_CAP_BYTES per
# session in all, so a flood cannot fill an event queue nobody drains.
DELTA_INTERVAL_S = 0.1
DELTA_MAX_BYTES = 64 * 1024
DELTA_TOTAL_CAP_BYTES = 4 * 1024 * 1024
# The terminal a PTY session gets.
TERMINAL_ROWS = 24
TERMINAL_COLS = 80

OutputCallback = Callable[[bytes], None]


@functools.cache
def _setsid_ctty() -> str | None:
    """`setsid` from util-linux when it can give the child a controlling terminal.

    Python's subprocess can start a new session but not acquire a controlling terminal
    without `preexec_fn` (unsafe with threads); `setsid --ctty` does both, then execs.
    """
    if sys.platform != "linux":
        return None
    path = shutil.which("setsid")
    if path is None:
        return None
    try:
        done = subprocess.run([path, "--help"], capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if b"--ctty" in done.stdout + done.stderr else None


def _set_winsize(fd: int, rows: int, cols: int) -> None:
    import termios

    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _set_nonblocking(fd: int) -> None:
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)


def _kill(pid: int) -> None:
    # The group first (everything it started); the pid itself too, in case the child had
    # not yet become a group leader (setsid runs a moment after the fork).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


class _DeltaCoalescer:
    """Batches output into at most one callback per `DELTA_INTERVAL_S`."""

    def __init__(self, callback: OutputCallback | None) -> None:
        self._callback = callback
        self._buf = bytearray()
        self._handle: asyncio.TimerHandle | None = None
        self._last = 0.0
        self.sent = 0

    def feed(self, data: bytes) -> None:
        if self._callback is None or self.sent >= DELTA_TOTAL_CAP_BYTES:
            return
        self._buf += data
        if len(self._buf) > DELTA_MAX_BYTES:
            del self._buf[: len(self._buf) - DELTA_MAX_BYTES]
        if self._handle is None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, self._last + DELTA_INTERVAL_S - loop.time())
            self._handle = loop.call_later(delay, self.flush)

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if not self._buf or self._callback is None:
            return
        data = bytes(self._buf[: max(0, DELTA_TOTAL_CAP_BYTES - self.sent)])
        self._buf.clear()
        self._last = asyncio.get_running_loop().time()
        if data:
            self.sent += len(data)
            self._callback(data)


@dataclass
class ProcessSession:
    """One running (or finished, not yet collected) process. Create with `start_session`."""

    id: int
    command: list[str]  # as shown to the user and the model
    cwd: Path
    tty: bool
    call_id: str
    turn_id: str
    proc: ChildProcess
    _fd: int
    started: float = field(default_factory=time.monotonic)
    last_used: float = field(default_factory=time.monotonic)
    exit_code: int | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    transcript: HeadTailBuffer = field(
        default_factory=lambda: HeadTailBuffer(TRANSCRIPT_CAP_BYTES // 2, TRANSCRIPT_CAP_BYTES // 2)
    )
    _pending: HeadTailBuffer = field(
        default_factory=lambda: HeadTailBuffer(PENDING_CAP_BYTES // 2, PENDING_CAP_BYTES // 2)
    )
    _eof: asyncio.Event = field(default_factory=asyncio.Event)
    _deltas: _DeltaCoalescer = field(default_factory=lambda: _DeltaCoalescer(None))
    _on_exit: Callable[[ProcessSession], None] | None = None
    _groups: ProcessGroups = UNOWNED  # where its group is recorded while it runs
    _watcher: asyncio.Task[None] | None = None
    _closed: bool = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    # --- output ----------------------------------------------------------------------

    def _on_readable(self) -> None:
        try:
            data = os.read(self._fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:
            # EIO: every holder of the PTY's other side is gone (Linux's EOF for PTYs).
            if exc.errno not in (errno.EIO, errno.EBADF):
                raise
            data = b""
        if not data:
            self._stop_reading()
            self._eof.set()
            return
        self._pending.write(data)
        self.transcript.write(data)
        self._deltas.feed(data)

    def _stop_reading(self) -> None:
        if not self._closed:
            asyncio.get_running_loop().remove_reader(self._fd)

    def take_output(self) -> tuple[str, int, int]:
        """Output printed since the last call (head + tail if it was huge), its size, and
        how many bytes of it the buffer dropped."""
        buf = self._pending
        self._pending = HeadTailBuffer(buf.head_cap, buf.tail_cap)
        return buf.render(), buf.total, buf.omitted

    async def wait(self, timeout_s: float) -> bool:
        """Wait until the process finished or `timeout_s` passed; True when finished."""
        if not self.done.is_set() and timeout_s > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), timeout_s)
        return self.done.is_set()

    # --- input -------------------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        """Send `data` to the process's terminal; raises OSError when it is gone."""
        if not self.tty:
            raise OSError(errno.EBADF, "stdin is closed")
        view = memoryview(data)
        while view:
            if self._closed:
                raise OSError(errno.EPIPE, "the process has exited")
            try:
                written = os.write(self._fd, view)
            except BlockingIOError:
                await asyncio.sleep(0.01)  # the terminal's input queue is full
                continue
            view = view[written:]

    # --- lifecycle -----------------------------------------------------------------------

    async def _watch(self) -> None:
        try:
            await wait_for_exit(self.proc)
            # What the process printed right before exiting may still be in flight.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._eof.wait(), DRAIN_GRACE_S)
        finally:
            await self._finish()

    async def _finish(self) -> None:
        _kill(self.pid)  # children that outlived the leader go with it
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                await asyncio.shield(wait_for_exit(self.proc))
        self._groups.discard(self.pid)  # reaped: its pid may name another process soon
        if not self._eof.is_set():
            # Read what is left without blocking, then stop.
            with contextlib.suppress(OSError):
                for _ in range(64):
                    if self._eof.is_set():
                        break
                    before = self._pending.total
                    self._on_readable()
                    if self._pending.total == before:
                        break
        self._stop_reading()
        self._closed = True
        with contextlib.suppress(OSError):
            os.close(self._fd)
        code = self.proc.returncode if self.proc.returncode is not None else -signal.SIGKILL
        self.exit_code = 128 - code if code < 0 else code
        self._deltas.flush()
        try:
            if self._on_exit is not None:
                self._on_exit(self)
        finally:
            self.done.set()

    async def terminate(self) -> None:
        """Kill the process group and wait until the session is finished and reaped."""
        if self.done.is_set():
            return
        _kill(self.pid)
        if self._watcher is not None:
            await asyncio.shield(self._watcher)


def _spawn_error(exc: OSError, cwd: Path, program: str) -> SpawnError:
    if isinstance(exc, FileNotFoundError):
        if not cwd.is_dir():
            return SpawnError(f"working directory does not exist: {cwd}")
        return SpawnError(f"command not found: {exc.filename or program}")
    if isinstance(exc, PermissionError):
        return SpawnError(f"permission denied: {exc.filename or program}")
    return SpawnError(f"failed to start {program}: {exc.strerror}")


async def start_session(
    *,
    session_id: int,
    argv: Sequence[str],
    display: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    tty: bool,
    call_id: str,
    turn_id: str,
    on_output: OutputCallback | None = None,
    on_exit: Callable[[ProcessSession], None] | None = None,
    groups: ProcessGroups | None = None,
) -> ProcessSession:
    """Start `argv`; raises SpawnError when it cannot start. The session runs until the
    process exits or `terminate()`; `on_exit` runs once, after its last output. Its group
    is recorded in `groups` (the thread's, `ProcessManager.groups`) under `turn_id`."""
    if tty:
        master, slave = os.openpty()
        _set_winsize(slave, TERMINAL_ROWS, TERMINAL_COLS)
        read_fd, child_in, child_out = master, slave, slave
    else:
        read_fd, child_out = os.pipe()
        child_in = subprocess.DEVNULL
    try:
        proc = await _start(argv, cwd, env, child_in, child_out, tty)
    except BaseException as exc:
        os.close(read_fd)
        os.close(child_out)
        if isinstance(exc, OSError):
            raise _spawn_error(exc, cwd, argv[0]) from exc
        raise
    os.close(child_out)
    owner = groups if groups is not None else UNOWNED
    owner.add(proc.pid, turn_id)
    _set_nonblocking(read_fd)
    session = ProcessSession(
        id=session_id, command=list(display), cwd=cwd, tty=tty, call_id=call_id,
        turn_id=turn_id, proc=proc, _fd=read_fd, _groups=owner,
    )
    session._deltas = _DeltaCoalescer(on_output)
    session._on_exit = on_exit
    asyncio.get_running_loop().add_reader(read_fd, session._on_readable)
    session._watcher = asyncio.create_task(session._watch(), name=f"process-session-{session_id}")
    return session


async def _start(argv: Sequence[str], cwd: Path, env: Mapping[str, str], child_in: int,
                 child_out: int, tty: bool) -> ChildProcess:
    """Start the session's process in a new session; on a PTY, the PTY becomes its
    controlling terminal. Through the zygote when available, else directly."""
    with contextlib.suppress(ZygoteError):  # off, unavailable, or just stopped answering
        return await zygote.spawn(argv, cwd=cwd, env=env,
                                  stdin=None if child_in == subprocess.DEVNULL else child_in,
                                  stdout=child_out, stderr=child_out, ctty=tty)
    spawn_argv = list(argv)
    new_session = True
    if tty and (setsid := _setsid_ctty()) is not None:
        spawn_argv = [setsid, "--ctty", "--", *spawn_argv]
        new_session = False  # setsid makes it a session leader itself
    return await asyncio.create_subprocess_exec(
        *spawn_argv,
        cwd=str(cwd),
        env=dict(env),
        stdin=child_in,
        stdout=child_out,
        stderr=child_out,
        start_new_session=new_session,
    )


class ProcessManager:
    """A thread's processes: its open process sessions, and the process groups of every
    command it started (sessions and one-shot `shell` commands alike), by turn."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.max_sessions = max_sessions
        # Pass to `run_command(groups=...)` / `start_session(groups=...)`.
        self.groups = ProcessGroups()
        self._sessions: dict[int, ProcessSession] = {}
        self._reserved: set[int] = set()
        # Pruned sessions still being torn down, so shutdown can wait for them too.
        self._dying: list[ProcessSession] = []

    def __len__(self) -> int:
        return len(self._sessions)

    def allocate_id(self) -> int:
        """A fresh id. Random rather than 1, 2, 3 so a stale id from an earlier
        conversation is unlikely to name a live session."""
        while True:
            candidate = random.randrange(1000, 100_000)
            if candidate not in self._sessions and candidate not in self._reserved:
                self._reserved.add(candidate)
                return candidate

    def release_id(self, session_id: int) -> None:
        self._reserved.discard(session_id)

    def get(self, session_id: int) -> ProcessSession | None:
        session = self._sessions.get(session_id)
        if session is not None:
            session.last_used = time.monotonic()
        return session

    def add(self, session: ProcessSession) -> ProcessSession | None:
        """Keep `session`; returns the session pruned to make room (already being killed)."""
        pruned: ProcessSession | None = None
        if len(self._sessions) >= self.max_sessions:
            # Finished ones first, then the least recently used.
            victim = min(self._sessions.values(), key=lambda s: (s.running, s.last_used))
            pruned = self._sessions.pop(victim.id)
            self._reserved.discard(victim.id)
            _kill(victim.pid)
            self._dying = [s for s in self._dying if s.running]
            self._dying.append(victim)
        self._sessions[session.id] = session
        return pruned

    def remove(self, session_id: int) -> None:
        self._sessions.pop(session_id, None)
        self._reserved.discard(session_id)

    def sessions(self) -> list[ProcessSession]:
        return list(self._sessions.values())

    async def terminate_started_in(self, turn_id: str) -> None:
        """Kill every process the turn `turn_id` started (an interrupted turn): its sessions,
        waited for until reaped, and its one-shot commands, which whoever runs them reaps
        (their `run_command` returns or is being cancelled with the turn)."""
        victims = [s for s in self._sessions.values() if s.turn_id == turn_id]
        for session in victims:
            self.remove(session.id)
        self.groups.kill_turn(turn_id)
        await asyncio.gather(*(s.terminate() for s in victims))

    async def terminate_all(self) -> None:
        """Kill every process of the thread (thread shutdown)."""
        victims = [*self._sessions.values(), *self._dying]
        self._sessions.clear()
        self._dying.clear()
        self._reserved.clear()
        self.groups.kill_all()
        await asyncio.gather(*(s.terminate() for s in victims))
