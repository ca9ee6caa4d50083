"""pycodex's side of the zygote (`pycodex.process._zygote`): the process that forks commands.

`spawn(argv, ...)` starts a command the way ``asyncio.create_subprocess_exec(...,
start_new_session=True)`` would, except that its parent is the zygote, so

* a sandbox shim invocation (``PYTHON -I -S .../sandbox/_shim.py ARGS -- CMD``, as
  `pycodex.sandbox.launcher` builds it) runs the shim's own code in a fork of the warm
  zygote instead of starting an interpreter: same confinement, same exit codes, no
  start-up cost;
* nothing the command starts outlives pycodex, even after ``kill -9`` (see `_zygote`).

The zygote is started lazily, once per pycodex process, with an empty environment (its
``/proc/PID/environ`` leaks no secret; commands get the environment they are given).
``PYCODEX_ZYGOTE=off`` turns it off (commands are then spawned directly, unprotected).
Thread-safe and loop-friendly: a request is one SOCK_SEQPACKET record (atomic, so threads
and event loops send concurrently without a lock, each with one non-blocking sendmsg); its
answers come on that request's own pipes, which the requesting event loop watches.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import errno
import functools
import hashlib
import logging
import marshal
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

__all__ = [
    "ENV_SWITCH",
    "ZygoteChild",
    "ZygoteError",
    "ZygoteRefused",
    "available",
    "shutdown",
    "spawn",
    "usable",
    "zygote_pid",
]

log = logging.getLogger(__name__)

ENV_SWITCH = "PYCODEX_ZYGOTE"
START_TIMEOUT_S = 10.0
REPLY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
# What the request socket may buffer: a request is one record, which must fit.
SEND_BUFFER_BYTES = 4 * 1024 * 1024
SHIM_PATH = Path(__file__).resolve().parents[1] / "sandbox" / "_shim.py"
SERVER_PATH = Path(__file__).resolve().with_name("_zygote.py")
# Runs the two sources read by pycodex (stdin), never files a command could have edited.
BOOTSTRAP = (
    "import sys\n"
    "shim_source, zygote_source = sys.stdin.buffer.read().split(b'\\0', 1)\n"
    "shim = {'__name__': 'pycodex_sandbox_shim'}\n"
    "exec(compile(shim_source, 'pycodex-sandbox-shim', 'exec'), shim)\n"
    "zygote = {'__name__': 'pycodex_zygote'}\n"
    "exec(compile(zygote_source, 'pycodex-zygote', 'exec'), zygote)\n"
    "zygote['main'](shim, int(sys.argv[1]))\n"
)
_HEADER = struct.Struct("=I")
_REPLY = struct.Struct("=q")
_ERROR = struct.Struct("=ii")
_STATUS = struct.Struct("=i")
_STAGE_CWD = 0


class ZygoteError(Exception):
    """The zygote cannot be started or stopped answering; spawn directly instead."""


@functools.cache
def _sources() -> bytes:
    # Read once per process, before the first command runs (the zygote starts at the
    # first spawn), like the launcher's copy of the shim: a sandboxed command that can
    # write into an editable install cannot change what runs unconfined later.
    return SHIM_PATH.read_bytes() + b"\0" + SERVER_PATH.read_bytes()


class ZygoteRefused(ZygoteError):
    """This one request cannot go through the zygote (too large a record); the zygote
    itself is fine and keeps running the other commands."""


class Zygote:
    def __init__(self, python: str) -> None:
        self.python = python
        self._lock = threading.Lock()  # guards `_sock` against a concurrent close
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        # False between `launch` and the ready byte.
        self._ready = True
        # Whether a request was ever sent: a zygote that never started a command has
        # nothing to clean up, and is not waited for at exit.
        self._used = False

    @property
    def broken(self) -> bool:
        return self._sock is None

    @property
    def ready(self) -> bool:
        return self._ready and self._sock is not None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process and hand it its sources; returns without waiting for it."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # A record must fit in the send buffer: room for a large environment (the kernel
        # caps this at net.core.wmem_max; larger requests are spawned directly).
        with contextlib.suppress(OSError):
            ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        try:
            proc = subprocess.Popen(
                [self.python, "-I", "-S", "-X", "utf8", "-c", BOOTSTRAP, str(theirs.fileno())],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), cwd="/", env={}, start_new_session=True)
        except OSError as exc:
            ours.close()
            raise ZygoteError(f"cannot start {self.python}: {exc.strerror}") from exc
        finally:
            theirs.close()
        self._proc, self._sock = proc, ours
        try:
            assert proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.write(_sources())
            proc.stdin.close()
        except OSError as exc:
            self.close()
            raise ZygoteError(f"the zygote did not start: {exc}") from exc
        self._ready = False

    def wait_ready(self) -> None:
        """Wait for the launched zygote's ready byte (at once when it already came).
        Blocking: call it from a worker thread when on an event loop (`_usable`)."""
        if self._ready:
            return
        ours, proc = self._sock, self._proc
        if ours is None or proc is None:
            raise ZygoteError("the zygote is stopped")
        try:
            ours.settimeout(START_TIMEOUT_S)
            if ours.recv(1) != b"R":
                raise ZygoteError(f"the zygote exited at start (status {proc.poll()})")
        except (OSError, ZygoteError) as exc:
            self.close()
            raise ZygoteError(f"the zygote did not start: {exc}") from exc
        # From now on pycodex only sends, never waits on this socket: non-blocking.
        ours.setblocking(False)
        self._ready = True

    def send(self, message: bytes, fds: Sequence[int]) -> bool:
        """Try to send one request record without blocking: True when sent (whole), False
        when the socket's buffer is full (nothing was sent; try `send_blocking`). Raises
        ZygoteRefused when the record can never fit, ZygoteError when the zygote is gone;
        in both cases nothing was sent."""
        sock = self._sock
        if sock is None:
            raise ZygoteError("the zygote is stopped")
        self._used = True
        try:
            sock.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                      struct.pack(f"{len(fds)}i", *fds))])
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno == errno.EMSGSIZE:
                raise ZygoteRefused(f"the request is too large ({len(message)} bytes)") from exc
            raise ZygoteError(f"lost the zygote: {exc}") from exc
        return True

    def send_blocking(self, message: bytes, fds: Sequence[int]) -> None:
        """`send`, waiting up to REPLY_TIMEOUT_S for room (for a worker thread)."""
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while not self.send(message, fds):
            sock = self._sock
            left = deadline - time.monotonic()
            if sock is None or left <= 0:
                raise ZygoteError("the zygote stopped reading requests")
            with contextlib.suppress(OSError, ValueError):  # closed meanwhile: send says
                select.select([], [sock], [], left)

    def close(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Close the socket: the zygote kills what is left of the commands and exits."""
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        if self._proc is not None and not self._used:
            # Never ran a command (prestarted for a turn that needed none): stop it without
            # waiting for it to finish starting up, which would delay pycodex's exit.
            with contextlib.suppress(OSError):
                self._proc.kill()
            return
        if self._proc is not None:
            _wait_exit(self._proc, timeout)

    def forget_after_fork(self) -> None:
        # A forked copy of pycodex must not keep the zygote's socket open: the zygote
        # would not notice pycodex's death until the copy died too.
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None
        self._proc = None


def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for `proc` to exit (killing it after `timeout`), woken the moment it does:
    `Popen.wait(timeout)` polls with growing sleeps, which adds up to its last sleep
    (several milliseconds) to every pycodex exit that stops a zygote."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        pidfd = None  # an older kernel (or the process is reaped already): poll
    try:
        if pidfd is not None:
            select.select([pidfd], [], [], timeout)
        proc.wait(0 if pidfd is not None else timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    finally:
        if pidfd is not None:
            os.close(pidfd)


_instance_lock = threading.Lock()
_instance: Zygote | None = None
_unavailable: str | None = None


def _switched_off() -> bool:
    return os.environ.get(ENV_SWITCH, "").lower() in ("0", "off", "no", "false")


def _get() -> Zygote | None:
    """The process's zygote, started on first use; None when off or it cannot start.
    Blocking (it may start the zygote, or wait for its ready byte): on an event loop,
    use `_usable`."""
    global _instance, _unavailable
    if _switched_off():
        return None
    with _instance_lock:
        if _instance is not None:
            try:
                _instance.wait_ready()  # launched early by `prestart`
            except ZygoteError as exc:
                _instance, _unavailable = None, str(exc)
                log.warning("commands are spawned directly (they may outlive pycodex): %s", exc)
            return _instance
        if _unavailable is not None or sys.platform != "linux":
            return None
        zygote = Zygote(os.path.realpath(sys.executable))
        try:
            zygote.start()
        except ZygoteError as exc:
            _unavailable = str(exc)
            log.warning("commands are spawned directly (they may outlive pycodex): %s", exc)
            return None
        _instance = zygote
        return zygote


def prestart() -> None:
    """Launch the zygote now, without waiting for it: a run that will probably spawn
    commands (`exec`) overlaps its start-up (~50-100 ms) with loading the engine, on the
    other core, instead of paying it at the first command."""
    global _instance
    if _switched_off():
        return
    with _instance_lock:
        if _instance is not None or _unavailable is not None or sys.platform != "linux":
            return
        zygote = Zygote(os.path.realpath(sys.executable))
        try:
            zygote.launch()
        except ZygoteError:
            return  # `_get` tries again, and reports it, when a command needs it
        _instance = zygote


def _drop(zygote: Zygote, reason: str) -> None:
    """Forget a zygote that stopped answering; the next spawn starts a new one. Its socket
    is closed now (it kills its commands and exits); it is reaped in a worker thread, so
    an event loop calling this never waits for it."""
    global _instance
    log.warning("restarting the process zygote: %s", reason)
    with _instance_lock:
        if _instance is zygote:
            _instance = None
    threading.Thread(target=zygote.close, args=(0.5,), name="pycodex-zygote-reaper",
                     daemon=True).start()


def available() -> bool:
    """Whether commands go through the zygote (starts it if needed). Blocking the first
    time: on an event loop, `await usable()`."""
    return _get() is not None


async def _usable() -> Zygote | None:
    """`_get` for an event loop: at once when the zygote is up (every command but the
    first), else started or waited for in a worker thread."""
    if _switched_off():
        return None
    zygote = _instance
    if zygote is not None and zygote.ready:
        return zygote
    if zygote is None and (_unavailable is not None or sys.platform != "linux"):
        return None
    return await asyncio.to_thread(_get)


async def usable() -> bool:
    """Whether commands go through the zygote, without blocking the event loop."""
    return await _usable() is not None


def zygote_pid() -> int | None:
    """The running zygote's pid (starts it if needed); None when commands spawn directly."""
    zygote = _get()
    return zygote.pid if zygote is not None else None


def shutdown() -> None:
    """Stop the zygote (it kills any command still running); the next spawn restarts it."""
    global _instance, _unavailable
    with _instance_lock:
        zygote, _instance, _unavailable = _instance, None, None
    if zygote is not None:
        zygote.close()


def _after_fork_in_child() -> None:
    global _instance
    if _instance is not None:
        _instance.forget_after_fork()
    _instance = None


atexit.register(shutdown)
os.register_at_fork(after_in_child=_after_fork_in_child)


# --- spawning --------------------------------------------------------------------------------


def _trusted_pythons() -> set[str]:
    base = getattr(sys, "_base_executable", sys.executable)
    return {os.path.realpath(sys.executable), os.path.realpath(base)}


@functools.cache
def _shim_files() -> set[str]:
    """The shim as the launcher runs it: its source file, or the bytecode compiled from the
    same source (named as `pycodex.sandbox.launcher.bytecode_path` names it)."""
    source = _sources().split(b"\0", 1)[0]
    digest = hashlib.sha256(source).hexdigest()[:16]
    bytecode = SHIM_PATH.parent / "__pycache__" / f"_shim.{digest}.{sys.implementation.cache_tag}.pyc"
    return {str(SHIM_PATH), str(bytecode)}


def _shim_args(argv: Sequence[str]) -> list[str] | None:
    """The shim's arguments when `argv` runs the installed shim; else None."""
    if (len(argv) > 4 and argv[1:3] == ["-I", "-S"] and argv[3] in _shim_files()
            and os.path.realpath(argv[0]) in _trusted_pythons()):
        return list(argv[4:])
    return None


def _payload(argv: Sequence[str], env: Mapping[str, str], cwd: Path, ctty: bool) -> bytes:
    shim = _shim_args(argv)
    mode, args = ("shim", shim) if shim is not None else ("exec", list(argv))
    # Bytes: the zygote decodes them as UTF-8 with surrogateescape (-X utf8), so exec
    # gets back exactly the bytes pycodex's own file system encoding makes of them. The
    # zygote's cwd is /, so a relative cwd is resolved here.
    return marshal.dumps((mode, [os.fsencode(a) for a in args],
                          {os.fsencode(k): os.fsencode(v) for k, v in env.items()},
                          os.fsencode(os.path.abspath(cwd)), ctty))


class ZygoteChild:
    """A command the zygote forked: the part of `asyncio.subprocess.Process` spawn uses."""

    def __init__(self, pid: int, status_fd: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._status_fd = status_fd
        self._waiter: asyncio.Future[bytes] | None = None

    async def wait(self) -> int:
        """Wait until the zygote reaped it; returncode as asyncio reports it (-N: signal N)."""
        if self.returncode is None:
            if self._waiter is None:
                self._waiter = asyncio.ensure_future(_read_up_to(self._status_fd,
                                                                 _STATUS.size))
            data = await asyncio.shield(self._waiter)
            if self.returncode is None:
                with contextlib.suppress(OSError):
                    os.close(self._status_fd)
                if len(data) >= _STATUS.size:
                    self.returncode = os.waitstatus_to_exitcode(_STATUS.unpack(data[:4])[0])
                else:
                    # The zygote died without reporting: PDEATHSIG has killed the command.
                    self.returncode = -signal.SIGKILL
        return self.returncode


async def _read_up_to(fd: int, size: int) -> bytes:
    """`size` bytes from the pipe `fd`, or fewer if it reaches EOF first. Not waiting for
    EOF once the message is complete: a process forked meanwhile may hold a copy of the
    other end for a moment."""
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)
    chunks: list[bytes] = []
    got = 0
    done: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        nonlocal got
        try:
            while got < size:
                chunk = os.read(fd, size - got)
                if not chunk:
                    break  # EOF
                chunks.append(chunk)
                got += len(chunk)
        except BlockingIOError:
            return  # the rest is still to come
        except OSError:
            pass
        if not done.done():
            done.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await done
    finally:
        loop.remove_reader(fd)
    return b"".join(chunks)


async def spawn(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdin: int | None,
    stdout: int,
    stderr: int,
    ctty: bool = False,
) -> ZygoteChild:
    """Start `argv` in a new session with the given fds (stdin None: /dev/null; `ctty`:
    stdin, a terminal, becomes its controlling terminal). Never blocks the event loop: the
    request is one non-blocking send, the replies come on pipes the loop watches.

    Raises OSError as subprocess would (missing program, bad cwd), ZygoteError when the
    zygote is off or unusable (the caller spawns directly). Cancelled at any point, it
    leaves no command running.
    """
    zygote = await _usable()
    if zygote is None:
        raise ZygoteError(_unavailable or "the zygote is off")
    payload = _payload(argv, env, cwd, ctty)
    status_r, status_w = os.pipe2(os.O_CLOEXEC)
    error_r, error_w = os.pipe2(os.O_CLOEXEC)
    devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC) if stdin is None else -1
    try:
        fds = [devnull if stdin is None else stdin, stdout, stderr, status_w, error_w]
        cancelled = await _send(zygote, _HEADER.pack(len(payload)) + payload, fds)
    except BaseException as exc:
        os.close(status_r)
        os.close(error_r)
        if isinstance(exc, ZygoteError) and not isinstance(exc, ZygoteRefused):
            _drop(zygote, str(exc))
        raise
    finally:
        for fd in (status_w, error_w, devnull):
            if fd >= 0:
                os.close(fd)
    # From here on the command may have started: never report "try elsewhere", which
    # could run it twice, and never leave it running unobserved.
    pid = await _started_pid(zygote, status_r, error_r, cancelled)
    child = ZygoteChild(pid, status_r)
    try:
        # EOF: the command was exec'd (or the shim ran); else why it could not start.
        error = await _read_up_to(error_r, _ERROR.size)
    except BaseException:
        # Cancelled while it starts: nobody will wait for it, so it must not run.
        _kill_started(pid)
        os.close(status_r)
        raise
    finally:
        os.close(error_r)
    if error:
        await child.wait()  # it exited right after reporting; reaped by the zygote
        err, stage = _ERROR.unpack(error[: _ERROR.size])
        raise OSError(err, os.strerror(err), str(cwd) if stage == _STAGE_CWD else argv[0])
    return child


async def _send(zygote: Zygote, message: bytes, fds: Sequence[int]) -> bool:
    """Send the request; whether the caller was cancelled meanwhile (then the command may
    start all the same, and must be killed once its pid is known)."""
    if zygote.send(message, fds):  # the usual case: one non-blocking sendmsg
        return False
    # The socket's buffer is full (the zygote is busy): wait for room in a worker thread,
    # and see that through even if cancelled, since the request may go out meanwhile.
    _, cancelled = await _see_through(asyncio.to_thread(zygote.send_blocking, message, fds))
    return cancelled


async def _started_pid(zygote: Zygote, status_r: int, error_r: int, cancelled: bool) -> int:
    """The pid of the command just requested, read from its status pipe. When the caller
    was (or gets) cancelled, the command is killed and CancelledError raised."""
    try:
        reply, late = await _see_through(
            asyncio.wait_for(_read_up_to(status_r, _REPLY.size), REPLY_TIMEOUT_S))
    except TimeoutError:
        reply, late = b"", False
    cancelled = cancelled or late
    pid = _REPLY.unpack(reply)[0] if len(reply) == _REPLY.size else None
    if pid is not None and pid > 0 and not cancelled:
        return int(pid)
    if pid is not None and pid > 0:
        _kill_started(pid)
    os.close(status_r)
    os.close(error_r)
    if pid is None:
        # It died or hung mid-request: dropped, it takes the commands it forked with it.
        _drop(zygote, "no answer to a spawn request")
    if cancelled:
        raise asyncio.CancelledError
    if pid is None:
        raise OSError(errno.EIO, "the process zygote exited while starting the command")
    raise OSError(-pid, os.strerror(-pid))


_T = TypeVar("_T")


async def _see_through(aw: Awaitable[_T]) -> tuple[_T, bool]:
    """Await `aw` to its end even if the caller is cancelled meanwhile; its result, and
    whether the caller was cancelled (it must then re-raise CancelledError)."""
    task = asyncio.ensure_future(aw)
    cancelled = False
    while True:
        try:
            return await asyncio.shield(task), cancelled
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            cancelled = True


def _kill_started(pid: int) -> None:
    # The group, and the pid itself in case it had not yet become a group leader.
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)
