"""Turning a rollout back into a live thread: history, repaint events, token totals.

The rollout is append-only, so edits to a thread are markers replayed here:
* `thread_rolled_back{num_turns}` drops the last N *user turns* — from the Nth-last real
  user message (not the injected AGENTS.md / `<environment_context>` messages) to the
  end. More turns than exist clears every turn and keeps the initial context.
* `compacted{message, replacement_history?}` replaces the history (server-side
  `compaction` items are ordinary response items and are kept as such).

The same cut (:func:`drop_last_user_turns`) serves live rollback, resume replay and fork,
so a resumed thread sends exactly the `input` the live one would have.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from pycodex.context.history import (
    drop_last_user_turns,
    is_turn_start_text,
    is_user_turn_item,
)
from pycodex.protocol.events import (
    EVENT_TYPES,
    EventMsg,
    ItemCompletedEvent,
    TurnAbortedEvent,
    TurnAbortReason,
    parse_event_msg,
)
from pycodex.protocol.models import (
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputText,
    LocalShellCallItem,
    MessageItem,
    ResponseItem,
    parse_response_item,
    parse_response_item_json,
)
from pycodex.protocol.policies import AskForApproval, SandboxPolicy
from pycodex.protocol.tokens import TokenUsageInfo
from pycodex.rollout.index import (
    ARCHIVED_DIR,
    SESSIONS_DIR,
    RowBuilder,
    ThreadIndex,
    iter_rollout_files,
)
from pycodex.rollout.reader import (
    RolloutFile,
    RolloutRecord,
    iter_records,
    read_rollout,
    timestamp_ms,
)
from pycodex.rollout.recorder import RolloutLine
from pycodex.rollout.rows import ROW_EVENT_TYPES
from pycodex.rollout.thread_index import INDEX_FILE, ThreadIndexError

from .items import legacy_events

# Re-exported (`as`): where callers of this module have always found them.
from .threads import ThreadNotFoundError as ThreadNotFoundError
from .threads import find_rollout as find_rollout
from .turn_context import SessionSettings

if TYPE_CHECKING:
    from .session import Session

ABORTED_OUTPUT = "aborted by user"

T = TypeVar("T")


def is_user_turn_wire(payload: dict[str, Any]) -> bool:
    if payload.get("type") != "message":
        return False
    content = payload.get("content")
    first: Any = ""
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "input_text":
                first = part.get("text")
                break
    return is_turn_start_text(payload.get("role"), first)


def drop_last_history_turns(history: Sequence[ResponseItem], n: int) -> list[ResponseItem]:
    return drop_last_user_turns(history, n, is_user_turn_item)


def _record_is_turn_start(record: RolloutRecord) -> bool:
    return record.type == "response_item" and is_user_turn_wire(record.payload)


def _drop_record_turns(records: list[RolloutRecord], n: int) -> list[RolloutRecord]:
    kept = drop_last_user_turns(records, n, _record_is_turn_start)
    if len(kept) == len(records):
        return kept
    # The dropped turn's preamble (its task_started / turn_context) goes with it.
    while kept and (
        kept[-1].type == "turn_context"
        or (kept[-1].type == "event_msg" and kept[-1].payload_type == "task_started")
    ):
        kept.pop()
    return kept


def effective_records(records: Sequence[RolloutRecord]) -> list[RolloutRecord]:
    """The records with every rollback marker applied (markers themselves removed)."""
    out: list[RolloutRecord] = []
    for record in records:
        if record.type == "event_msg" and record.payload_type == "thread_rolled_back":
            n = record.payload.get("num_turns")
            if isinstance(n, int) and n > 0:
                out = _drop_record_turns(out, n)
            continue
        out.append(record)
    return out


def cut_before_nth_last_turn(records: Sequence[RolloutRecord], n: int | None) -> list[RolloutRecord]:
    """For fork: everything before the `n`th-last user message (None: everything)."""
    if n is None:
        return list(records)
    return _drop_record_turns(list(records), n)


def _parse_item(payload: dict[str, Any]) -> ResponseItem | None:
    try:
        return parse_response_item(payload)
    except ValueError:
        return None


def _parse_items(records: list[RolloutRecord]) -> list[ResponseItem]:
    """The items, skipping malformed ones (a damaged line must not block a resume); each
    keeps the JSON it was read from, which a request sends again as it is."""
    items: list[ResponseItem] = []
    for record in records:
        try:
            if record.decoded is None and record.raw_payload:
                items.append(parse_response_item_json(record.raw_payload))
            else:
                items.append(parse_response_item(record.payload))
        except ValueError:
            continue
    return items


def history_from_records(records: Sequence[RolloutRecord]) -> list[ResponseItem]:
    """The model-visible history the records describe (rollback already applied)."""
    history: list[ResponseItem] = []
    pending: list[RolloutRecord] = []
    for record in records:
        if record.type == "response_item":
            pending.append(record)
        elif record.type == "compacted":
            history.extend(_parse_items(pending))
            pending = []
            history = _compacted(history, record.payload)
    history.extend(_parse_items(pending))
    return history


def _compacted(history: list[ResponseItem], payload: dict[str, Any]) -> list[ResponseItem]:
    replacement = payload.get("replacement_history")
    if isinstance(replacement, list):
        items = [_parse_item(p) for p in replacement if isinstance(p, dict)]
        return [i for i in items if i is not None]
    starts = [i for i, item in enumerate(history) if is_user_turn_item(item)]
    initial = history[: starts[0]] if starts else list(history)
    users = [history[i] for i in starts]
    summary = payload.get("message")
    out = [*initial, *users]
    if isinstance(summary, str) and summary:
        out.append(MessageItem(role="user", content=[InputText(text=summary)]))
    return out


def initial_messages(records: Sequence[RolloutRecord]) -> list[EventMsg]:
    """Persisted events, typed, for a UI to repaint; unknown event types are skipped."""
    payloads = [
        r.payload for r in records if r.type == "event_msg" and r.payload_type in EVENT_TYPES
    ]
    events: list[EventMsg] = []
    for payload in payloads:
        try:
            event = parse_event_msg(payload)
        except ValueError:  # a malformed event is not worth failing a resume for
            continue
        # Finished items repaint as the user/agent/reasoning events they stand for.
        events.extend(legacy_events(event.item) if isinstance(event, ItemCompletedEvent) else [event])
    return events


def last_token_info(records: Sequence[RolloutRecord]) -> TokenUsageInfo | None:
    for record in reversed(records):
        if record.type == "event_msg" and record.payload_type == "token_count":
            info = record.payload.get("info")
            if isinstance(info, dict):
                try:
                    return TokenUsageInfo.from_wire(info)
                except ValueError:
                    continue
    return None


def last_turn_context(records: Sequence[RolloutRecord]) -> dict[str, Any] | None:
    for record in reversed(records):
        if record.type == "turn_context":
            return record.payload
    return None


def dangling_call_outputs(history: Sequence[ResponseItem]) -> list[ResponseItem]:
    """'aborted' outputs for calls left unanswered (a crash mid-tool): the Responses API
    rejects a history with a call and no output."""
    answered = {
        item.call_id for item in history if isinstance(item, FunctionCallOutputItem | CustomToolCallOutputItem)
    }
    missing: list[ResponseItem] = []
    for item in history:
        if isinstance(item, FunctionCallItem | LocalShellCallItem) and item.call_id:
            if item.call_id not in answered:
                missing.append(FunctionCallOutputItem(call_id=item.call_id, output=ABORTED_OUTPUT))
                answered.add(item.call_id)
        elif isinstance(item, CustomToolCallItem) and item.call_id not in answered:
            missing.append(CustomToolCallOutputItem(call_id=item.call_id, output=ABORTED_OUTPUT))
            answered.add(item.call_id)
    return missing


def turn_in_flight(records: Sequence[RolloutRecord]) -> str | None:
    """The turn id of a turn that started and never ended (the process died), if any."""
    # The last turn event decides: read backwards (a big thread has tens of thousands).
    for record in reversed(records):
        if record.type != "event_msg":
            continue
        kind = record.payload_type
        if kind == "task_started":
            return str(record.payload.get("turn_id") or "")
        if kind in ("task_complete", "turn_aborted"):
            return None
    return None


class LoadedThread(msgspec.Struct):
    path: Path
    file: RolloutFile
    thread_id: str
    meta: dict[str, Any]
    records: list[RolloutRecord]  # rollback markers applied
    history: list[ResponseItem]
    token_info: TokenUsageInfo | None
    turn_context: dict[str, Any] | None

    @property
    def archived(self) -> bool:
        return self.path.parent.name == ARCHIVED_DIR

    def row_builder(self) -> RowBuilder:
        """The index fold over the whole file, to seed the resumed recorder's indexer."""
        builder = RowBuilder(self.path, archived=self.archived)
        for record in self.file.records:
            # Only the payloads the fold reads are decoded (a big thread is mostly items).
            wanted = record.type in ("session_meta", "turn_context") or (
                record.type == "event_msg" and record.payload_type in ROW_EVENT_TYPES
            )
            builder.apply(record.type, record.payload if wanted else {}, record.timestamp)
        return builder

    def seed_row_builder(self, home: Path) -> RowBuilder:
        """`row_builder()`, or (much cheaper on a big thread) the row the index already
        holds when it has seen every line of the file. Blocking: call in a worker thread."""
        last = self.file.records[-1].timestamp if self.file.records else ""
        if last and (home / INDEX_FILE).is_file():
            try:
                with ThreadIndex(home, refresh_stale=False) as index:
                    row = index.get(self.thread_id)
            except (ThreadIndexError, OSError):
                row = None
            if (
                row is not None
                and row.rollout_path == str(self.path)
                and row.updated_at == timestamp_ms(last)
            ):
                return RowBuilder.from_row(row)
        return self.row_builder()

    @property
    def base_instructions(self) -> str | None:
        base = self.meta.get("base_instructions")
        text = base.get("text") if isinstance(base, dict) else None
        return text if isinstance(text, str) else None


def load_thread(path: Path) -> LoadedThread:
    """Read and replay one rollout. Raises `ThreadNotFoundError` if it has no header."""
    try:
        rollout = read_rollout(path)
    except OSError as exc:
        raise ThreadNotFoundError(f"cannot read rollout {path}: {exc.strerror}") from exc
    meta = rollout.meta
    if meta is None or not isinstance(meta.get("id"), str):
        raise ThreadNotFoundError(f"rollout {path} has no session_meta line")
    inherited = inherited_records(path, meta)
    every = [*inherited, *rollout.records]
    records = effective_records(every) if inherited or rollout.may_have_rollbacks else every
    return LoadedThread(
        path=path,
        file=rollout,
        thread_id=meta["id"],
        meta=meta,
        records=records,
        history=history_from_records(records),
        token_info=last_token_info(every),
        turn_context=last_turn_context(records),
    )


# A delta chain longer than this is treated as a loop (a damaged or hand-edited file).
MAX_HISTORY_BASE_DEPTH = 64


def inherited_records(path: Path, meta: dict[str, Any], depth: int = 0) -> list[RolloutRecord]:
    """The history a *delta* rollout starts from.

    Codex writes a fork (and a `thread/revert` segment) as a file that does not copy the
    parent's lines: its `session_meta.history_base` = {thread_id, end_ordinal_exclusive,
    end_byte_offset} says "the parent's records before this point come first". Those
    are read here (following the parent's own base, if any), so a thread forked in Codex
    resumes in pycodex with its whole history.
    """
    base = meta.get("history_base")
    if not isinstance(base, dict):
        return []
    parent_id = base.get("thread_id")
    if not isinstance(parent_id, str) or depth >= MAX_HISTORY_BASE_DEPTH:
        raise ThreadNotFoundError(f"rollout {path} has an unusable history_base: {base}")
    home = _home_of(path)
    parent = _base_rollout(home, parent_id, exclude=path) if home is not None else None
    if parent is None:
        raise ThreadNotFoundError(
            f"rollout {path} continues thread {parent_id}, whose rollout was not found"
        )
    try:
        data = parent.read_bytes()
    except OSError as exc:
        raise ThreadNotFoundError(f"cannot read rollout {parent}: {exc.strerror}") from exc
    end_offset, end_ordinal = base.get("end_byte_offset"), base.get("end_ordinal_exclusive")
    if isinstance(end_offset, int) and 0 <= end_offset <= len(data):
        data = data[:end_offset]
    records = [
        r
        for r in iter_records(data)
        if r is not None and (not isinstance(end_ordinal, int) or r.ordinal < end_ordinal)
    ]
    parent_meta = next((r.payload for r in records if r.type == "session_meta"), None)
    earlier = inherited_records(parent, parent_meta, depth + 1) if parent_meta is not None else []
    return [*earlier, *records]


def _home_of(path: Path) -> Path | None:
    """The pycodex/Codex home a rollout lives in (`<home>/sessions/Y/M/D/…`, `<home>/archived_sessions/…`)."""
    for ancestor in path.parents:
        if ancestor.name in (SESSIONS_DIR, ARCHIVED_DIR):
            return ancestor.parent
    return None


def _base_rollout(home: Path, thread_id: str, *, exclude: Path) -> Path | None:
    found = find_rollout(home, thread_id)
    if found is not None and found.resolve() != exclude.resolve():
        return found
    # A revert segment's base is an earlier file of the same thread
    # (`rollout-<ts>-<id>_<segment>.jsonl`, or the thread's first file).
    wanted = thread_id.lower()
    for candidate, _archived in iter_rollout_files(home):
        if candidate.resolve() != exclude.resolve() and wanted in candidate.name.lower():
            return candidate
    return None


def _settings_from_turn_context(tc: dict[str, Any], current: SessionSettings) -> SessionSettings:
    try:
        return SessionSettings(
            cwd=Path(str(tc.get("cwd") or current.cwd)),
            model=str(tc.get("model") or current.model),
            approval_policy=AskForApproval(tc.get("approval_policy") or current.approval_policy),
            sandbox_policy=(
                SandboxPolicy.parse(tc["sandbox_policy"]) if "sandbox_policy" in tc else current.sandbox_policy
            ),
            reasoning_effort=current.reasoning_effort,
            reasoning_summary=current.reasoning_summary,
            verbosity=current.verbosity,
        )
    except (ValueError, TypeError, KeyError):
        return current


def restore_session(session: Session, loaded: LoadedThread, *, copy_records: bool) -> None:
    """Seed a just-built session with a recorded thread's state.

    `copy_records` (fork): the records are first written into the session's new rollout,
    so the fork is a complete, self-contained copy.
    """
    if copy_records:
        session.persist(
            [RolloutLine(r.type, r.payload) for r in loaded.records if r.type != "session_meta"]
        )
    session.history.replace(loaded.history)
    session.token_info = loaded.token_info
    if loaded.token_info is not None:
        # The provider's last count stands for the restored history, as it did live:
        # automatic compaction then triggers where it would have without the restart.
        session.history.mark_usage(loaded.token_info.last_token_usage.tokens_in_context_window())
    open_turn = turn_in_flight(loaded.records)
    if open_turn is not None:
        # The process died mid-turn: close the turn in the record (not on the event
        # queue, where a front end would take it for the end of its own turn).
        aborted = TurnAbortedEvent(turn_id=open_turn or None, reason=TurnAbortReason.INTERRUPTED)
        session.persist([RolloutLine("event_msg", aborted.to_wire())])
    missing = dangling_call_outputs(list(session.history))
    if missing:
        session.record_items(missing)
    previous = (
        _settings_from_turn_context(loaded.turn_context, session.settings)
        if loaded.turn_context is not None
        else session.settings
    )
    # What the model was last told about its environment; a change is announced on the
    # next turn exactly as in a session that never stopped.
    session.last_environment = session.environment_context(previous)
