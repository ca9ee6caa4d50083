"""`Session`: the state of one thread — history, settings, the running turn, services.

Invariant: at most one task (turn) runs at a time; user input that arrives while it runs
is queued and sent with the turn's next model request.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from pycodex.client.client import ModelClient
from pycodex.config.home import pycodex_home
from pycodex.config.settings import ToolsSettings
from pycodex.context.environment import (
    EnvironmentContext,
    local_timezone_name,
    today,
    user_shell_name,
)
from pycodex.context.history import History
from pycodex.context.instructions import format_user_instructions, skills_instructions
from pycodex.context.permissions import permissions_instructions
from pycodex.process.env import EnvPolicy, build_command_env
from pycodex.protocol.event_payloads import ExecCommandOutputDeltaEvent
from pycodex.protocol.events import Event, EventMsg, WarningEvent
from pycodex.protocol.models import (
    InputText,
    MessageItem,
    ResponseItem,
    developer_message,
    item_to_wire,
)
from pycodex.protocol.policies import AskForApproval, WorkspaceWritePolicy
from pycodex.protocol.tokens import RateLimitSnapshot, TokenUsage, TokenUsageInfo
from pycodex.rollout.recorder import RolloutLine, RolloutRecorder
from pycodex.tools.base import ToolContext
from pycodex.tools.registry import ToolSettings, build_router
from pycodex.tools.router import ToolRouter

from .approvals import SessionApprovals
from .items import TurnItems
from .model_info import model_info
from .notify import TurnNotifier
from .turn_context import SessionSettings, TurnContext

if TYPE_CHECKING:
    from pycodex.mcp.manager import McpConnectionManager
    from pycodex.process.runtime import ShellRuntime
    from pycodex.tools.base import ToolHandler

# Events worth keeping in the rollout: what a UI needs to repaint a resumed conversation
# and what an audit needs. Deltas and tool chatter are not (the response items are). As
# Codex 0.163: finished turn items, not the older user_message / agent_message events.
PERSISTED_EVENTS = frozenset(
    {
        "item_completed",
        "token_count",
        "task_started",
        "task_complete",
        "turn_aborted",
        "thread_rolled_back",
        "entered_review_mode",
        "exited_review_mode",
        "context_compacted",
        "error",
    }
)


class ActiveTurn(msgspec.Struct):
    sub_id: str
    task: asyncio.Task[None]
    turn_id: str = ""
    pending_input: list[ResponseItem] = msgspec.field(default_factory=list)


class SessionObserver(Protocol):
    """Watches a session's events without being a front end (e.g. telemetry)."""

    def on_event(self, msg: EventMsg) -> None: ...


class SessionServices(msgspec.Struct, frozen=True):
    """Long-lived collaborators, built once per session by `Codex.spawn`."""

    client: ModelClient
    recorder: RolloutRecorder | None
    env_policy: EnvPolicy
    base_env: Mapping[str, str]
    show_raw_agent_reasoning: bool = False
    # The `unified_exec` and `shell_snapshot` features.
    unified_exec: bool = True
    shell_snapshot: bool = True
    # `--ignore-rules`: the session's exec policy starts empty.
    ignore_rules: bool = False
    # config.toml `tools.*` (switches, `shell_type`: None = by model family) and the
    # `web_search` mode.
    tools: ToolsSettings = msgspec.field(default_factory=ToolsSettings)
    web_search: str = "cached"
    # config.toml `notify`: the program run after each completed turn.
    notify: tuple[str, ...] | None = None


class Session:
    def __init__(
        self,
        *,
        thread_id: str,
        settings: SessionSettings,
        services: SessionServices,
        base_instructions: str,
        user_instructions: str | None,
        developer_instructions: str | None,
        writable_roots: Sequence[Path] = (),
        context_window: int | None = None,
    ) -> None:
        self.thread_id = thread_id
        self.settings = settings
        self.services = services
        self.base_instructions = base_instructions
        self.user_instructions = user_instructions
        self.developer_instructions = developer_instructions
        self.writable_roots = tuple(writable_roots)
        self.context_window = context_window
        self.history = History()
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.active: ActiveTurn | None = None
        self.token_info: TokenUsageInfo | None = None
        self.rate_limits: RateLimitSnapshot | None = None
        self.last_environment: EnvironmentContext | None = None
        self._turn_counter = 0
        self.approvals = SessionApprovals(
            pycodex_home(services.base_env), self.emit, load_rules=not services.ignore_rules
        )
        self.notifier = TurnNotifier(services.notify, services.base_env)
        self._shell: ShellRuntime | None = None
        self._turn_items: dict[str, TurnItems] = {}
        # The `[mcp_servers]` of this session, when any are configured (set, started and
        # closed with the thread); their tools join every turn's router.
        self.mcp: McpConnectionManager | None = None
        # Sees every emitted event (telemetry); set by the thread manager when `[otel]`
        # enables an exporter. Must be cheap and must not raise.
        self.observer: SessionObserver | None = None

    @property
    def shell(self) -> ShellRuntime:
        """Process sessions (exec_command), the user's shell and its login snapshot; built
        (and process spawning imported) when a command first needs them."""
        if self._shell is None:
            from pycodex.process.runtime import ShellRuntime

            self._shell = ShellRuntime(
                thread_id=self.thread_id,
                env_policy=self.services.env_policy,
                base_env=self.services.base_env,
                home=pycodex_home(self.services.base_env),
                snapshots=self.services.shell_snapshot,
            )
        return self._shell

    @property
    def shell_if_started(self) -> ShellRuntime | None:
        return self._shell

    # --- events and records ---------------------------------------------------------

    def emit(self, sub_id: str, msg: EventMsg) -> None:
        self.events.put_nowait(Event(id=sub_id, msg=msg))
        if self.observer is not None:
            self.observer.on_event(msg)
        if msg.type in PERSISTED_EVENTS:
            self.persist([RolloutLine("event_msg", msg.to_wire())])

    def persist(self, lines: Sequence[RolloutLine]) -> None:
        recorder = self.services.recorder
        if recorder is not None:
            recorder.record(lines)

    def record_items(self, items: Sequence[ResponseItem]) -> None:
        """Add items to the model-visible history and to the rollout."""
        self.history.append(items)
        self.persist([RolloutLine("response_item", item_to_wire(item)) for item in items])

    async def flush(self) -> None:
        recorder = self.services.recorder
        if recorder is not None:
            await asyncio.to_thread(recorder.flush)

    def report_index_problems(self, sub_id: str) -> None:
        """Warn about thread-index failures (the index is behind until it recovers)."""
        recorder = self.services.recorder
        if recorder is not None:
            for message in recorder.take_index_warnings():
                self.emit(sub_id, WarningEvent(message=message))

    def items_for(self, turn: TurnContext) -> TurnItems:
        """The item ledger of a running turn (made on first use, dropped by `end_items`)."""
        items = self._turn_items.get(turn.turn_id)
        if items is None:

            def emit(msg: EventMsg) -> None:
                self.emit(turn.sub_id, msg)

            items = TurnItems(emit, thread_id=self.thread_id, turn_id=turn.turn_id)
            self._turn_items[turn.turn_id] = items
        return items

    def end_items(self, turn: TurnContext) -> None:
        self._turn_items.pop(turn.turn_id, None)

    # --- token accounting -------------------------------------------------------------

    def add_usage(self, usage: TokenUsage) -> TokenUsageInfo:
        if self.token_info is None:
            self.token_info = TokenUsageInfo(
                total_token_usage=usage, last_token_usage=usage,
                model_context_window=self.context_window,
            )
        else:
            self.token_info = self.token_info.with_last(usage)
        return self.token_info

    # --- context ------------------------------------------------------------------------

    def environment_context(self, settings: SessionSettings) -> EnvironmentContext:
        policy = settings.sandbox_policy
        roots: tuple[Path, ...] = ()
        if isinstance(policy, WorkspaceWritePolicy):
            roots = (settings.cwd, *self.writable_roots, *(Path(r) for r in policy.writable_roots))
        mode = policy.mode
        return EnvironmentContext(
            cwd=settings.cwd,
            shell=user_shell_name(dict(self.services.base_env)),
            approval_policy=settings.approval_policy.value,
            sandbox_mode=mode.value if mode is not None else "external-sandbox",
            network_access=policy.has_full_network_access(),
            writable_roots=tuple(dict.fromkeys(roots)),
            current_date=today(),
            timezone=local_timezone_name(),
        )

    def initial_context(self) -> list[ResponseItem]:
        """What every fresh thread starts with, before the user's first message."""
        env = self.environment_context(self.settings)
        self.last_environment = env
        permissions = permissions_instructions(
            sandbox_mode=env.sandbox_mode,
            approval_policy=env.approval_policy,
            network_access=env.network_access,
            writable_roots=env.writable_roots,
        )
        # As Codex 0.163: the skills list, when there are skills, is the first part of the
        # developer message that carries the permissions.
        skills = skills_instructions(pycodex_home(self.services.base_env), self.settings.cwd)
        items: list[ResponseItem] = [
            developer_message(self.base_instructions),
            developer_message(*filter(None, (skills, permissions))),
        ]
        if self.developer_instructions:
            items.append(developer_message(self.developer_instructions))
        parts: list[InputText] = []
        if self.user_instructions:
            parts.append(
                InputText(text=format_user_instructions(self.settings.cwd, self.user_instructions))
            )
        parts.append(InputText(text=env.render()))
        items.append(MessageItem(role="user", content=list(parts)))
        return items

    def environment_update(self, settings: SessionSettings) -> ResponseItem | None:
        """A fresh `<environment_context>` when cwd/sandbox/approval changed since last told."""
        env = self.environment_context(settings)
        if self.last_environment is not None and not env.differs_from(self.last_environment):
            return None
        self.last_environment = env
        return MessageItem(role="user", content=[InputText(text=env.render())])

    # --- turns --------------------------------------------------------------------------

    def new_turn_id(self) -> str:
        from pycodex.ids import uuid7

        self._turn_counter += 1
        return uuid7()

    def tool_router(self, turn: TurnContext | None = None) -> ToolRouter:
        settings = turn.settings if turn is not None else self.settings
        tools = self.services.tools
        info = model_info(settings.model)
        # OpenAI's hosted search exists only behind the Responses API of OpenAI models.
        hosted_search = (
            self.services.web_search != "disabled"
            and info.hosted_tools
            and self.services.client.provider.wire_api == "responses"
        )
        return build_router(
            ToolSettings(
                model=settings.model,
                escalation=_offers_escalation(settings),
                shell_type=tools.shell_type,
                unified_exec=self.services.unified_exec,
                update_plan=tools.update_plan,
                view_image=tools.view_image and info.supports_images,
                web_search=self.services.web_search if hosted_search else None,
                fault_tools=self.services.base_env.get("PYCODEX_TEST_FAULT_TOOLS") == "1",
            ),
            lambda: self.shell,
            self._mcp_tools(info.supports_images),
        )

    def _mcp_tools(self, supports_images: bool) -> list[ToolHandler]:
        if self.mcp is None:
            return []
        from pycodex.tools.handlers.mcp import mcp_handlers

        return mcp_handlers(self.mcp, supports_images=supports_images)

    def writable_roots_for(self, settings: SessionSettings) -> tuple[Path, ...]:
        """Where `workspace-write` lets tools write besides the cwd (as Codex's sandbox)."""
        policy = settings.sandbox_policy
        if not isinstance(policy, WorkspaceWritePolicy):
            return ()
        roots: list[Path] = [*self.writable_roots, *(Path(r) for r in policy.writable_roots)]
        if not policy.exclude_slash_tmp and os.path.isdir("/tmp"):
            roots.append(Path("/tmp"))
        tmpdir = self.services.base_env.get("TMPDIR")
        if not policy.exclude_tmpdir_env_var and tmpdir and os.path.isabs(tmpdir):
            roots.append(Path(tmpdir))
        return tuple(dict.fromkeys(roots))

    def tool_context(self, turn: TurnContext) -> ToolContext:
        items = self.items_for(turn)

        def emit(msg: Any) -> None:
            if isinstance(msg, ExecCommandOutputDeltaEvent) and msg.turn_id is None:
                msg.thread_id, msg.turn_id = self.thread_id, turn.turn_id
            self.emit(turn.sub_id, msg)
            items.observe_tool_event(msg)

        def warn(message: str) -> None:
            self.emit(turn.sub_id, WarningEvent(message=message))

        return ToolContext(
            turn_id=turn.turn_id,
            cwd=turn.cwd,
            approval_policy=turn.settings.approval_policy.value,
            sandbox_mode=turn.sandbox_mode,
            command_env=build_command_env(self.services.env_policy, self.services.base_env),
            emit=emit,
            emit_warning=warn,
            writable_roots=self.writable_roots_for(turn.settings),
            sandbox_policy=turn.settings.sandbox_policy,
            approvals=self.approvals.broker(turn.sub_id, turn.turn_id, items),
        )


def _offers_escalation(settings: SessionSettings) -> bool:
    # The model may ask to leave the sandbox only when someone will be asked (on-request).
    return settings.approval_policy is AskForApproval.ON_REQUEST


def default_base_env() -> Mapping[str, str]:
    return os.environ
