"""Which tools a turn offers, built from the session's settings, and loaded on first call.

Every built-in tool is registered here with its definition (from `tools.specs`, pure
data) and a factory for its handler. The handler — and with it the patch engine, process
spawning and the safety checks — is imported only when the model first calls the tool, so
a turn that only talks never pays for them. MCP and dynamic tools will register the same
way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from pycodex.tools.base import ToolCall, ToolContext, ToolHandler, ToolOutput
from pycodex.tools.handlers.hosted import WebSearchTool
from pycodex.tools.handlers.plan import PlanHandler
from pycodex.tools.handlers.view_image import ViewImageHandler
from pycodex.tools.router import ToolRouter
from pycodex.tools.specs import (
    EXEC_COMMAND_SPEC,
    WRITE_STDIN_SPEC,
    apply_patch_tool_kind,
    apply_patch_tool_spec,
    shell_tool_spec,
    shell_tool_type,
)

if TYPE_CHECKING:
    from pycodex.process.runtime import ShellRuntime


class LazyTool:
    """A tool whose handler is built (and its module imported) on its first call."""

    def __init__(self, name: str, spec: dict[str, Any], load: Callable[[], ToolHandler]) -> None:
        self.name = name
        self._spec = spec
        self._load = load
        self._handler: ToolHandler | None = None

    def spec(self) -> dict[str, Any]:
        return self._spec

    @property
    def loaded(self) -> bool:
        return self._handler is not None

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        if self._handler is None:
            self._handler = self._load()
        return await self._handler.handle(call, ctx)


class ToolSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What decides the tool set of a turn (filled by the session)."""

    model: str
    escalation: bool
    shell_type: str | None
    unified_exec: bool
    update_plan: bool
    view_image: bool
    # None: no hosted search (not an OpenAI model over the Responses API, or disabled).
    web_search: str | None
    # Hidden tools that fail on purpose, for the tests of how a turn survives a broken
    # tool (`PYCODEX_TEST_FAULT_TOOLS=1`); never offered to the model.
    fault_tools: bool = False


def build_router(
    settings: ToolSettings,
    shell: Callable[[], ShellRuntime],
    extra: Sequence[ToolHandler] = (),
) -> ToolRouter:
    """The tools offered to the model, plus the hidden ones a call may still reach.

    A tool switched off in config (or unsuited to the model) is not offered, but a call to
    it is still answered; every shell tool stays callable, as a model may use one it was
    offered earlier in the thread. `extra`: tools from outside (MCP servers), offered
    after the built-in ones.
    """
    escalation = settings.escalation
    # The one-shot `shell` records its commands in the thread's runtime (built lazily).
    shell_tool = LazyTool("shell", shell_tool_spec(escalation), lambda: _shell(escalation, shell))
    unified = [
        LazyTool("exec_command", EXEC_COMMAND_SPEC, lambda: _exec_command(shell())),
        LazyTool("write_stdin", WRITE_STDIN_SPEC, lambda: _write_stdin(shell())),
    ]
    kind = shell_tool_type(settings.model, settings.shell_type, settings.unified_exec)
    offered: list[ToolHandler]
    hidden: list[ToolHandler]
    if kind == "unified_exec":
        offered, hidden = [*unified], [shell_tool]
    elif kind == "local_shell":
        local = LazyTool("shell", {"type": "local_shell"}, lambda: _local_shell(escalation, shell))
        offered, hidden = [local], [*unified]
    else:
        offered, hidden = [shell_tool], [*unified]
    tools: list[ToolHandler] = [*offered]
    (tools if settings.update_plan else hidden).append(PlanHandler())
    patch_kind = apply_patch_tool_kind(settings.model)
    tools.append(LazyTool("apply_patch", apply_patch_tool_spec(patch_kind), lambda: _patch(patch_kind)))
    (tools if settings.view_image else hidden).append(ViewImageHandler())
    if settings.web_search is not None:
        tools.append(WebSearchTool(live=settings.web_search == "live"))
    if settings.fault_tools:
        hidden.extend(_fault_tools())
    # A built-in name always wins over an outside tool's.
    taken = {tool.name for tool in tools}
    tools.extend(tool for tool in extra if tool.name not in taken)
    return ToolRouter(tools, hidden=hidden)


# --- handler factories (each imports its module on first use) -------------------------------


def _shell(escalation: bool, runtime: Callable[[], ShellRuntime]) -> ToolHandler:
    from pycodex.tools.handlers.shell import ShellHandler

    return ShellHandler(escalation=escalation, runtime=runtime)


def _local_shell(escalation: bool, runtime: Callable[[], ShellRuntime]) -> ToolHandler:
    from pycodex.tools.handlers.unified_exec import LocalShellHandler

    return LocalShellHandler(escalation=escalation, runtime=runtime)


def _exec_command(runtime: ShellRuntime) -> ToolHandler:
    from pycodex.tools.handlers.unified_exec import ExecCommandHandler

    return ExecCommandHandler(runtime)


def _write_stdin(runtime: ShellRuntime) -> ToolHandler:
    from pycodex.tools.handlers.unified_exec import WriteStdinHandler

    return WriteStdinHandler(runtime)


def _patch(kind: Any) -> ToolHandler:
    from pycodex.tools.handlers.apply_patch import ApplyPatchHandler

    return ApplyPatchHandler(kind)


# --- tools that fail on purpose (tests of the engine's failure handling) --------------------


class _RaisingTool:
    """Raises an unexpected exception, as a tool with a bug would."""

    name = "test_raise"

    def spec(self) -> dict[str, Any]:
        return {"type": "function", "name": self.name, "parameters": {"type": "object"}}

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        raise RuntimeError("injected fault")


class _WaitingTool:
    """Waits until cancelled, then leaves a file saying so (`{"marker": PATH}`)."""

    name = "test_wait"

    def spec(self) -> dict[str, Any]:
        return {"type": "function", "name": self.name, "parameters": {"type": "object"}}

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        import asyncio
        import json
        from pathlib import Path

        marker = json.loads(call.payload or "{}").get("marker")
        try:
            await asyncio.Event().wait()
        finally:
            if isinstance(marker, str):
                Path(marker).write_text("cancelled\n")  # noqa: ASYNC240  (tiny; awaiting here would be cancelled)
        raise AssertionError("unreachable")


def _fault_tools() -> list[ToolHandler]:
    return [_RaisingTool(), _WaitingTool()]
