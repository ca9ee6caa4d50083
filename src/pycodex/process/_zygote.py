"""The zygote: one small single-threaded process that forks every command pycodex runs.

SELF-CONTAINED ON PURPOSE (stdlib only, never imports pycodex) and never run from a file:
`pycodex.process.zygote` starts ``python -I -S -c BOOTSTRAP FD`` with an empty environment
and writes, on its stdin, the sandbox shim's source and this file's source as pycodex read
them once; BOOTSTRAP runs both and calls ``main(shim, FD)`` (``shim``: the shim's globals).

Why it exists:
* Speed. A sandboxed command used to pay a Python start-up (~12 ms here, plus ctypes and
  compiling the shim) before its confinement even began. A fork of this warm interpreter
  (shim loaded, ctypes imported, ~10 MB) runs the very same shim code (`shim["main"]`)
  for the cost of a small fork. Forking pycodex itself (``preexec_fn``) would copy page
  tables that grow with pycodex's heap, and run Python after fork in a multi-threaded
  process.
* Nothing is orphaned. The zygote is every command's parent and a child subreaper, so
  whatever a command leaves behind is re-parented to it, not to init. When pycodex goes
  away, however it died (the control socket reaches EOF), the zygote SIGKILLs all its
  descendants, reaps them, removes the placeholders it held, and exits. Its direct children
  also carry PR_SET_PDEATHSIG(SIGKILL): that signal fires when the parent *thread* dies,
  and the zygote has a single thread, so it cannot fire early.

Protocol, over a SOCK_SEQPACKET unix socket pair (each request is one record, sent whole
or not at all, so pycodex threads and event loops may send concurrently without a lock):
* zygote -> pycodex once started: ``b"R"``;
* pycodex -> zygote, one record per command: struct ``=I`` length, then a marshal payload
  ``(mode, argv, env, cwd, ctty)``, with SCM_RIGHTS fds ``[stdin, stdout, stderr,
  status_w, error_w]``. mode ``exec``: exec argv as given; mode ``shim``: argv are the
  shim's arguments, the shim runs in the child;
* the replies go on the request's own status pipe, so pycodex waits for them on its event
  loop, never on the shared socket: the zygote writes struct ``=q``, the child's pid (or
  -errno when fork failed, then closes it), and later the raw wait status, struct ``=i``,
  when it reaps the child;
* the child writes struct ``=ii`` (errno, stage) on error_w when it cannot start the command
  (stages below), as subprocess does through its error pipe; error_w closes at exec.
A malformed record is dropped with its fds: pycodex sees its status pipe close unanswered.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # (no stubs)
import contextlib
import ctypes
import errno
import fcntl
import gc
import marshal
import os
import select
import signal
import socket
import struct
import termios
import time
import warnings  # noqa: F401  (os.execvpe imports it: once here, not in every child)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: the zygote does not pay for importing typing
    from collections.abc import Callable
    from typing import Any

    Shim = dict[str, Any]
    Children = dict[int, tuple[int, list[tuple[str, int]]]]

STAGE_CWD = 0
STAGE_EXEC = 1
STAGE_SETUP = 2
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36
N_FDS = 5
# Signals the zygote ignores or handles that a command must get back at their defaults
# (exec resets handled ones by itself, ignored ones are inherited).
RESET_SIGNALS = tuple(int(s) for s in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ,
                                        signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP))
SHUTDOWN_DEADLINE_S = 10.0
_HEADER = struct.Struct("=I")
_REPLY = struct.Struct("=q")
_ERROR = struct.Struct("=ii")
_STATUS = struct.Struct("=i")


class _Stop:
    requested = False


def _on_stop(signum: int, frame: object) -> None:
    _Stop.requested = True


def _noop(signum: int, frame: object) -> None:
    pass  # SIGCHLD: the wakeup fd wakes the loop, which reaps


# --- a child: prepared, then becomes one command ---------------------------------------------


def _report(error_w: int, err: int | None, stage: int) -> None:
    try:
        os.write(error_w, _ERROR.pack(err or errno.EINVAL, stage))
    finally:
        os._exit(255)


def _prepare(shim: Shim, zygote_pid: int, keep: list[int]) -> None:
    """Right after fork: the process state every command gets, whatever it is. Closes every
    fd but stdio and `keep`: a copy of the zygote's (its socket, other commands' status
    pipes, placeholder locks) would keep them open."""
    gc.disable()  # a collection would touch, so copy, the whole inherited heap
    # _signal, not signal: the latter's enum conversions cost ~1 ms of page faults in a
    # fresh fork.
    _signal.set_wakeup_fd(-1)
    for sig in RESET_SIGNALS:
        _signal.signal(sig, _signal.SIG_DFL)
    _signal.pthread_sigmask(_signal.SIG_SETMASK, ())
    os.setsid()  # its own session and process group, as start_new_session=True
    shim["prctl"](PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != zygote_pid:
        os._exit(255)  # the zygote died before PDEATHSIG was set
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 30)


def _become(shim: Shim, job: tuple[Any, ...], fds: list[int]) -> None:
    """In a prepared child: take the command's fds and cwd, then confine (mode "shim") and
    exec it. Never returns. `job`: (request, parsed shim options and command or None, the
    failure to report instead of running anything or None)."""
    request, parsed, failure = job
    _, argv, env, cwd, ctty = request
    # Move the fds out of the way first: a received fd may be numbered 0-3.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds]
    for target in (0, 1, 2):
        os.dup2(high[target], target)
    error_w = 3
    os.dup2(high[4], error_w, inheritable=False)
    os.closerange(error_w + 1, 1 << 30)
    if ctty:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    try:
        os.chdir(cwd)
    except OSError as exc:
        _report(error_w, exc.errno, STAGE_CWD)
    if failure is not None:
        os.write(2, ("pycodex-sandbox: " + failure + "\n").encode())
        os._exit(shim["SETUP_FAILED"])
    if parsed is not None:
        shim["run"](parsed[0], parsed[1], env, True)  # confines, execs; never returns
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        _report(error_w, exc.errno, STAGE_EXEC)


def _guarded(body: Callable[[], None]) -> None:
    """Run a child's `body`; whatever happens, never fall back into the zygote's loop."""
    try:
        body()
    except BaseException as exc:
        with contextlib.suppress(BaseException):
            _report(3, getattr(exc, "errno", None) or errno.EINVAL, STAGE_SETUP)
    finally:
        os._exit(255)


def _spare_main(shim: Shim, zygote_pid: int, sock: socket.socket) -> None:
    """A child forked ahead of time: prepared while idle, it waits for the next command."""
    _prepare(shim, zygote_pid, [sock.fileno()])
    frame = _recv_frame(sock, N_FDS)
    if frame is None:
        os._exit(0)  # the zygote is shutting down
    body, fds = frame
    request, options, command, failure = marshal.loads(body)
    parsed = None
    if options is not None:
        opts = shim["Options"]()
        opts.__dict__.update(options)
        parsed = (opts, command)
    _become(shim, (request, parsed, failure), fds)


# --- framing ---------------------------------------------------------------------------------


def _reply(status_w: int, value: int) -> None:
    # 8 bytes into an empty pipe never block. A pycodex that is gone cannot read it: its
    # socket's EOF is noticed next, and everything is killed then.
    with contextlib.suppress(OSError):
        os.write(status_w, _REPLY.pack(value))


def _recv_request(sock: socket.socket) -> tuple[bytes, list[int]] | None:
    """The next request record: (payload, fds), or None when it is malformed (dropped, its
    fds closed). Raises EOFError when pycodex is gone."""
    head = sock.recv(_HEADER.size, socket.MSG_PEEK)
    if not head:
        raise EOFError
    size = _HEADER.size + (_HEADER.unpack(head)[0] if len(head) == _HEADER.size else 0)
    data, fds, flags, _ = socket.recv_fds(sock, size, N_FDS)
    if (len(data) != size or size == _HEADER.size or len(fds) != N_FDS
            or flags & (socket.MSG_CTRUNC | socket.MSG_TRUNC)):
        for fd in fds:
            os.close(fd)
        return None
    return data[_HEADER.size:], fds


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _recv_frame(sock: socket.socket, n_fds: int) -> tuple[bytes, list[int]] | None:
    """A length-prefixed message whose first byte carries `n_fds` fds; None at EOF."""
    data, fds, flags, _ = socket.recv_fds(sock, _HEADER.size, n_fds)
    rest = b"" if len(data) == _HEADER.size else _recv_exact(sock, _HEADER.size - len(data))
    body = _recv_exact(sock, _HEADER.unpack(data + rest)[0]) if data and rest is not None else None
    if body is None or len(fds) != n_fds or flags & socket.MSG_CTRUNC:
        for fd in fds:
            os.close(fd)
        return None
    return body, fds


def _send_frame(sock: socket.socket, body: bytes, fds: list[int]) -> None:
    """Send a frame; raises OSError only if the peer cannot have received all of it.

    Once the last byte is out, the peer may act on it and close its end at once: nothing
    may be sent after that (``sendall(b"")`` still calls send(), which fails with EPIPE),
    or the caller would think the frame lost and start the command a second time.
    """
    message = _HEADER.pack(len(body)) + body
    sent = socket.send_fds(sock, [message], fds)
    if sent < len(message):
        sock.sendall(message[sent:])


def _decode(body: bytes) -> tuple[Any, ...]:
    mode, argv, env, cwd, ctty = marshal.loads(body)
    fsdecode = os.fsdecode  # UTF-8 + surrogateescape (-X utf8): the bytes come back intact
    return (mode, [fsdecode(a) for a in argv],
            {fsdecode(k): fsdecode(v) for k, v in env.items()}, fsdecode(cwd), bool(ctty))


# --- the server ------------------------------------------------------------------------------


class Zygote:
    def __init__(self, shim: Shim, sock: socket.socket, wake_r: int) -> None:
        self.shim = shim
        self.sock = sock
        self.wake_r = wake_r
        self.pid = os.getpid()
        self.children: Children = {}  # command pid -> (status_w, held placeholders)
        self.spare: tuple[int, socket.socket] | None = None

    def spawn(self, request: tuple[Any, ...], fds: list[int]) -> None:
        failure: str | None = None
        parsed = None
        held: list[tuple[str, int]] = []
        if request[0] == "shim":
            # Parsed here, not in the child (less work after fork), and the placeholders
            # held by this process, which outlives the command, so it can remove them.
            try:
                parsed = self.shim["parse"](list(request[1]))
                held = self.shim["acquire_placeholders"](parsed[0].placeholder)
            except Exception as exc:
                failure = str(exc.args[0]) if exc.args else type(exc).__name__
        try:
            pid = self._hand_over((request, parsed, failure), fds)
        except OSError as exc:
            self.shim["release_placeholders"](held)
            _reply(fds[3], -(exc.errno or errno.EAGAIN))
            for fd in fds:
                os.close(fd)
            return
        for fd in fds[:3] + fds[4:]:
            os.close(fd)
        self.children[pid] = (fds[3], held)
        _reply(fds[3], pid)
        self._fork_spare()  # after the reply: off the critical path of this command

    def _hand_over(self, job: tuple[Any, ...], fds: list[int]) -> int:
        """The pid of the child that becomes the command: the spare, else a fresh fork."""
        spare, self.spare = self.spare, None
        if spare is not None:
            pid, sock = spare
            request, parsed, failure = job
            options = (parsed[0].__dict__, parsed[1]) if parsed is not None else (None, None)
            try:
                _send_frame(sock, marshal.dumps((request, *options, failure)), fds)
                return pid
            except OSError:
                pass  # it died before it had the whole job (it exits at EOF): fork afresh
            finally:
                sock.close()
        pid = os.fork()
        if pid == 0:
            def child() -> None:
                _prepare(self.shim, self.pid, fds)
                _become(self.shim, job, fds)

            _guarded(child)
        return pid

    def _fork_spare(self) -> None:
        if self.spare is not None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            return  # no spare: the next command is forked when it comes
        if pid == 0:
            ours.close()
            _guarded(lambda: _spare_main(self.shim, self.pid, theirs))
        theirs.close()
        self.spare = (pid, ours)

    def reap(self) -> None:
        """Reap every exited child; report the status of commands to pycodex."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.spare is not None and self.spare[0] == pid:
                self.spare[1].close()
                self.spare = None
            entry = self.children.pop(pid, None)
            if entry is None:
                continue  # an orphan of some command, re-parented here
            status_w, held = entry
            # Placeholders first: once pycodex hears the command is done, they are gone.
            self.shim["release_placeholders"](held)
            with contextlib.suppress(OSError):  # pycodex is gone
                os.write(status_w, _STATUS.pack(status))
            os.close(status_w)

    def shutdown(self) -> None:
        """Kill every descendant (orphans included: they were re-parented here), reap them
        all, release the placeholders; bounded, so a process stuck in the kernel cannot
        hold us."""
        deadline = time.monotonic() + SHUTDOWN_DEADLINE_S
        if self.spare is not None:
            with contextlib.suppress(OSError):
                os.kill(self.spare[0], signal.SIGKILL)
        while time.monotonic() < deadline:
            for pid in self.children:  # their groups too, should /proc be unreadable
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
            self.reap()
            if not _has_children():
                break  # nothing below us at all: orphans are re-parented to us, so none
            for pid in _descendants(self.pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            # Wait for a SIGCHLD (wakeup fd), never longer than a moment: orphans arrive
            # when their parents die, and are found by the next scan.
            select.select([self.wake_r], [], [], 0.05)
            _drain(self.wake_r)
        for status_w, held in self.children.values():
            os.close(status_w)
            self.shim["release_placeholders"](held)
        self.children.clear()


def _has_children() -> bool:
    """Whether any child (running or a zombie) is left, reaping none of them."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open("/proc/" + name + "/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1 and fields[0] != b"Z":
            parents.setdefault(int(fields[1]), []).append(int(name))
    found = []
    todo = [root]
    while todo:
        for pid in parents.get(todo.pop(), ()):
            found.append(pid)
            todo.append(pid)
    return found


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass


def main(shim: Shim, sock_fd: int) -> None:
    sock = socket.socket(fileno=sock_fd)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)  # stdin was the pipe that carried the sources
    os.close(devnull)
    os.chdir("/")  # hold no directory of the user's busy
    shim["prctl"](PR_SET_CHILD_SUBREAPER, 1)
    name = ctypes.create_string_buffer(b"pycodex-zygote")  # what ps and top show
    shim["prctl"](PR_SET_NAME, ctypes.addressof(name))
    shim["warm"]()
    gc.freeze()  # what exists now is never collected, so never written to after a fork
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, _noop)
    signal.signal(signal.SIGTERM, _on_stop)
    signal.signal(signal.SIGHUP, _on_stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    zygote = Zygote(shim, sock, wake_r)
    zygote._fork_spare()
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    sock.sendall(b"R")
    while not _Stop.requested:
        ready = dict(poller.poll())
        _drain(wake_r)
        zygote.reap()
        if sock.fileno() in ready:
            try:
                frame = _recv_request(sock)
            except (EOFError, ConnectionError):
                break  # pycodex is gone
            if frame is not None:
                zygote.spawn(_decode(frame[0]), frame[1])
    zygote.shutdown()
    os._exit(0)
