"""Resume, fork, rollback and prompt history through the engine's queue pair.

The yardstick: a thread that was stopped and resumed (or forked, or rolled back) sends the
model exactly the `input` an uninterrupted thread would have sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pycodex.config.config import Config, ConfigOverrides, load_config
from pycodex.core.resume import (
    ThreadNotFoundError,
    effective_records,
    history_from_records,
    load_thread,
)
from pycodex.core.thread_manager import CodexThread, ThreadManager, ThreadOptions
from pycodex.protocol.events import (
    ErrorEvent,
    EventMsg,
    GetHistoryEntryResponseEvent,
    SessionConfiguredEvent,
    TaskCompleteEvent,
    ThreadRolledBackEvent,
    TokenCountEvent,
    UserMessageEvent,
)
from pycodex.protocol.ops import (
    AddToHistoryOp,
    GetHistoryEntryRequestOp,
    OverrideTurnContextOp,
    ThreadRollbackOp,
    UserInputOp,
)
from pycodex.protocol.user_input import TextInput
from pycodex.rollout.index import ThreadIndex
from pycodex.rollout.reader import read_rollout
from pycodex.rollout.rows import row_from_rollout
from tests.support.engine import shell, until
from tests.support.mock_model import MockModelServer, hang, message, response


class World:
    def __init__(self, tmp_path: Path, mock: MockModelServer, extra_config: str = "") -> None:
        self.mock = mock
        self.home = tmp_path / "home"
        self.home.mkdir()
        (self.home / "config.toml").write_text(
            f'model_provider = "mock"\n{extra_config}\n[model_providers.mock]\nname = "mock"\n'
            f'base_url = "{mock.url}"\nenv_key = "MOCK_KEY"\nrequest_max_retries = 0\n'
            "stream_max_retries = 0\n"
        )
        self.ws = tmp_path / "ws"
        self.ws.mkdir()
        subprocess.run(["git", "init", "-q", str(self.ws)], check=True)
        (self.ws / "AGENTS.md").write_text("Always say please.")
        self.env = {"PYCODEX_HOME": str(self.home), "HOME": str(tmp_path), "MOCK_KEY": "x",
                    "PATH": os.environ["PATH"], "SHELL": "/bin/bash"}
        self.manager = ThreadManager(ThreadOptions(env=self.env))

    def config(self) -> Config:
        return load_config(
            ConfigOverrides(cwd=self.ws, sandbox_mode="danger-full-access", approval_policy="never"),
            env=self.env,
        )

    async def start(self) -> tuple[CodexThread, SessionConfiguredEvent]:
        return await self._first(await self.manager.start_thread(self.config()))

    async def resume(self, target: str | Path) -> tuple[CodexThread, SessionConfiguredEvent]:
        return await self._first(await self.manager.resume_thread(self.config(), target))

    async def fork(self, thread_id: str, n: int | None = None) -> tuple[CodexThread, SessionConfiguredEvent]:
        return await self._first(await self.manager.fork_thread(self.config(), thread_id, n))

    @staticmethod
    async def _first(thread: CodexThread) -> tuple[CodexThread, SessionConfiguredEvent]:
        first = await thread.next_event()
        assert isinstance(first.msg, SessionConfiguredEvent)
        return thread, first.msg


async def turn(thread: CodexThread, text: str) -> list[EventMsg]:
    await thread.submit(UserInputOp(items=[TextInput(text=text)]))
    return await until(thread, TaskCompleteEvent)






def normalized_input(body: dict[str, Any]) -> str:
    """The request input, without what legitimately differs between two runs."""
    text = json.dumps(body["input"], sort_keys=True)
    return re.sub(r"Wall time: [0-9.]+ seconds", "Wall time: X seconds", text)


def script_tool_turn(mock: MockModelServer) -> None:
    mock.enqueue(
        response(shell("echo hello-from-tool", "call_a")),
        response(message("ran it")),
    )


@pytest.fixture
def world(tmp_path: Path, mock_model: MockModelServer) -> World:
    return World(tmp_path, mock_model)


async def test_resume_after_a_tool_turn_sends_what_an_uninterrupted_thread_sends(world: World) -> None:
    mock = world.mock
    # Uninterrupted: tool turn, then a second turn.
    script_tool_turn(mock)
    mock.enqueue(response(message("second answer")))
    live, _ = await world.start()
    await turn(live, "use a tool")
    await turn(live, "and now?")
    await live.shutdown()
    expected = normalized_input(mock.requests[2].body)

    # Stopped after the tool turn, resumed by id, then the same second turn.
    script_tool_turn(mock)
    mock.enqueue(response(message("second answer")))
    first, configured = await world.start()
    await turn(first, "use a tool")
    await first.shutdown()
    resumed, conf2 = await world.resume(configured.session_id)
    assert conf2.session_id == configured.session_id
    assert conf2.rollout_path == configured.rollout_path
    repaint = conf2.initial_messages or []
    assert any(isinstance(m, UserMessageEvent) and m.message == "use a tool" for m in repaint)
    events = await turn(resumed, "and now?")
    await resumed.shutdown()
    assert normalized_input(mock.requests[5].body) == expected
    # Usage stays cumulative across the resume: three requests of 110 tokens.
    counts = [e for e in events if isinstance(e, TokenCountEvent) and e.info is not None]
    assert counts[-1].info is not None and counts[-1].info.total_token_usage.total_tokens == 330

    # Same file, ordinals continue without a gap.
    assert configured.rollout_path is not None
    ordinals = [r.ordinal for r in read_rollout(Path(configured.rollout_path)).records]
    assert ordinals == list(range(len(ordinals)))


@pytest.mark.parametrize("index_is_current", [True, False], ids=["from-index-row", "from-fold"])
async def test_a_resumed_threads_index_row_is_what_a_fresh_fold_gives(
    world: World, index_is_current: bool
) -> None:
    """The resumed recorder's indexer starts from the index's row when the index has seen
    the whole file (a big thread is not folded again), else from a fold of the file; either
    way the row after another turn is the one a rebuild from the rollout gives."""
    world.mock.enqueue(response(message("first answer")), response(message("second answer")))
    first, configured = await world.start()
    await turn(first, "the title turn")
    await first.shutdown()
    assert configured.rollout_path is not None
    if not index_is_current:
        with ThreadIndex(world.home) as index:  # the index lags behind the file
            stale = index.get(configured.session_id)
            assert stale is not None
            stale.updated_at -= 1000
            stale.title = "not from the file"
            index.upsert(stale)
    resumed, _ = await world.resume(configured.session_id)
    await turn(resumed, "a later turn")
    await resumed.shutdown()
    with ThreadIndex(world.home) as index:
        live = index.get(configured.session_id)
    rebuilt = row_from_rollout(Path(configured.rollout_path))
    assert live is not None and rebuilt is not None
    assert live.title == "the title turn" and live.preview == "second answer"
    assert live == rebuilt


async def test_fork_copies_history_and_records_its_parent(world: World) -> None:
    mock = world.mock
    script_tool_turn(mock)
    mock.enqueue(response(message("second answer")))
    source, conf = await world.start()
    await turn(source, "use a tool")
    await source.shutdown()
    forked, fconf = await world.fork(conf.session_id)
    assert fconf.session_id != conf.session_id
    assert fconf.forked_from_id == conf.session_id
    await turn(forked, "and now?")
    await forked.shutdown()
    # The fork's request equals what the source itself would have sent.
    mock.enqueue(response(message("second answer")))
    again, _ = await world.resume(conf.session_id)
    await turn(again, "and now?")
    await again.shutdown()
    assert normalized_input(mock.requests[2].body) == normalized_input(mock.requests[3].body)
    # A full, self-contained copy with the parent in its header and in the index.
    assert fconf.rollout_path is not None and fconf.rollout_path != conf.rollout_path
    fork_file = read_rollout(Path(fconf.rollout_path))
    assert fork_file.meta is not None and fork_file.meta["forked_from_id"] == conf.session_id
    assert sum(r.type == "response_item" for r in fork_file.records) > 4
    with ThreadIndex(world.home) as index:
        row = index.get(fconf.session_id)
    assert row is not None and row.forked_from == conf.session_id and row.title == "use a tool"


async def test_fork_before_the_last_user_message(world: World) -> None:
    mock = world.mock
    mock.enqueue(response(message("one")), response(message("two")), response(message("two again")))
    source, conf = await world.start()
    await turn(source, "first")
    await turn(source, "second")
    await source.shutdown()
    forked, _ = await world.fork(conf.session_id, 1)
    await turn(forked, "second")
    await forked.shutdown()
    assert normalized_input(mock.requests[2].body) == normalized_input(mock.requests[1].body)


async def test_rollback_drops_turns_live_and_on_resume(world: World) -> None:
    mock = world.mock
    mock.enqueue(response(message("one")), response(message("two")), response(message("after")))
    thread, conf = await world.start()
    await turn(thread, "first")
    await turn(thread, "second")
    await thread.submit(ThreadRollbackOp(num_turns=1))
    rolled = await until(thread, ThreadRolledBackEvent)
    assert isinstance(rolled[-1], ThreadRolledBackEvent) and rolled[-1].num_turns == 1
    await turn(thread, "replacement")
    await thread.shutdown()
    live_input = mock.requests[2].body["input"]
    texts = json.dumps(live_input)
    assert "first" in texts and "second" not in texts and "replacement" in texts
    # The marker is appended (nothing rewritten) and replayed on resume.
    assert conf.rollout_path is not None
    records = read_rollout(Path(conf.rollout_path)).records
    assert any(r.payload.get("type") == "thread_rolled_back" for r in records)
    assert any(
        r.payload.get("type") == "item_completed"
        and r.payload["item"].get("content") == [{"type": "text", "text": "second", "text_elements": []}]
        for r in records
    )
    mock.enqueue(response(message("x")))
    resumed, _ = await world.resume(conf.session_id)
    await turn(resumed, "next")
    await resumed.shutdown()
    replayed = mock.requests[3].body["input"]
    assert replayed[: len(live_input)] == live_input
    assert "second" not in json.dumps(replayed)


async def test_rollback_of_more_turns_than_exist_keeps_the_initial_context(world: World) -> None:
    mock = world.mock
    mock.enqueue(response(message("one")), response(message("after")))
    thread, _ = await world.start()
    await turn(thread, "first")
    await thread.submit(ThreadRollbackOp(num_turns=5))
    await until(thread, ThreadRolledBackEvent)
    await turn(thread, "fresh")
    await thread.shutdown()
    body = mock.requests[1].body["input"]
    first_body = mock.requests[0].body["input"]
    assert body[:-1] == first_body[:-1]  # initial context kept, "first" and its answer gone
    assert "fresh" in json.dumps(body[-1]) and "first" not in json.dumps(body)


async def test_rollback_while_a_turn_runs_is_rejected(world: World) -> None:
    world.mock.enqueue(hang())
    thread, _ = await world.start()
    await thread.submit(UserInputOp(items=[TextInput(text="slow")]))
    await asyncio.sleep(0.2)
    await thread.submit(ThreadRollbackOp(num_turns=1))
    seen = await until(thread, ErrorEvent)
    error = seen[-1]
    assert isinstance(error, ErrorEvent) and error.codex_error_info == "thread_rollback_failed"
    await thread.shutdown()


async def test_resume_unknown_thread_is_an_error(world: World) -> None:
    with pytest.raises(ThreadNotFoundError):
        await world.manager.resume_thread(world.config(), "01a1fee1-0000-7000-8000-000000000000")


async def test_prompt_history_ops(world: World) -> None:
    thread, conf = await world.start()
    assert (conf.history_log_id, conf.history_entry_count) == (0, 0)
    await thread.submit(AddToHistoryOp(text="remember me"))
    await thread.submit(AddToHistoryOp(text="and me"))
    path = world.home / "history.jsonl"
    async with asyncio.timeout(5):
        while not path.exists() or path.read_text().count("\n") < 2:
            await asyncio.sleep(0.01)
    log_id = path.stat().st_ino
    await thread.submit(GetHistoryEntryRequestOp(offset=1, log_id=log_id))
    seen = await until(thread, GetHistoryEntryResponseEvent)
    reply = seen[-1]
    assert isinstance(reply, GetHistoryEntryResponseEvent)
    assert reply.entry is not None and reply.entry.text == "and me"
    assert reply.entry.conversation_id == conf.session_id
    await thread.submit(GetHistoryEntryRequestOp(offset=1, log_id=log_id + 1))
    stale = (await until(thread, GetHistoryEntryResponseEvent))[-1]
    assert isinstance(stale, GetHistoryEntryResponseEvent) and stale.entry is None
    await thread.shutdown()
    _, conf2 = await world.start()
    assert (conf2.history_log_id, conf2.history_entry_count) == (log_id, 2)


async def test_huge_tool_output_is_stored_cut_but_seen_whole(tmp_path: Path, mock_model: MockModelServer) -> None:
    world = World(tmp_path, mock_model, "[rollout]\nmax_item_bytes = 4096\n")
    mock_model.enqueue(
        response(shell("head -c 50000 /dev/zero | tr '\\0' 'x'", "call_big")),
        response(message("done")),
    )
    thread, conf = await world.start()
    await turn(thread, "big")
    await thread.shutdown()
    sent = [i for i in mock_model.requests[1].body["input"] if i["type"] == "function_call_output"]
    assert len(json.dumps(sent)) > 4096  # the model saw what the tool layer gave it
    assert conf.rollout_path is not None
    stored = [
        r.payload for r in read_rollout(Path(conf.rollout_path)).records
        if r.payload.get("type") == "function_call_output"
    ]
    assert len(stored) == 1 and len(stored[0]["output"]) < 4096 + 200
    assert "bytes omitted from the stored rollout" in stored[0]["output"]


REFERENCE_STATE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "state"
PARENT_ROLLOUT = "rollout-2026-11-21T16-12-03-01a1fee1-0c01-7441-9387-0e9cb13f5e2a.jsonl"
FORK_ROLLOUT = "rollout-2026-11-21T16-12-04-01a1fee1-0fe6-7880-b82c-c7f1bc81b6eb.jsonl"


def test_codex_delta_fork_loads_with_the_parents_history(tmp_path: Path) -> None:
    """reference/state: a thread and its `exec fork`, which Codex writes as a delta file
    (`history_base` pointing into the parent) instead of a copy."""
    if not (REFERENCE_STATE / FORK_ROLLOUT).is_file():
        pytest.skip(f"reference data not found in {REFERENCE_STATE}")
    day = tmp_path / "sessions" / "2026" / "11" / "21"
    day.mkdir(parents=True)
    for name in (PARENT_ROLLOUT, FORK_ROLLOUT):
        shutil.copy(REFERENCE_STATE / name, day / name)

    parent = load_thread(day / PARENT_ROLLOUT)
    fork = load_thread(day / FORK_ROLLOUT)

    assert fork.thread_id == "01a1fee1-0fe6-7880-b82c-c7f1bc81b6eb"
    own = history_from_records(effective_records(fork.file.records))
    assert own and len(fork.history) == len(parent.history) + len(own)
    assert fork.history[: len(parent.history)] == parent.history
    assert fork.history[len(parent.history) :] == own


def test_delta_fork_whose_parent_is_gone_is_a_clear_error(tmp_path: Path) -> None:
    if not (REFERENCE_STATE / FORK_ROLLOUT).is_file():
        pytest.skip(f"reference data not found in {REFERENCE_STATE}")
    day = tmp_path / "sessions" / "2026" / "11" / "21"
    day.mkdir(parents=True)
    shutil.copy(REFERENCE_STATE / FORK_ROLLOUT, day / FORK_ROLLOUT)
    with pytest.raises(ThreadNotFoundError, match=r"01a1fee1-0c01-7441-9387-0e9cb13f5e2a.*not found"):
        load_thread(day / FORK_ROLLOUT)


async def test_clearing_the_effort_mid_thread_is_not_undone_by_the_first_settings(
    tmp_path: Path, mock_model: MockModelServer
) -> None:
    """`override_turn_context{effort: null}` clears the effort: a model without a default
    effort then gets none, not the one the thread started with."""
    world = World(tmp_path, mock_model, 'model = "local-coder"\nmodel_reasoning_effort = "high"')
    mock_model.enqueue(response(message("one")), response(message("two")))
    thread, _ = await world.start()
    await turn(thread, "first")
    await thread.submit(OverrideTurnContextOp(effort=None))
    await turn(thread, "second")
    await thread.shutdown()
    first, second = (r.body for r in mock_model.model_requests())
    assert first["reasoning"]["effort"] == "high"
    assert "effort" not in (second.get("reasoning") or {})


async def test_finding_and_reading_a_thread_happen_off_the_event_loop(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding a thread may rebuild the index and reading it may take a second (a big
    rollout): neither may stall the other threads served by the same loop."""
    import threading

    import pycodex.core.thread_manager as manager_module

    world.mock.enqueue(response(message("one")))
    first, configured = await world.start()
    await turn(first, "hello")
    await first.shutdown()
    on_loop: list[bool] = []
    real_find = manager_module.find_rollout

    def find(home: Path, target: str) -> Path | None:
        on_loop.append(threading.current_thread() is threading.main_thread())
        return real_find(home, target)

    monkeypatch.setattr(manager_module, "find_rollout", find)
    resumed, _ = await world.resume(configured.session_id)
    await resumed.shutdown()
    forked, _ = await world.fork(configured.session_id)
    await forked.shutdown()
    assert on_loop == [False, False]


async def _pid_from_fifo(fifo: Path, timeout: float = 30) -> int:
    """The pid a command writes into `fifo`: its write blocks until this reads, so when
    this returns the command is running (no polling)."""
    try:
        async with asyncio.timeout(timeout):
            return int(await asyncio.to_thread(fifo.read_text))
    finally:
        # Never leave the reader thread blocked in open() (a failed test must not hang).
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


async def test_twenty_threads_at_once_and_one_interrupted(world: World, tmp_path: Path) -> None:
    """One process, twenty threads, each running a command in a turn: interrupting one
    kills its command only; every other thread completes with its own output and items,
    seen alike by the default reader and by a second subscriber."""
    from pycodex.protocol.events import (
        AgentMessageEvent,
        ExecCommandEndEvent,
        ItemCompletedEvent,
        TurnAbortedEvent,
    )
    from pycodex.protocol.ops import InterruptOp
    from tests.support.mock_model import RecordedRequest, Reply

    slow_pid = tmp_path / "slow.pid"
    os.mkfifo(slow_pid)

    def route(request: RecordedRequest) -> Reply:
        items = request.body["input"]
        if items[-1].get("type") == "function_call_output":
            number = re.search(r"out-(\d+)", json.dumps(items[-1])).group(1)  # type: ignore[union-attr]
            return response(message(f"done {number}"))
        number = re.search(r"run (\d+)", json.dumps(items[-1])).group(1)  # type: ignore[union-attr]
        command = (f"echo $$ > {slow_pid}; exec sleep 60" if number == "7"
                   else f"echo out-{number}")
        return response(shell(command, f"call_{number}"))

    world.mock.enqueue(*([route] * 40))
    threads = [(await world.start())[0] for _ in range(20)]
    watchers = [t.subscribe() for t in threads]
    for n, thread in enumerate(threads):
        await thread.submit(UserInputOp(items=[TextInput(text=f"run {n}")]))
    pid = await _pid_from_fifo(slow_pid)
    await threads[7].submit(InterruptOp())
    results = await asyncio.gather(*(
        until(t, TurnAbortedEvent if n == 7 else TaskCompleteEvent, timeout=150)
        for n, t in enumerate(threads)
    ))
    for n, events in enumerate(results):
        watched = [(await watchers[n].next()).msg for _ in events]
        assert watched == events  # the second reader saw the very same stream
        if n == 7:
            assert isinstance(events[-1], TurnAbortedEvent)
            assert not any(isinstance(e, TaskCompleteEvent) for e in events)
            continue
        ends = [e for e in events if isinstance(e, ExecCommandEndEvent)]
        errors = [e for e in events if type(e).__name__ in ("ErrorEvent", "StreamErrorEvent")]
        assert [e.aggregated_output.strip() for e in ends] == [f"out-{n}"], errors
        completed = [e for e in events if isinstance(e, TaskCompleteEvent)]
        assert completed[-1].last_agent_message == f"done {n}", errors
        said = [e.message for e in events if isinstance(e, AgentMessageEvent)]
        assert said == [f"done {n}"], errors
        # Whatever items the thread completed are its own, never another thread's.
        texts = json.dumps([e.to_wire() for e in events if isinstance(e, ItemCompletedEvent)])
        assert not re.search(rf"(?:out|done) (?!{n}\b)\d+", texts.replace("out-", "out ")), texts
    assert not Path(f"/proc/{pid}").exists() or " Z " in Path(f"/proc/{pid}/stat").read_text()
    for thread in threads:
        await thread.shutdown()


async def test_an_open_thread_is_resumed_as_itself_and_forgotten_once_closed(world: World) -> None:
    """Never two sessions recording into one rollout; and a long-lived manager (the
    app-server) does not keep every thread it ever served."""
    world.mock.enqueue(response(message("one")), response(message("two")))
    thread, configured = await world.start()
    await turn(thread, "hello")
    again = await world.manager.resume_thread(world.config(), configured.session_id)
    assert again is thread
    assert configured.rollout_path is not None
    by_path = await world.manager.resume_thread(world.config(), Path(configured.rollout_path))
    assert by_path is thread
    await thread.shutdown()
    assert world.manager.get_thread(configured.session_id) is None
    reopened, _ = await world.resume(configured.session_id)
    assert reopened is not thread
    await turn(reopened, "still works")
    await reopened.shutdown()
    assert world.manager.get_thread(configured.session_id) is None


async def _recorded_threads(world: World, count: int) -> list[str]:
    world.mock.enqueue(*(response(message(f"answer {n}")) for n in range(count)))
    ids = []
    for n in range(count):
        thread, configured = await world.start()
        await turn(thread, f"task number {n}")
        await thread.shutdown()
        ids.append(configured.session_id)
    return ids


async def test_listing_pages_and_filters_recorded_threads(world: World) -> None:
    from pycodex.core import ThreadListQuery, ThreadQueryError

    ids = await _recorded_threads(world, 3)
    manager = world.manager
    first = await manager.list_threads(ThreadListQuery(limit=2))
    assert len(first.items) == 2 and first.next_cursor is not None
    rest = await manager.list_threads(ThreadListQuery(limit=2, cursor=first.next_cursor))
    assert rest.next_cursor is None
    assert sorted(r.id for r in [*first.items, *rest.items]) == sorted(ids)
    # Filters SQL is not given directly (several values, exclusions) page the same way.
    skip = ids[1]
    seen: list[str] = []
    cursor = None
    while True:
        page = await manager.list_threads(
            ThreadListQuery(limit=1, cursor=cursor, excluded_thread_ids=[skip],
                            cwd=[str(world.ws), "/nowhere"], model_providers=["mock", "other"])
        )
        seen += [r.id for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(i for i in ids if i != skip)
    found = await manager.list_threads(ThreadListQuery(search_term="task number 2"))
    assert [r.id for r in found.items] == [ids[2]] and found.items[0].title == "task number 2"
    elsewhere = await manager.list_threads(ThreadListQuery(model_providers=["other", "another"]))
    assert elsewhere.items == []
    with pytest.raises(ThreadQueryError, match="sort direction"):
        await manager.list_threads(ThreadListQuery(sort_direction="asc"))
    with pytest.raises(ThreadQueryError, match="cursor"):
        await manager.list_threads(ThreadListQuery(cursor="not a cursor"))


async def test_archive_unarchive_name_delete_through_the_manager(world: World) -> None:
    from pycodex.core import ThreadListQuery

    manager = world.manager
    world.mock.enqueue(response(message("kept")))
    thread, configured = await world.start()
    await turn(thread, "keep me")
    original = Path(str(configured.rollout_path))
    # Archiving an open thread closes it first: no session writes a moved file.
    archived = await manager.archive_thread(configured.session_id)
    assert not thread.running and manager.get_thread(configured.session_id) is None
    assert archived.archived and Path(archived.rollout_path).parent.name == "archived_sessions"
    assert Path(archived.rollout_path).is_file() and not original.exists()
    listed = await manager.list_threads(ThreadListQuery())
    assert configured.session_id not in [r.id for r in listed.items]
    listed = await manager.list_threads(ThreadListQuery(archived=True))
    assert [r.id for r in listed.items] == [configured.session_id]

    back = await manager.unarchive_thread(configured.session_id)
    assert not back.archived and Path(back.rollout_path) == original and original.is_file()
    named = await manager.set_thread_name(configured.session_id, "  my thread ")
    assert named.name == "my thread"
    assert (await manager.read_thread("my thread")).id == configured.session_id
    deleted = await manager.delete_thread("my thread")
    assert deleted.id == configured.session_id and not original.exists()
    with pytest.raises(ThreadNotFoundError):
        await manager.read_thread(configured.session_id)
    with pytest.raises(ThreadNotFoundError):
        await manager.archive_thread(configured.session_id)


async def test_loaded_threads_are_listed_a_page_at_a_time(world: World) -> None:
    manager = world.manager
    one, _ = await world.start()
    two, _ = await world.start()
    first = manager.list_loaded(limit=1)
    assert len(first.data) == 1 and first.next_cursor is not None
    second = manager.list_loaded(cursor=first.next_cursor, limit=1)
    assert second.next_cursor is None
    assert sorted([*first.data, *second.data]) == sorted([one.thread_id, two.thread_id])
    assert await manager.close_thread(one.thread_id)
    assert not await manager.close_thread(one.thread_id)
    assert manager.list_loaded().data == [two.thread_id]
    await manager.close_all()
    assert manager.list_loaded().data == [] and not two.running
