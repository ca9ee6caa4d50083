"""The engine: a queue pair (submit `Op`s, read `Event`s) per thread. Knows no front end.

This package's names are the engine's public API; front ends import from here, never
from the modules behind it:

* threads: `ThreadManager` (start / resume / fork, open threads, and the recorded ones:
  list, read, archive, unarchive, delete, name), `ThreadOptions`, `CodexThread`
  (`submit`, `subscribe`, `next_event`, `shutdown`), `LoadedThreadPage`;
* events: `Subscription`, `SubscriptionClosed`, `SubscriberLagged`, `ThreadEnded`,
  `InternalAgentDied` (see :mod:`.subscribers` for the slow-consumer rule);
* recorded threads without an engine (fast CLI commands): `ThreadStore`,
  `ThreadListQuery`, `ThreadSummary`, `ThreadSummaryPage`, `ThreadNotFoundError`,
  `ThreadStoreError`, `ThreadIndexUnavailableError`, `ThreadQueryError`;
* MCP servers: `probe_mcp_servers` (no thread open), `CodexThread.mcp_server_states`;
* settings the engine derives: `sandbox_policy_for`, `effective_reasoning_effort`,
  `effective_context_window`, `ModelInfo` (not `model_info`: that name is the module);
* processes: `prestart_processes`, `kill_all_processes`, `join_command`,
  `head_tail_buffer` (live command output for display);
* commands outside any thread (`command/exec`): `start_command`, `StartedCommand`,
  `command_env`, `CommandStartError`, `StdinClosed`.

Every name is imported on first use (module `__getattr__`): `import pycodex.core` costs
nothing, and `from pycodex.core import ThreadStore` loads the store, not the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> the module (in this package) that defines it.
_EXPORTS: dict[str, str] = {
    "CodexThread": "thread_manager",
    "LoadedThreadPage": "thread_manager",
    "ThreadManager": "thread_manager",
    "ThreadOptions": "thread_manager",
    "sandbox_policy_for": "thread_manager",
    "probe_mcp_servers": "thread_manager",
    "ActiveTurnMismatch": "codex",
    "NoActiveTurn": "codex",
    "ThreadBusy": "codex",
    "InternalAgentDied": "subscribers",
    "SubscriberLagged": "subscribers",
    "Subscription": "subscribers",
    "SubscriptionClosed": "subscribers",
    "ThreadEnded": "subscribers",
    "ThreadIndexUnavailableError": "threads",
    "ThreadListQuery": "threads",
    "ThreadNotFoundError": "threads",
    "ThreadQueryError": "threads",
    "ThreadStore": "threads",
    "ThreadStoreError": "threads",
    "ThreadSummary": "threads",
    "ThreadSummaryPage": "threads",
    "ModelInfo": "model_info",
    "effective_context_window": "model_info",
    "effective_reasoning_effort": "model_info",
    "head_tail_buffer": "processes",
    "join_command": "processes",
    "kill_all_processes": "processes",
    "prestart_processes": "processes",
    "CommandStartError": "commands",
    "StartedCommand": "commands",
    "StdinClosed": "commands",
    "command_env": "commands",
    "start_command": "commands",
}

__all__ = [
    "ActiveTurnMismatch",
    "CodexThread",
    "CommandStartError",
    "InternalAgentDied",
    "LoadedThreadPage",
    "ModelInfo",
    "NoActiveTurn",
    "StartedCommand",
    "StdinClosed",
    "SubscriberLagged",
    "Subscription",
    "SubscriptionClosed",
    "ThreadBusy",
    "ThreadEnded",
    "ThreadIndexUnavailableError",
    "ThreadListQuery",
    "ThreadManager",
    "ThreadNotFoundError",
    "ThreadOptions",
    "ThreadQueryError",
    "ThreadStore",
    "ThreadStoreError",
    "ThreadSummary",
    "ThreadSummaryPage",
    "command_env",
    "effective_context_window",
    "effective_reasoning_effort",
    "head_tail_buffer",
    "join_command",
    "kill_all_processes",
    "prestart_processes",
    "probe_mcp_servers",
    "sandbox_policy_for",
    "start_command",
]

if TYPE_CHECKING:
    from .codex import ActiveTurnMismatch, NoActiveTurn, ThreadBusy
    from .commands import (
        CommandStartError,
        StartedCommand,
        StdinClosed,
        command_env,
        start_command,
    )
    from .model_info import (
        ModelInfo,
        effective_context_window,
        effective_reasoning_effort,
    )
    from .processes import (
        head_tail_buffer,
        join_command,
        kill_all_processes,
        prestart_processes,
    )
    from .subscribers import (
        InternalAgentDied,
        SubscriberLagged,
        Subscription,
        SubscriptionClosed,
        ThreadEnded,
    )
    from .thread_manager import (
        CodexThread,
        LoadedThreadPage,
        ThreadManager,
        ThreadOptions,
        probe_mcp_servers,
        sandbox_policy_for,
    )
    from .threads import (
        ThreadIndexUnavailableError,
        ThreadListQuery,
        ThreadNotFoundError,
        ThreadQueryError,
        ThreadStore,
        ThreadStoreError,
        ThreadSummary,
        ThreadSummaryPage,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
