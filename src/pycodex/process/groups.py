"""Which process groups a thread started, and in which turn: so each thread stops its own.

Every command pycodex starts (a one-shot `shell` command, an `exec_command` session) leads
its own process group. The group is recorded, with the id of the turn that started it, in
the `ProcessGroups` of the thread that started it (its `ShellRuntime`), so that
interrupting a turn or closing a thread kills that thread's commands and nobody else's.

The only process-wide view is the exit safety net: `kill_all_process_groups()` walks every
live `ProcessGroups` (a weak registry: a thread that is gone is forgotten with its runtime)
for exits that skip normal cleanup, such as a second Ctrl-C before `os._exit`. Commands
started outside any thread (a benchmark, a direct `run_command`) are recorded in a table
of their own, `UNOWNED`, which only that safety net kills.

No lock: the table maps ints to strs, so copying it is atomic under the GIL, and the
safety net may run in a signal handler that interrupted a mutation on the same thread.
"""

from __future__ import annotations

import contextlib
import os
import signal
import weakref


class ProcessGroups:
    """Process groups still to clean up, each with the id of the turn that started it."""

    def __init__(self) -> None:
        self._turn_of: dict[int, str] = {}
        _REGISTRY.add(self)

    def __contains__(self, pgid: object) -> bool:
        return pgid in self._turn_of

    def __len__(self) -> int:
        return len(self._turn_of)

    def add(self, pgid: int, turn_id: str) -> None:
        self._turn_of[pgid] = turn_id

    def discard(self, pgid: int) -> None:
        self._turn_of.pop(pgid, None)

    def started_in(self, turn_id: str) -> list[int]:
        return [pgid for pgid, turn in tuple(self._turn_of.items()) if turn == turn_id]

    def kill_turn(self, turn_id: str) -> list[int]:
        """SIGKILL every group the turn `turn_id` started; the groups killed. They stay
        recorded until whoever waits for them has reaped them."""
        victims = self.started_in(turn_id)
        for pgid in victims:
            kill_group(pgid)
        return victims

    def kill_all(self) -> None:
        for pgid in tuple(self._turn_of):
            kill_group(pgid)


_REGISTRY: weakref.WeakSet[ProcessGroups] = weakref.WeakSet()
# Commands started with no owner: not any thread's to stop, only the safety net's.
UNOWNED = ProcessGroups()


def kill_all_process_groups() -> None:
    """SIGKILL every command group still running in this process, whichever thread started
    it. Only for exits that skip normal cleanup (a second Ctrl-C before `os._exit`)."""
    for groups in list(_REGISTRY):
        groups.kill_all()


def kill_group(pgid: int) -> None:
    """SIGKILL the process group `pgid`, if it still exists. The group may be gone
    already, or (if its leader was reaped) its id reused only after every member died,
    which is why killing it late is safe; the leader's pid alone is never signalled here,
    since once reaped it may name an unrelated process."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
