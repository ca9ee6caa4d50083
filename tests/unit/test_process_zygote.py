"""The process zygote (`pycodex.process.zygote`): what a command it forks gets, and that
nothing a command starts outlives pycodex, even when pycodex is killed with SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import termios
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pycodex.process import _zygote, zygote
from pycodex.process.spawn import ExecRequest, run_command
from tests.support.orphans import Adopter, adopt_orphans, alive, exists, wait_until

PYTHON = os.path.realpath(sys.executable)

PROBE = textwrap.dedent("""
    import json, os
    def is_open(fd):
        try:
            os.fstat(fd)
        except OSError:
            return False
        return True
    print(json.dumps({
        "pid": os.getpid(), "ppid": os.getppid(), "pgid": os.getpgid(0), "sid": os.getsid(0),
        "fds": [fd for fd in range(256) if is_open(fd)], "env": dict(os.environ),
        "cwd": os.getcwd(),
    }))
""")


@pytest.fixture
def adopter() -> Iterator[Adopter]:
    with adopt_orphans() as adopter:
        yield adopter


@pytest.fixture(autouse=True)
def _zygote_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(zygote.ENV_SWITCH, raising=False)
    if not zygote.available():
        pytest.skip("the process zygote cannot start here (not Linux?)")


async def test_command_gets_a_clean_process_state(tmp_path: Path) -> None:
    # A zygote started while pycodex blocks a signal: its commands still block none.
    zygote.shutdown()
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    try:
        assert zygote.available()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    # An fd pycodex forgot to make close-on-exec must not reach the command.
    leak_r, leak_w = os.pipe()
    os.set_inheritable(leak_w, True)
    # LANG: so that the probe's Python does not coerce the C locale into its environment.
    env = {"PATH": os.environ["PATH"], "ONLY": "this", "LANG": "C.UTF-8"}
    try:
        signals = await run_command(ExecRequest(
            ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"], tmp_path, env))
        result = await run_command(ExecRequest([PYTHON, "-I", "-S", "-c", PROBE], tmp_path,
                                               env))
    finally:
        os.close(leak_r)
        os.close(leak_w)
    # Nothing ignored or blocked, whatever pycodex (or the zygote) does with signals. The
    # C library's own real-time signals (32, 33) cannot be touched from Python and keep
    # whatever the test's own parent gave them (some shells ignore 32), as with any spawn.
    reserved = sum(1 << (n - 1) for n in range(1, 65) if n not in signal.valid_signals())
    masks = dict(line.split(":\t") for line in signals.stdout.splitlines())
    assert sorted(masks) == ["SigBlk", "SigIgn"]
    assert int(masks["SigBlk"], 16) & ~reserved == 0
    assert int(masks["SigIgn"], 16) & ~reserved == 0
    assert result.exit_code == 0, result.aggregated
    state = json.loads(result.stdout)
    assert state["ppid"] == zygote.zygote_pid()
    assert state["pid"] == state["pgid"] == state["sid"]  # leads its own session and group
    assert state["fds"] == [0, 1, 2]
    assert state["env"] == env  # exactly what was asked: the zygote's own env is empty
    assert state["cwd"] == str(tmp_path)


async def test_death_by_signal_is_reported_like_asyncio(tmp_path: Path) -> None:
    result = await run_command(ExecRequest(["sh", "-c", "kill -TERM $$"], tmp_path,
                                           {"PATH": os.environ["PATH"]}))
    assert result.exit_code == 128 + signal.SIGTERM


async def test_zygote_death_kills_its_commands_and_the_next_spawn_restarts_it(
    tmp_path: Path, adopter: Adopter
) -> None:
    first = zygote.zygote_pid()
    assert first is not None
    out_r, out_w = os.pipe()
    child = await zygote.spawn(["sleep", "600"], cwd=tmp_path, env=dict(os.environ),
                               stdin=None, stdout=out_w, stderr=out_w)
    os.close(out_w)
    os.close(out_r)
    try:
        os.kill(first, signal.SIGKILL)
        # PDEATHSIG: the command dies with its parent; re-parented to this test, reaped here.
        wait_until(lambda: not alive(child.pid), 5, "the command to die with the zygote")
        assert os.WTERMSIG(adopter.reap(child.pid, 5)) == signal.SIGKILL
        assert await child.wait() == -signal.SIGKILL  # the status pipe closed unanswered
    finally:
        adopter.kill_and_reap([child.pid])
    result = await run_command(ExecRequest(["true"], tmp_path, dict(os.environ)))
    assert result.exit_code == 0
    assert zygote.zygote_pid() not in (None, first)


def test_only_the_installed_shim_run_by_this_interpreter_takes_the_shim_path() -> None:
    shim = str(zygote.SHIM_PATH)
    args = ["--backend", "landlock", "--net", "off", "--", "true"]
    assert zygote._shim_args([PYTHON, "-I", "-S", shim, *args]) == args
    # Anything else is exec'd as it is: another interpreter, the source on the command
    # line (an editable install in a writable root), another script, other flags.
    assert zygote._shim_args(["/bin/sh", "-I", "-S", shim, *args]) is None
    assert zygote._shim_args([PYTHON, "-I", "-S", "-c", "...", *args]) is None
    assert zygote._shim_args([PYTHON, "-I", "-S", shim + ".x", *args]) is None
    assert zygote._shim_args([PYTHON, "-I", shim, *args]) is None


async def test_every_command_runs_exactly_once(tmp_path: Path) -> None:
    # Commands are handed to a child forked ahead of time; a hand-over must never be
    # mistaken for a failure and retried (it once was, when the child closed its end fast).
    log = tmp_path / "runs"
    env = {"PATH": os.environ["PATH"]}
    for n in range(30):
        result = await run_command(ExecRequest(["sh", "-c", f"echo {n} >> {log}"], tmp_path,
                                               env))
        assert result.exit_code == 0
    assert log.read_text().split() == [str(n) for n in range(30)]


class _PeerGoneAfterFrame:
    """A socket whose peer reads the whole frame at once and closes its end."""

    def __init__(self) -> None:
        self.received = b""

    def sendmsg(self, buffers: list[bytes], ancdata: object) -> int:
        self.received += b"".join(buffers)
        return len(self.received)

    def sendall(self, data: bytes) -> None:
        raise BrokenPipeError(32, "peer closed after reading the whole frame")


def test_a_frame_fully_sent_is_never_reported_lost() -> None:
    sock = _PeerGoneAfterFrame()
    _zygote._send_frame(sock, b"job", [0])  # type: ignore[arg-type]
    assert sock.received == _zygote._HEADER.pack(3) + b"job"


# --- pycodex killed with SIGKILL ---------------------------------------------------------------

FAKE_PYCODEX = textwrap.dedent("""
    import asyncio, os, sys
    from pathlib import Path
    from pycodex.process import _zygote, zygote
    from pycodex.process.spawn import ExecRequest, run_command

    async def main() -> None:
        workdir = Path(sys.argv[1])
        (workdir / "zygote.pid").write_text(str(zygote.zygote_pid()))
        await run_command(ExecRequest(["sh", "-c", sys.argv[2]], workdir, dict(os.environ)))

    asyncio.run(main())
""")

# A command tree of every shape: a background child, one that left the session (setsid),
# an orphan whose parent already exited, and the leader itself.
TREE = """
sleep 600 & echo $! >> pids
setsid sleep 600 & echo $! >> pids
(sleep 600 & echo $! >> pids)
echo $$ >> pids
echo ready > ready
wait
"""


def test_every_command_process_dies_when_pycodex_is_killed(
    tmp_path: Path, adopter: Adopter
) -> None:
    proc = subprocess.Popen([sys.executable, "-c", FAKE_PYCODEX, str(tmp_path), TREE],
                            start_new_session=True)
    pids: list[int] = []
    try:
        wait_until((tmp_path / "ready").exists, 20, "the command tree to start")
        pids = [int(line) for line in (tmp_path / "pids").read_text().split()]
        assert len(pids) == 4 and all(alive(pid) for pid in pids)
        zygote_pid = int((tmp_path / "zygote.pid").read_text())
        proc.kill()
        proc.wait()
        # Reaped, not merely killed: /proc/PID is gone (the zygote reaps them all).
        wait_until(lambda: not any(exists(pid) for pid in pids), 10,
                   "every command process to be killed and reaped")
        # The zygote then exits cleanly; orphaned itself, it came back to this test.
        assert adopter.reap(zygote_pid, 10) == 0
    finally:
        proc.kill()
        proc.wait()
        adopter.kill_and_reap(pids)


def test_an_unused_zygote_is_stopped_without_waiting_for_its_start_up() -> None:
    """Prestarted for a run that ran no command: pycodex's exit does not wait for it to
    finish starting (it is killed); one that ran commands is let to clean up and exit."""
    unused = zygote.Zygote(PYTHON)
    unused.launch()
    pid = unused.pid
    assert pid is not None
    unused.close()
    assert os.waitpid(pid, 0)[1] == signal.SIGKILL  # killed, not a clean exit


async def test_a_zygote_that_ran_a_command_exits_cleanly_on_close(tmp_path: Path) -> None:
    zygote.shutdown()
    result = await run_command(ExecRequest(argv=["true"], cwd=tmp_path, env=dict(os.environ)))
    assert result.exit_code == 0
    running = zygote._instance
    assert running is not None and running._proc is not None
    proc = running._proc
    zygote.shutdown()
    assert proc.returncode == 0  # reaped by close(): it cleaned up and exited by itself


# --- the event loop never waits for the zygote ---------------------------------------------------


def _queued_bytes(sock: socket.socket) -> int:
    """Bytes sent on `sock` that its peer has not read yet (SIOCOUTQ)."""
    return int.from_bytes(fcntl.ioctl(sock, termios.TIOCOUTQ, b"\0\0\0\0"), sys.byteorder)


async def _poll(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@contextlib.contextmanager
def _zygote_stopped() -> Iterator[socket.socket]:
    """The zygote frozen (SIGSTOP): it reads no request and answers none until the block
    ends. Yields pycodex's end of its request socket."""
    pid = zygote.zygote_pid()
    instance = zygote._instance
    assert pid is not None and instance is not None and instance._sock is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield instance._sock
    finally:
        os.kill(pid, signal.SIGCONT)


async def test_a_spawn_in_flight_does_not_block_the_event_loop(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"]}
    other_ran = asyncio.Event()

    async def other() -> None:
        other_ran.set()

    with _zygote_stopped() as sock:
        spawning = asyncio.create_task(run_command(ExecRequest(["true"], tmp_path, env)))
        bystander = asyncio.create_task(other())  # scheduled after the spawn started
        await other_ran.wait()
        await bystander
        # The other coroutine ran while the request sat unanswered in the frozen zygote's
        # socket: the spawn waits on the loop, not in a blocking recv.
        assert not spawning.done()
        await _poll(lambda: _queued_bytes(sock) > 0, "the request to be sent")
        assert not spawning.done()
    result = await asyncio.wait_for(spawning, 10)
    assert result.exit_code == 0


def _processes_running(argv: list[str]) -> list[int]:
    wanted = "\0".join(argv).encode() + b"\0"
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (Path(entry.path, "cmdline").read_bytes() == wanted
                        and Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"):
                    found.append(int(entry.name))
    return found


async def test_a_spawn_cancelled_in_flight_leaves_no_command_running(tmp_path: Path) -> None:
    # Cancelled after its request went out, the spawn waits for the pid and kills it.
    argv = ["sleep", "31.4159"]
    with _zygote_stopped() as sock:
        spawning = asyncio.create_task(run_command(ExecRequest(argv, tmp_path,
                                                               {"PATH": os.environ["PATH"]})))
        await _poll(lambda: _queued_bytes(sock) > 0, "the request to be sent")
        spawning.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(spawning, 10)
    await _poll(lambda: not _processes_running(argv), "the cancelled command to be killed")
    result = await run_command(ExecRequest(["true"], tmp_path, {"PATH": os.environ["PATH"]}))
    assert result.exit_code == 0  # the zygote is still in service


async def test_a_cancel_while_its_pipes_connect_closes_each_pipe_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupt landing while a command's output pipes are being handed to the event
    loop: the half-connected pipe is closed by its transport alone. A second, raw close of
    the same number would hit whatever file took it in between — another command's output
    pipe, whose output then vanished (seen once in the 20-thread engine test)."""
    from pycodex.process import spawn

    loop = asyncio.get_running_loop()
    real_connect = loop.connect_read_pipe
    connects = 0

    async def cancelled_on_the_second(protocol: Any, pipe: Any) -> Any:
        nonlocal connects
        connects += 1
        if connects == 2:
            # As asyncio does when cancelled in its own `await waiter`: close, then raise.
            transport, _ = await real_connect(protocol, pipe)
            transport.close()
            raise asyncio.CancelledError
        return await real_connect(protocol, pipe)

    monkeypatch.setattr(loop, "connect_read_pipe", cancelled_on_the_second)
    request = ExecRequest(argv=["sleep", "30"], cwd=tmp_path, env=dict(os.environ))
    with pytest.raises(asyncio.CancelledError):
        await spawn._start_in_zygote(request)
    # Whatever opens next gets the numbers just freed; then the transports finish closing.
    bystander_r, bystander_w = os.pipe()
    try:
        for _ in range(5):
            await asyncio.sleep(0)
        os.fstat(bystander_r)
        os.fstat(bystander_w)  # still open: nobody closed them behind the bystander's back
    finally:
        for fd in (bystander_r, bystander_w):
            with contextlib.suppress(OSError):
                os.close(fd)
