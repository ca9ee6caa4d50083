"""A manual compaction is over for the engine the moment it says so: a client that starts a
review (or turn) right when it sees TaskComplete must not be told the thread is busy."""

from __future__ import annotations

from pathlib import Path

from pycodex.protocol.events import TaskCompleteEvent
from pycodex.protocol.ops import CompactOp, ReviewOp
from pycodex.protocol.review import ReviewRequest
from tests.support.engine import start_thread, until
from tests.support.mock_model import MockModelServer, message, response


async def test_a_review_right_after_compaction_completes_is_accepted(
    mock_model: MockModelServer, tmp_path: Path
) -> None:
    thread = await start_thread(mock_model, tmp_path)
    try:
        mock_model.enqueue(response(message("a summary")), response(message("{}")))
        await thread.submit(CompactOp())
        await until(thread, TaskCompleteEvent)
        # No await between seeing the end and asking: the compaction's task may still flush.
        review_id = await thread.start_review(
            ReviewOp(review_request=ReviewRequest(target={"type": "custom", "instructions": "look"}))
        )
        assert review_id
        await until(thread, TaskCompleteEvent)
    finally:
        await thread.shutdown()
