"""Run one command to completion: its own process group, bounded capture, timeout, cancel.

Every command the model asks for runs here. Invariants:
- the command leads a new process group, so a timeout or an interrupt kills everything
  it started (`make` and its compilers, `npm test` and its workers), not just the leader;
- nothing is left behind: on any exit path (normal, timeout, cancellation) the group is
  killed if still alive and the leader is reaped; and when pycodex itself dies, even by
  SIGKILL, the process zygote that forked the command kills it (`pycodex.process.zygote`);
- memory is bounded however much the command prints (head + tail kept);
- the command's group is recorded, with its turn, in the `ProcessGroups` of the thread
  that started it (`pycodex.process.groups`) while it runs, so that interrupting that
  turn or closing that thread kills it, and stopping another thread never does.

Commands are forked by the zygote when it is available (Linux), else spawned directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pycodex.process import zygote
from pycodex.process.groups import UNOWNED, ProcessGroups, kill_group
from pycodex.process.groups import (  # the exit safety net, still importable from here
    kill_all_process_groups as kill_all_process_groups,
)
from pycodex.process.truncation import HeadTailBuffer
from pycodex.process.zygote import ZygoteChild, ZygoteError

# Per stream. The model sees far less (see tools), this only bounds memory.
DEFAULT_CAPTURE_BYTES = 1024 * 1024
# After the leader exits, how long to keep reading output from children that inherited
# its pipes (`cmd &`) before giving up on them.
PIPE_DRAIN_GRACE_S = 0.25
READ_CHUNK = 64 * 1024

OutputCallback = Callable[[str, bytes], None]  # (stream name "stdout"|"stderr", chunk)
# A started command: a child of the zygote, or of pycodex when spawned directly.
ChildProcess = asyncio.subprocess.Process | ZygoteChild


@dataclass(frozen=True)
class ExecRequest:
    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    timeout_s: float | None = None
    capture_bytes: int = DEFAULT_CAPTURE_BYTES


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: str
    stderr: str
    aggregated: str  # stdout and stderr interleaved in arrival order
    duration_s: float
    timed_out: bool
    output_bytes: int  # everything the command printed, kept or not
    # A process session (`exec_command`) that was still running when the call returned:
    # no exit status yet, so nothing to judge (e.g. sandbox denial) from.
    still_running: bool = False


class SpawnError(Exception):
    """The command could not be started (missing program, bad cwd, permission)."""


async def run_command(
    request: ExecRequest,
    on_output: OutputCallback | None = None,
    *,
    groups: ProcessGroups | None = None,
    turn_id: str = "",
) -> ExecResult:
    """Run `request.argv`; raises SpawnError if it cannot start, CancelledError if cancelled.

    While it runs, its process group is recorded in `groups` (the starting thread's; None:
    nobody's but the exit safety net's) under `turn_id`. On cancellation the whole process
    group is killed and reaped before re-raising.
    """
    owner = groups if groups is not None else UNOWNED
    cap = request.capture_bytes
    stdout_buf = HeadTailBuffer(cap // 2, cap // 2)
    stderr_buf = HeadTailBuffer(cap // 2, cap // 2)
    aggregated = HeadTailBuffer(cap // 2, cap // 2)
    start = time.monotonic()
    try:
        proc, streams, transports = await _start(request)
    except FileNotFoundError as exc:
        missing = exc.filename or request.argv[0]
        if not request.cwd.is_dir():
            raise SpawnError(f"working directory does not exist: {request.cwd}") from exc
        raise SpawnError(f"command not found: {missing}") from exc
    except PermissionError as exc:
        raise SpawnError(f"permission denied: {exc.filename or request.argv[0]}") from exc
    except OSError as exc:
        raise SpawnError(f"failed to start {request.argv[0]}: {exc.strerror}") from exc

    owner.add(proc.pid, turn_id)

    async def pump(stream: asyncio.StreamReader | None, name: str, buf: HeadTailBuffer) -> None:
        if stream is None:
            return
        while chunk := await stream.read(READ_CHUNK):
            buf.write(chunk)
            aggregated.write(chunk)
            if on_output is not None:
                on_output(name, chunk)

    readers = [
        asyncio.ensure_future(pump(streams[0], "stdout", stdout_buf)),
        asyncio.ensure_future(pump(streams[1], "stderr", stderr_buf)),
    ]
    timed_out = False
    try:
        try:
            await asyncio.wait_for(wait_for_exit(proc), timeout=request.timeout_s)
        except TimeoutError:
            timed_out = True
            kill_group(proc.pid)
            await wait_for_exit(proc)
        # Children may still hold the pipes open; give them a moment, then cut them off.
        _done, pending = await asyncio.wait(readers, timeout=PIPE_DRAIN_GRACE_S)
        if pending:
            kill_group(proc.pid)
            await asyncio.wait(pending, timeout=PIPE_DRAIN_GRACE_S)
    finally:
        # Covers cancellation (Ctrl-C, turn interrupt) as well as the normal path.
        if proc.returncode is None:
            kill_group(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                await asyncio.shield(wait_for_exit(proc))
        kill_group(proc.pid)
        owner.discard(proc.pid)
        for task in readers:
            task.cancel()
        for task in readers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for transport in transports:
            transport.close()

    returncode = proc.returncode if proc.returncode is not None else -signal.SIGKILL
    # Shell convention: death by signal N is reported as 128 + N.
    exit_code = 128 - returncode if returncode < 0 else returncode
    return ExecResult(
        exit_code=exit_code,
        stdout=stdout_buf.render(),
        stderr=stderr_buf.render(),
        aggregated=aggregated.render(),
        duration_s=time.monotonic() - start,
        timed_out=timed_out,
        output_bytes=stdout_buf.total + stderr_buf.total,
    )


Streams = tuple[asyncio.StreamReader | None, asyncio.StreamReader | None]


async def _start(request: ExecRequest) -> tuple[ChildProcess, Streams, list[asyncio.BaseTransport]]:
    """The command started with stdin on /dev/null and stdout/stderr on pipes, its output
    streams, and the transports to close when done. Raises OSError as subprocess does."""
    if await zygote.usable():  # started in a worker thread the first time
        with contextlib.suppress(ZygoteError):  # it just stopped answering: spawn directly
            return await _start_in_zygote(request)
    proc = await asyncio.create_subprocess_exec(
        *request.argv,
        cwd=str(request.cwd),
        env=dict(request.env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    return proc, (proc.stdout, proc.stderr), []


async def _start_in_zygote(
    request: ExecRequest,
) -> tuple[ChildProcess, Streams, list[asyncio.BaseTransport]]:
    loop = asyncio.get_running_loop()
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    try:
        child = await zygote.spawn(request.argv, cwd=request.cwd, env=request.env, stdin=None,
                                   stdout=out_w, stderr=err_w)
    except BaseException:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    streams: list[asyncio.StreamReader] = []
    transports: list[asyncio.BaseTransport] = []
    # Each pipe is owned by its file object from here on, and closed only through it: a
    # transport cancelled half-way closes it too (later, from a callback), and a raw
    # os.close meanwhile would let that second close hit whatever took the number.
    files = [_pipe_file(out_r), _pipe_file(err_r)]
    try:
        for file in files:
            reader = asyncio.StreamReader(loop=loop)
            protocol = functools.partial(asyncio.StreamReaderProtocol, reader, loop=loop)
            transport, _ = await loop.connect_read_pipe(protocol, file)
            streams.append(reader)
            transports.append(transport)
    except BaseException:
        # Cancelled (an interrupt) after the command started but before anyone waits for
        # it: it must not run on unobserved.
        kill_group(child.pid)
        with contextlib.suppress(OSError):
            os.kill(child.pid, signal.SIGKILL)
        for opened in transports:
            opened.close()
        for file in files:
            file.close()  # idempotent: a transport's own close of it later does nothing
        raise
    return child, (streams[0], streams[1]), transports


def _pipe_file(fd: int) -> io.FileIO:
    return io.FileIO(fd, "rb")  # owned, and closed, by the read transport


async def wait_for_exit(proc: ChildProcess) -> int:
    """Wait until the process itself has exited.

    `Process.wait()` also waits for its pipes to close, which never happens while a
    backgrounded grandchild (`server &`) holds them; we must notice the leader's exit on
    its own. A pidfd becomes readable at exit without reaping (asyncio's child watcher
    still reaps and sets `returncode`); where pidfds are unavailable, poll.
    """
    if isinstance(proc, ZygoteChild):
        return await proc.wait()  # the zygote reports the exit status once it reaped it
    loop = asyncio.get_running_loop()
    if proc.returncode is None:
        pidfd = -1
        with contextlib.suppress(AttributeError, OSError):
            pidfd = os.pidfd_open(proc.pid)
        if pidfd >= 0:
            exited: asyncio.Future[None] = loop.create_future()

            def _on_exit() -> None:
                if not exited.done():
                    exited.set_result(None)

            loop.add_reader(pidfd, _on_exit)
            try:
                await exited
            finally:
                loop.remove_reader(pidfd)
                os.close(pidfd)
    # The watcher sets returncode a moment after the exit becomes visible.
    while proc.returncode is None:  # noqa: ASYNC110 - no event to wait on: the watcher sets it
        await asyncio.sleep(0.002)
    return proc.returncode
