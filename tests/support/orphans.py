"""Watching processes die: "gone" means reaped, never merely signalled.

A test that kills pycodex must then see every command pycodex started disappear from
/proc. Orphans are re-parented to the nearest child subreaper, else to PID 1, and some
PID 1s (this CI's included) never reap, so a dead orphan could linger as a zombie and a
live one would keep running out of the test's reach. `adopt_orphans()` makes the test
process a child subreaper for its duration: orphans of the processes it starts come back
to it, where `reap()` collects the ones it expects and `kill_and_reap()` cleans up after a
failing test.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37


def _prctl(option: int, arg: int | ctypes.c_int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    value = ctypes.byref(arg) if isinstance(arg, ctypes.c_int) else ctypes.c_ulong(arg)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl")


def alive(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(b")") + 2:].split()[0] != b"Z"


def exists(pid: int) -> bool:
    """Whether /proc/PID exists at all (a zombie still does)."""
    return os.path.exists(f"/proc/{pid}")


def wait_until(predicate: Callable[[], object], timeout_s: float, what: str) -> None:
    """Poll `predicate()` until true; AssertionError naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.01)


def children_of(pid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        if int(stat[stat.rfind(b")") + 2:].split()[1]) == pid:
            found.append(int(name))
    return found


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Adopter:
    def reap(self, pid: int, timeout_s: float) -> int:
        """Wait for an adopted (or own) child to exit and reap it; its wait status."""
        deadline = time.monotonic() + timeout_s
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"process {pid} ({cmdline(pid)!r}) did not exit")
            time.sleep(0.01)

    def kill_and_reap(self, pids: Iterable[int]) -> None:
        """Cleanup: SIGKILL whatever is left of `pids` and reap those that are ours."""
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ChildProcessError, AssertionError):
                self.reap(pid, 2.0)


@contextlib.contextmanager
def adopt_orphans() -> Iterator[Adopter]:
    before = ctypes.c_int(0)
    _prctl(PR_GET_CHILD_SUBREAPER, before)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        yield Adopter()
    finally:
        _prctl(PR_SET_CHILD_SUBREAPER, before.value)
