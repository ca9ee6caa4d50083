"""`ThreadManager` creates and tracks threads; `CodexThread` is what a front end holds.

The manager also answers for recorded threads (list, read, archive, unarchive, delete,
name) through `ThreadStore`, off the event loop, and minds the open ones: a thread is
closed before its rollout is moved or deleted, resuming an open thread returns it as
it is, and a closed thread is forgotten.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from pycodex import __version__
from pycodex.auth.external import ExternalTokens
from pycodex.auth.provider_auth import ProviderAuth, provider_auth_for, routed_provider
from pycodex.client.client import ModelClient
from pycodex.config.config import Config
from pycodex.config.home import pycodex_home
from pycodex.context.instructions import load_base_instructions, load_user_instructions
from pycodex.ids import uuid7
from pycodex.protocol.events import Event, SessionConfiguredEvent, WarningEvent
from pycodex.protocol.ops import Op, ReviewOp, UserInputOp, UserTurnOp
from pycodex.protocol.policies import AskForApproval, SandboxPolicy
from pycodex.rollout.bounds import DEFAULT_MAX_ITEM_BYTES
from pycodex.rollout.git_info import collect_git_info
from pycodex.rollout.history_file import PromptHistory
from pycodex.rollout.index import ThreadIndexer, append_name, read_names
from pycodex.rollout.recorder import RolloutLine, RolloutRecorder, rollout_path_for, utc_timestamp

from .codex import Codex
from .compact import compaction_settings
from .model_info import effective_context_window
from .resume import (
    LoadedThread,
    ThreadNotFoundError,
    cut_before_nth_last_turn,
    find_rollout,
    history_from_records,
    initial_messages,
    last_token_info,
    load_thread,
    restore_session,
)
from .session import Session, SessionServices
from .subscribers import DEFAULT_CAPACITY, Subscription
from .threads import ThreadListQuery, ThreadStore, ThreadSummary, ThreadSummaryPage
from .turn_context import SessionSettings

if TYPE_CHECKING:
    from pycodex.config.providers import ModelProviderInfo
    from pycodex.http import httpx2
    from pycodex.mcp.elicitation import Elicitor
    from pycodex.mcp.manager import McpConnectionManager
    from pycodex.mcp.status import McpServerState
    from pycodex.telemetry.events import SessionTelemetry


class ThreadOptions(msgspec.Struct, frozen=True):
    """Who is running threads: shows in headers (`originator`) and rollouts (`source`)."""

    originator: str = "pycodex_exec"
    source: str = "exec"
    env: Mapping[str, str] | None = None
    # Test seam for the model client's HTTP; None = real network.
    transport: httpx2.AsyncBaseTransport | None = None
    # A resumed thread's recorded events in `SessionConfigured.initial_messages`, for a UI
    # to repaint the conversation (`exec` shows none of them, and on a big thread they
    # cost more than the rest of the resume).
    replay_events: bool = True
    # Where recorded threads are listed, archived, deleted (None: `$PYCODEX_HOME` of `env`).
    home: Path | None = None
    # ChatGPT tokens a host app supplied (app-server `chatgptAuthTokens`), shared by threads.
    external_auth: ExternalTokens | None = None


class LoadedThreadPage(msgspec.Struct, frozen=True):
    """A page of the ids of open threads (`thread/loaded/list`)."""

    data: list[str]
    next_cursor: str | None


def _inherited_name(home: Path, thread_id: str, loaded: LoadedThread | None) -> str | None:
    """A fork keeps its parent's name, as in Codex (session_index.jsonl and index)."""
    name = read_names(home).get(loaded.thread_id) if loaded else None
    if name:
        append_name(home, thread_id, name)
    return name


def _load(home: Path, target: str | Path) -> LoadedThread:
    """Find (the index may be rebuilt) and read a recorded thread: blocking, for a worker
    thread. Raises `ThreadNotFoundError`."""
    path = target if isinstance(target, Path) else find_rollout(home, target)
    if path is None:
        raise ThreadNotFoundError(f"no rollout found for thread id {target}")
    return load_thread(path)


class CodexThread:
    """One open thread: `submit(op)`, and read its events with `subscribe()` (as many
    readers as wanted, see :mod:`.subscribers`) or `next_event()` (the default reader,
    whose first event is `SessionConfigured`)."""

    def __init__(
        self, codex: Codex, rollout_path: Path | None, on_close: Callable[[], None] | None = None
    ) -> None:
        self._codex = codex
        self.rollout_path = rollout_path
        self._on_close = on_close
        self._elicitor: Elicitor | None = None

    @property
    def thread_id(self) -> str:
        return self._codex.thread_id

    @property
    def running(self) -> bool:
        """Whether the thread still takes ops (not shut down, its loop alive)."""
        return self._codex.running

    @property
    def active_turn_id(self) -> str | None:
        """The id of the turn running now (None when idle)."""
        return self._codex.active_turn_id

    @property
    def subscriber_count(self) -> int:
        """Open subscriptions, the default one (`next_event()`) included."""
        return self._codex.subscriber_count

    async def submit(self, op: Op) -> str:
        return await self._codex.submit(op)

    async def start_turn(self, op: UserInputOp | UserTurnOp) -> str:
        """Submit user input; the id of the turn it went into (new, or the running one)."""
        return await self._codex.start_turn(op)

    async def start_review(self, op: ReviewOp) -> str:
        """Start a review turn; its id. Raises `ThreadBusy` while another turn runs."""
        return await self._codex.start_review(op)

    async def steer(self, op: UserInputOp, expected_turn_id: str | None = None) -> str:
        """Input for the running turn only; raises `NoActiveTurn` / `ActiveTurnMismatch`."""
        return await self._codex.steer(op, expected_turn_id)

    async def next_event(self) -> Event:
        return await self._codex.next_event()

    def subscribe(self, capacity: int = DEFAULT_CAPACITY) -> Subscription:
        """Every event from now on; `close()` the subscription when done with it."""
        return self._codex.subscribe(capacity)

    def set_elicitor(self, elicitor: Elicitor) -> bool:
        """Who answers this thread's MCP questions (a server's `elicitation/create`, an MCP
        tool's approval); without one they are declined with a warning. False when the
        thread has no MCP servers (nothing will ever ask)."""
        self._elicitor = elicitor  # also for the servers of a later reload
        mcp = self._codex.session.mcp
        if mcp is None:
            return False
        mcp.set_elicitor(elicitor)
        return True

    async def reload_mcp_servers(self, config: Config, env: Mapping[str, str]) -> None:
        """Stop this thread's MCP servers and start the ones `config` names (a changed
        `[mcp_servers]`): later turns see the new tools. A call in flight fails; a server
        that does not start is reported as at session start, without ending the thread."""
        session = self._codex.session
        old, session.mcp = session.mcp, None
        if old is not None:
            await old.close()
        manager = _mcp_manager(session, config, env)
        if manager is not None and self._elicitor is not None:
            manager.set_elicitor(self._elicitor)

    async def mcp_server_states(self, *, with_resources: bool = True) -> list[McpServerState]:
        """This thread's MCP servers as they are now (one still starting says so)."""
        from pycodex.mcp.status import server_states

        mcp = self._codex.session.mcp
        return [] if mcp is None else await server_states(mcp, with_resources=with_resources)

    async def shutdown(self) -> None:
        try:
            await self._codex.shutdown()
        finally:
            if self._on_close is not None:
                self._on_close()


async def probe_mcp_servers(
    config: Config, env: Mapping[str, str], *, with_resources: bool = True
) -> list[McpServerState]:
    """The configured MCP servers, started just to look at them (each within its start-up
    timeout), then stopped: for status listings when no thread is open."""
    from pycodex.mcp.status import probe_servers

    return await probe_servers(config.mcp_servers, env, config.cwd, with_resources=with_resources)


def sandbox_policy_for(config: Config) -> SandboxPolicy:
    ww = config.sandbox_workspace_write
    return SandboxPolicy.from_mode(
        config.sandbox_mode,
        writable_roots=[str(p) for p in config.writable_roots],
        network_access=ww.network_access,
        exclude_tmpdir_env_var=ww.exclude_tmpdir_env_var,
        exclude_slash_tmp=ww.exclude_slash_tmp,
    )


class ThreadManager:
    def __init__(self, options: ThreadOptions | None = None) -> None:
        self.options = options or ThreadOptions()
        self._threads: dict[str, CodexThread] = {}

    @property
    def store(self) -> ThreadStore:
        """The recorded threads (blocking; the async methods below run it off the loop)."""
        opts = self.options
        return ThreadStore(opts.home if opts.home is not None else pycodex_home(opts.env))

    def get_thread(self, thread_id: str) -> CodexThread | None:
        return self._threads.get(thread_id)

    def remove_thread(self, thread_id: str) -> CodexThread | None:
        return self._threads.pop(thread_id, None)

    def loaded_thread_ids(self) -> list[str]:
        """Ids of the open threads, oldest first (ids are UUIDv7: time-ordered)."""
        return sorted(self._threads)

    def list_loaded(self, cursor: str | None = None, limit: int | None = None) -> LoadedThreadPage:
        """A page of `loaded_thread_ids()`: those after `cursor` (a thread id)."""
        ids = [i for i in self.loaded_thread_ids() if cursor is None or i > cursor]
        if limit is None or len(ids) <= limit:
            return LoadedThreadPage(ids, None)
        page = ids[: max(limit, 0)]
        return LoadedThreadPage(page, page[-1] if page else cursor)

    async def close_thread(self, thread_id: str) -> bool:
        """Shut an open thread down (it is then forgotten); False if it was not open."""
        thread = self._threads.get(thread_id)
        if thread is None:
            return False
        await thread.shutdown()
        return True

    async def close_all(self) -> None:
        """Shut every open thread down (a server stopping)."""
        await asyncio.gather(*(t.shutdown() for t in list(self._threads.values())))

    # --- recorded threads ---------------------------------------------------------------

    async def list_threads(self, query: ThreadListQuery | None = None) -> ThreadSummaryPage:
        """Raises `ThreadQueryError` (bad query) or `ThreadStoreError` (no index)."""
        return await asyncio.to_thread(self.store.list, query)

    async def read_thread(self, id_or_name: str) -> ThreadSummary:
        """Raises `ThreadNotFoundError`."""
        return await asyncio.to_thread(self.store.get, id_or_name)

    async def archive_thread(self, id_or_name: str) -> ThreadSummary:
        """Close the thread if open, then move its rollout to the archive."""
        return await self._move(id_or_name, ThreadStore.archive)

    async def unarchive_thread(self, id_or_name: str) -> ThreadSummary:
        """Close the thread if open, then move its rollout back under `sessions/`."""
        return await self._move(id_or_name, ThreadStore.unarchive)

    async def delete_thread(self, id_or_name: str) -> ThreadSummary:
        """Close the thread if open, then delete its rollout and index row."""
        return await self._move(id_or_name, ThreadStore.delete)

    async def set_thread_name(self, id_or_name: str, name: str | None) -> ThreadSummary:
        store = self.store
        return await asyncio.to_thread(store.set_name, id_or_name, name)

    async def _move(
        self, id_or_name: str, action: Callable[[ThreadStore, str], ThreadSummary]
    ) -> ThreadSummary:
        store = self.store
        row = await asyncio.to_thread(store.get, id_or_name)
        # A live session keeps writing (and indexing) the file: never move it under one.
        await self.close_thread(row.id)
        return await asyncio.to_thread(action, store, row.id)

    async def start_thread(self, config: Config) -> CodexThread:
        """A new thread; its `SessionConfigured` event is the first one queued."""
        thread = await self._spawn(config, uuid7(), None)
        if isinstance(config.config_toml.debug, dict):
            # `debug.config_lockfile.export_dir`: a root thread records its effective config.
            from pycodex.config.lockfile import export_lockfile

            await asyncio.to_thread(export_lockfile, config, thread.thread_id)
        return thread

    async def resume_thread(self, config: Config, target: str | Path) -> CodexThread:
        """Continue a recorded thread (by id, name or rollout path): same id, same file.

        A thread already open in this manager is returned as it is: two sessions recording
        into one file would interleave their turns. Raises `ThreadNotFoundError` when
        there is no such thread.
        """
        open_thread = self._threads.get(str(target).lower()) if isinstance(target, str) else None
        if open_thread is not None:
            return open_thread
        loaded = await asyncio.to_thread(_load, config.pycodex_home, target)
        open_thread = self._threads.get(loaded.thread_id)
        if open_thread is not None:
            return open_thread
        return await self._spawn(config, loaded.thread_id, _Initial(loaded, fork=False))

    async def fork_thread(
        self, config: Config, thread_id: str | Path, nth_user_message: int | None = None
    ) -> CodexThread:
        """A new thread starting from a copy of another's history (by id, name or rollout
        path): all of it, or what came before its `nth_user_message`-th last user message
        (1 = without the last turn)."""
        loaded = await asyncio.to_thread(_load, config.pycodex_home, thread_id)
        loaded.records = cut_before_nth_last_turn(loaded.records, nth_user_message)
        loaded.history = history_from_records(loaded.records)
        loaded.token_info = last_token_info(loaded.records) or (
            loaded.token_info if nth_user_message is None else None
        )
        return await self._spawn(config, uuid7(), _Initial(loaded, fork=True))

    async def _spawn(self, config: Config, thread_id: str, initial: _Initial | None) -> CodexThread:
        opts = self.options
        env = opts.env if opts.env is not None else os.environ
        loaded = initial.loaded if initial is not None else None
        base_instructions, user_instructions = _instructions(config, loaded)
        # Credentials are resolved per request (env key, stored key or ChatGPT tokens).
        auth, provider = provider_auth_for(config, env, opts.external_auth)
        telemetry, telemetry_warning = _telemetry(config, env, thread_id, opts.originator, auth)

        def route() -> ModelProviderInfo:
            return routed_provider(config.model_provider, auth, config.chatgpt_base_url)

        client = ModelClient(
            provider,
            route=route,
            model=config.model,
            thread_id=thread_id,
            auth=auth,
            observer=telemetry,
            originator=opts.originator,
            reasoning_effort=config.model_reasoning_effort,
            reasoning_summary=config.model_reasoning_summary,
            verbosity=config.model_verbosity,
            transport=opts.transport,
            env=env,
        )
        recorder = await self._open_recorder(config, thread_id, initial, base_instructions)
        session = _new_session(
            config, thread_id, client, recorder, env,
            base_instructions=base_instructions, user_instructions=user_instructions,
        )
        if telemetry is not None:
            session.observer = telemetry
            session.approvals.decision_observer = telemetry.on_tool_decision
        prompt_history = PromptHistory(
            config.pycodex_home, config.history.persistence, config.history.max_bytes
        )
        history_meta = await asyncio.to_thread(prompt_history.metadata)
        session.emit("", self._configured_event(config, session, initial, recorder, history_meta))
        if telemetry_warning is not None:
            session.emit("", WarningEvent(message=telemetry_warning))
        if loaded is None:
            session.record_items(session.initial_context())
        else:
            restore_session(session, loaded, copy_records=initial is not None and initial.fork)
        if recorder is not None:
            await asyncio.to_thread(recorder.flush)
        if config.mcp_servers:
            await _start_mcp_servers(session, config, env)
        thread = CodexThread(
            Codex(
                session,
                prompt_history=prompt_history,
                compaction=compaction_settings(config),
                review_model=config.review_model,
            ),
            recorder.path if recorder is not None else None,
            # A closed thread is forgotten: a long-lived server must not keep them all.
            on_close=lambda: self._forget(thread_id, thread),
        )
        self._threads[thread_id] = thread
        return thread

    async def _open_recorder(
        self, config: Config, thread_id: str, initial: _Initial | None, base_instructions: str
    ) -> RolloutRecorder | None:
        """The thread's rollout: the resumed one reopened for appending, or a new file that
        starts with the session_meta line; None for an ephemeral thread."""
        if config.ephemeral:
            return None
        rollout_toml = config.config_toml.rollout
        max_item_bytes = (
            rollout_toml.max_item_bytes
            if rollout_toml is not None and rollout_toml.max_item_bytes is not None
            else DEFAULT_MAX_ITEM_BYTES
        )
        loaded = initial.loaded if initial is not None else None
        if initial is not None and not initial.fork and loaded is not None:
            seed = await asyncio.to_thread(loaded.seed_row_builder, config.pycodex_home)
            # Files opened (and a crash's partial line repaired) off the event loop.
            return await asyncio.to_thread(
                RolloutRecorder,
                loaded.path,
                next_ordinal=loaded.file.next_ordinal,
                indexer=ThreadIndexer(config.pycodex_home, loaded.path, seed=seed),
                max_item_bytes=max_item_bytes,
            )
        path = rollout_path_for(config.pycodex_home, thread_id, dt.datetime.now())
        # A fork keeps its parent's name, as in Codex (session_index.jsonl and index).
        name = await asyncio.to_thread(_inherited_name, config.pycodex_home, thread_id, loaded)
        recorder = await asyncio.to_thread(
            RolloutRecorder,
            path,
            indexer=ThreadIndexer(config.pycodex_home, path, name=name),
            max_item_bytes=max_item_bytes,
        )
        meta: dict[str, Any] = {
            "id": thread_id,
            "timestamp": utc_timestamp(),
            "cwd": str(config.cwd),
            "originator": self.options.originator,
            "cli_version": __version__,
            "source": self.options.source,
            "model_provider": config.model_provider_id,
            "base_instructions": {"text": base_instructions},
            "git": await collect_git_info(config.cwd),
        }
        if loaded is not None:
            meta["forked_from_id"] = loaded.thread_id
        recorder.record([RolloutLine("session_meta", meta)])
        return recorder

    def _configured_event(
        self,
        config: Config,
        session: Session,
        initial: _Initial | None,
        recorder: RolloutRecorder | None,
        history_meta: Any,
    ) -> SessionConfiguredEvent:
        loaded = initial.loaded if initial is not None else None
        settings = session.settings
        return SessionConfiguredEvent(
            session_id=session.thread_id,
            forked_from_id=loaded.thread_id if initial is not None and initial.fork and loaded else None,
            model=config.model,
            model_provider_id=config.model_provider_id,
            approval_policy=settings.approval_policy,
            sandbox_policy=settings.sandbox_policy,
            cwd=str(config.cwd),
            reasoning_effort=None,
            history_log_id=history_meta.log_id,
            history_entry_count=history_meta.entry_count,
            initial_messages=(
                initial_messages(loaded.records)
                if loaded is not None and self.options.replay_events
                else None
            ),
            rollout_path=str(recorder.path) if recorder is not None else None,
        )

    def _forget(self, thread_id: str, thread: CodexThread) -> None:
        if self._threads.get(thread_id) is thread:
            del self._threads[thread_id]


def _instructions(config: Config, loaded: Any) -> tuple[str, str | None]:
    """(base, user) instructions of a thread; a resumed or forked thread keeps the base
    instructions it started with, whatever the model now."""
    base = (loaded.base_instructions if loaded is not None else None) or (
        config.base_instructions or load_base_instructions(config.model_instructions_file)
    )
    user = load_user_instructions(
        home=config.pycodex_home,
        cwd=config.cwd,
        max_bytes=config.project_doc_max_bytes,
        fallback_filenames=config.project_doc_fallback_filenames,
    )
    if config.instructions:
        user = "\n\n".join(filter(None, [config.instructions, user]))
    return base, user


def _new_session(
    config: Config,
    thread_id: str,
    client: ModelClient,
    recorder: RolloutRecorder | None,
    env: Mapping[str, str],
    *,
    base_instructions: str,
    user_instructions: str | None,
) -> Session:
    settings = SessionSettings(
        cwd=config.cwd,
        model=config.model,
        approval_policy=AskForApproval(config.approval_policy),
        sandbox_policy=sandbox_policy_for(config),
        reasoning_effort=config.model_reasoning_effort,
        reasoning_summary=config.model_reasoning_summary,
        verbosity=config.model_verbosity,
    )
    return Session(
        thread_id=thread_id,
        settings=settings,
        services=SessionServices(
            client=client,
            recorder=recorder,
            env_policy=config.shell_environment_policy,
            base_env=env,
            show_raw_agent_reasoning=config.show_raw_agent_reasoning,
            unified_exec=config.feature_enabled("unified_exec"),
            shell_snapshot=config.feature_enabled("shell_snapshot"),
            ignore_rules=config.ignore_rules,
            notify=config.notify,
            tools=config.tools,
            web_search=config.web_search,
        ),
        base_instructions=base_instructions,
        user_instructions=user_instructions,
        developer_instructions=config.developer_instructions,
        writable_roots=config.writable_roots,
        context_window=effective_context_window(config.model, config.model_context_window),
    )


def _telemetry(
    config: Config, env: Mapping[str, str], thread_id: str, originator: str, auth: ProviderAuth
) -> tuple[SessionTelemetry | None, str | None]:
    """The thread's telemetry when `[otel]` enables an exporter of logs or traces (only then
    is the telemetry package, and OpenTelemetry with it, imported), and a warning for the
    user, if any."""
    if all(config.otel.get(key, "none") in ("none", None) for key in ("exporter", "trace_exporter")):
        return None, None  # the default: nothing exported, nothing imported
    from pycodex.auth.provider_auth import telemetry_identity
    from pycodex.telemetry.install import telemetry_for

    mode, account = telemetry_identity(auth)
    setup = telemetry_for(
        config, env, thread_id=thread_id, service_name=originator,
        auth_mode=mode, account_id=account,
    )
    return setup.telemetry, setup.warning


def _mcp_manager(session: Session, config: Config, env: Mapping[str, str]) -> McpConnectionManager | None:
    """The session's MCP servers (its enabled `[mcp_servers]`), installed and starting in
    the background; None when there are none."""
    from pycodex.mcp.manager import McpConnectionManager
    from pycodex.mcp.servers import enabled_servers

    servers = enabled_servers(config.mcp_servers, env, config.cwd)
    if not servers:
        return None
    manager = McpConnectionManager(servers, lambda msg: session.emit("", msg))
    session.mcp = manager
    manager.start()
    return manager


async def _start_mcp_servers(session: Session, config: Config, env: Mapping[str, str]) -> None:
    """Start the session's MCP servers (in the background: only `required` ones are
    waited for here). A required server that fails ends the session before it starts,
    its servers stopped: `McpStartupError` names it."""
    from pycodex.mcp.errors import McpStartupError

    manager = _mcp_manager(session, config, env)
    if manager is None:
        return
    try:
        await manager.wait_required()
    except McpStartupError:
        await manager.close()
        await session.services.client.aclose()
        if session.services.recorder is not None:
            await asyncio.to_thread(session.services.recorder.close)
        raise


class _Initial(msgspec.Struct, frozen=True):
    """Where a thread's history comes from when it is not new."""

    loaded: LoadedThread
    fork: bool
