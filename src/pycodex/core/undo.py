"""Undo in the engine: snapshots around the turns that run tools, and `Op::Undo`.

The turn loop calls :func:`snapshot_before_tools` right before it first runs a tool that
may change files (so a turn that only talks costs nothing and imports nothing of this),
and :func:`snapshot_after_turn` when the turn ends however it ends; the pair goes to the
thread's undo log (:mod:`pycodex.context.snapshot_restore`). A snapshot that fails is a
warning, once per thread — the turn goes on, only undo is lost for it.

The "after" snapshot is taken early: when a round of tools is done
(:func:`begin_after_snapshot`) it starts in the background, while the follow-up model
request runs, since that state is the turn's final one unless the model calls more tools;
if it does, the early snapshot is dropped (its own ref keeps it harmless) and the next
round starts another. So the turn's end rarely waits for git.

`Op::Undo` (:func:`run_undo_task`) answers `UndoStarted`, then `UndoCompleted` with what
was restored, or why nothing was.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Sequence
from pathlib import Path

from pycodex.config.home import pycodex_home
from pycodex.context.snapshot import SnapshotError, Snapshotter, snapshotter_for
from pycodex.context.snapshot_restore import record_turn, snapshot_store, undo_last_turn
from pycodex.protocol.events import UndoCompletedEvent, UndoStartedEvent, WarningEvent
from pycodex.tools.base import ToolCall

from .session import Session
from .turn_context import TurnContext

# Tools that never write files: no snapshot needed before them.
READ_ONLY_TOOLS = frozenset({"update_plan", "view_image", "web_search", "tool_search"})


class _Before:
    __slots__ = ("after", "rounds", "snapshot", "snapshotter", "stale")

    def __init__(self, snapshotter: Snapshotter, snapshot: str) -> None:
        self.snapshotter = snapshotter
        self.snapshot = snapshot
        self.after: asyncio.Future[str] | None = None  # the early "after" snapshot, if valid
        self.stale: list[asyncio.Future[str]] = []  # early ones more tools made outdated
        self.rounds = 0

    def drop_after(self) -> None:
        if self.after is not None:
            self.stale.append(self.after)  # awaited at the end: no git left running
            self.after = None


# session -> turn id -> the snapshot taken before its first tool (None: it failed).
_pending: weakref.WeakKeyDictionary[Session, dict[str, _Before | None]] = weakref.WeakKeyDictionary()
_warned: weakref.WeakSet[Session] = weakref.WeakSet()


def _home(sess: Session) -> Path:
    return pycodex_home(sess.services.base_env)


async def snapshot_before_tools(sess: Session, turn: TurnContext, calls: Sequence[ToolCall]) -> None:
    if getattr(sess, "is_review", False) or all(c.name in READ_ONLY_TOOLS for c in calls):
        return
    turns = _pending.setdefault(sess, {})
    if turn.turn_id in turns:
        # Once per turn: the state before its first change. These tools may change files
        # again, so an early "after" snapshot is outdated.
        before = turns[turn.turn_id]
        if before is not None:
            before.drop_after()
        return
    label = f"{sess.thread_id}/{turn.turn_id}/before"
    try:
        snapshotter = await asyncio.to_thread(snapshotter_for, turn.cwd, snapshot_store(_home(sess)))
        turns[turn.turn_id] = _Before(snapshotter, await asyncio.to_thread(snapshotter.take, label))
    except (SnapshotError, OSError) as exc:
        turns[turn.turn_id] = None
        _warn_once(sess, turn, exc)


def begin_after_snapshot(sess: Session, turn: TurnContext) -> None:
    """A round of tools is done: start the "after" snapshot now, in the background."""
    before = _pending.get(sess, {}).get(turn.turn_id)
    if before is None:
        return
    before.drop_after()
    before.rounds += 1
    label = f"{sess.thread_id}/{turn.turn_id}/after-{before.rounds}"
    before.after = asyncio.ensure_future(asyncio.to_thread(before.snapshotter.take, label))


async def snapshot_after_turn(sess: Session, turn: TurnContext) -> None:
    before = _pending.get(sess, {}).pop(turn.turn_id, None)
    if before is None:
        return
    snap = before.snapshotter
    for outdated in before.stale:
        with contextlib.suppress(Exception):  # dropped anyway; only its git must be done
            await outdated
    try:
        if before.after is not None:
            after = await before.after
        else:
            after = await asyncio.to_thread(snap.take, f"{sess.thread_id}/{turn.turn_id}/after")
        record = {
            "turn_id": turn.turn_id, "kind": snap.kind, "root": str(snap.root), "cwd": str(turn.cwd),
            "before": before.snapshot, "after": after,
        }
        await asyncio.to_thread(record_turn, _home(sess), sess.thread_id, record)
    except (SnapshotError, OSError) as exc:
        _warn_once(sess, turn, exc)


def _warn_once(sess: Session, turn: TurnContext, exc: Exception) -> None:
    if sess in _warned:
        return
    _warned.add(sess)
    sess.emit(turn.sub_id, WarningEvent(message=f"undo will not be available for this turn: {exc}"))


async def run_undo_task(sess: Session, sub_id: str) -> None:
    """`Op::Undo`: restore what the thread's last file-changing turn changed."""
    sess.emit(sub_id, UndoStartedEvent(message="Undoing the last turn's file changes..."))
    result = await asyncio.to_thread(undo_last_turn, _home(sess), sess.thread_id)
    sess.emit(sub_id, UndoCompletedEvent(success=result.success, message=result.message))
