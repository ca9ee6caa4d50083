"""Ops about the thread itself rather than a turn: rollback and the prompt history.

Handled by the submission loop (`Codex`), one at a time like every op.
"""

from __future__ import annotations

import asyncio

from pycodex.protocol.events import (
    CodexErrorInfo,
    ErrorEvent,
    GetHistoryEntryResponseEvent,
    HistoryEntry,
    ThreadRolledBackEvent,
)
from pycodex.protocol.ops import AddToHistoryOp, GetHistoryEntryRequestOp, ThreadRollbackOp
from pycodex.rollout.history_file import PromptHistory

from .session import Session

ROLLBACK_WHILE_RUNNING = "Cannot roll back while a turn is in progress; interrupt it first."


async def rollback(sess: Session, sub_id: str, op: ThreadRollbackOp) -> None:
    """Drop the last `num_turns` user turns from the context and append the marker that
    lets a resume do the same. History already written is never rewritten."""
    active = sess.active
    if active is not None and not active.task.done():
        sess.emit(
            sub_id,
            ErrorEvent(message=ROLLBACK_WHILE_RUNNING, codex_error_info=CodexErrorInfo.THREAD_ROLLBACK_FAILED),
        )
        return
    sess.history.rollback(op.num_turns)
    sess.emit(sub_id, ThreadRolledBackEvent(num_turns=op.num_turns))
    await sess.flush()


async def add_to_history(history: PromptHistory | None, sess: Session, sub_id: str, op: AddToHistoryOp) -> None:
    if history is None:
        return
    try:
        await asyncio.to_thread(history.append, sess.thread_id, op.text)
    except OSError as exc:
        sess.emit(sub_id, ErrorEvent(message=f"failed to write {history.path}: {exc.strerror or exc}"))


async def get_history_entry(
    history: PromptHistory | None, sess: Session, sub_id: str, op: GetHistoryEntryRequestOp
) -> None:
    entry = None
    if history is not None:
        try:
            found = await asyncio.to_thread(history.lookup, op.log_id, op.offset)
        except OSError:
            found = None
        if found is not None:
            ts = found.get("ts")
            entry = HistoryEntry(
                conversation_id=str(found.get("session_id") or found.get("conversation_id") or ""),
                ts=ts if isinstance(ts, int) else 0,
                text=found["text"],
            )
    sess.emit(sub_id, GetHistoryEntryResponseEvent(offset=op.offset, log_id=op.log_id, entry=entry))
