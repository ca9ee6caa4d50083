"""The method table: which handler answers which method.

Engine-backed methods (`thread/*`, `turn/*`, …) plug in here as more :class:`MethodSpec`
entries; methods Codex has and pycodex does not are answered "not supported" by the
dispatcher from :mod:`.methods`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycodex.frontends.app_server.command_exec import ExecRegistry
from pycodex.frontends.app_server.command_params import (
    CommandExecParams,
    CommandExecResizeParams,
    CommandExecTerminateParams,
    CommandExecWriteParams,
)
from pycodex.frontends.app_server.dispatcher import Dispatcher, Log, MethodSpec
from pycodex.frontends.app_server.handlers.account import (
    Accounts,
    CancelLoginAccountParams,
    GetAccountParams,
    LoginAccountParams,
)
from pycodex.frontends.app_server.handlers.commands import (
    CommandExec,
    CommandExecResize,
    CommandExecTerminate,
    CommandExecWrite,
)
from pycodex.frontends.app_server.handlers.config import config_handlers
from pycodex.frontends.app_server.handlers.handshake import Initialize
from pycodex.frontends.app_server.handlers.mcp_status import McpServerReload, McpServerStatusList
from pycodex.frontends.app_server.handlers.models import ModelList
from pycodex.frontends.app_server.handlers.recorded_threads import (
    ThreadArchive,
    ThreadDelete,
    ThreadList,
    ThreadRead,
    ThreadSetName,
    ThreadTurnsList,
    ThreadUnarchive,
)
from pycodex.frontends.app_server.handlers.review import ReviewStart
from pycodex.frontends.app_server.handlers.search import FuzzyFileSearch, FuzzyFileSearchSessions
from pycodex.frontends.app_server.handlers.skills import SkillsList
from pycodex.frontends.app_server.handlers.thread_actions import (
    ThreadCompactStart,
    ThreadRevert,
    ThreadShellCommand,
)
from pycodex.frontends.app_server.handlers.threads import (
    ThreadFork,
    ThreadLoadedList,
    ThreadResume,
    ThreadStart,
    ThreadUnsubscribe,
)
from pycodex.frontends.app_server.handlers.turns import TurnInterrupt, TurnStart, TurnSteer
from pycodex.frontends.app_server.loaded_threads import LoadedThreads
from pycodex.frontends.app_server.mcp_params import ListMcpServerStatusParams
from pycodex.frontends.app_server.params import (
    ConfigBatchWriteParams,
    ConfigReadParams,
    ConfigValueWriteParams,
    EmptyParams,
    InitializeParams,
    ModelListParams,
    ReviewStartParams,
    SkillsListParams,
    ThreadForkParams,
    ThreadLoadedListParams,
    ThreadResumeParams,
    ThreadStartParams,
    ThreadUnsubscribeParams,
    TurnInterruptParams,
    TurnStartParams,
    TurnSteerParams,
)
from pycodex.frontends.app_server.recorded_params import (
    ThreadIdParams,
    ThreadListParams,
    ThreadReadParams,
    ThreadSetNameParams,
    ThreadTurnsListParams,
)
from pycodex.frontends.app_server.search_params import (
    FuzzyFileSearchParams,
    FuzzyFileSearchSessionStartParams,
    FuzzyFileSearchSessionStopParams,
    FuzzyFileSearchSessionUpdateParams,
)
from pycodex.frontends.app_server.thread_action_params import (
    ThreadCompactStartParams,
    ThreadRevertParams,
    ThreadShellCommandParams,
)

# Params of methods whose handlers are still to come: validated (and gated) already.
DECLARED_PARAMS: dict[str, type[Any]] = {}


def build_dispatcher(
    env: Mapping[str, str], log: Log, threads: LoadedThreads | None = None
) -> Dispatcher:
    threads = threads if threads is not None else LoadedThreads(env)
    accounts = Accounts(threads, env)
    methods: list[MethodSpec[Any]] = [
        MethodSpec("initialize", InitializeParams, Initialize(env)),
        MethodSpec("thread/start", ThreadStartParams, ThreadStart(threads, env)),
        MethodSpec("thread/resume", ThreadResumeParams, ThreadResume(threads, env)),
        MethodSpec("thread/fork", ThreadForkParams, ThreadFork(threads, env)),
        MethodSpec("thread/unsubscribe", ThreadUnsubscribeParams, ThreadUnsubscribe(threads, env)),
        MethodSpec("thread/loaded/list", ThreadLoadedListParams, ThreadLoadedList(threads, env)),
        MethodSpec("turn/start", TurnStartParams, TurnStart(threads)),
        MethodSpec("turn/steer", TurnSteerParams, TurnSteer(threads)),
        MethodSpec("turn/interrupt", TurnInterruptParams, TurnInterrupt(threads)),
        *command_methods(env),
        *recorded_thread_methods(threads),
        MethodSpec("model/list", ModelListParams, ModelList()),
        MethodSpec("fuzzyFileSearch", FuzzyFileSearchParams, FuzzyFileSearch()),
        *search_session_methods(),
        MethodSpec("thread/shellCommand", ThreadShellCommandParams, ThreadShellCommand(threads)),
        MethodSpec("thread/compact/start", ThreadCompactStartParams, ThreadCompactStart(threads)),
        MethodSpec("thread/revert", ThreadRevertParams, ThreadRevert(threads)),
        MethodSpec("mcpServerStatus/list", ListMcpServerStatusParams, McpServerStatusList(threads, env)),
        MethodSpec("config/mcpServer/reload", EmptyParams, McpServerReload(threads, env)),
        MethodSpec("account/read", GetAccountParams, accounts.read),
        MethodSpec("account/login/start", LoginAccountParams, accounts.login_start),
        MethodSpec("account/login/cancel", CancelLoginAccountParams, accounts.login_cancel),
        MethodSpec("account/logout", EmptyParams, accounts.logout),
        MethodSpec("account/rateLimits/read", EmptyParams, accounts.rate_limits),
        MethodSpec("skills/list", SkillsListParams, SkillsList(env)),
        MethodSpec("review/start", ReviewStartParams, ReviewStart(threads)),
        *config_methods(env, threads.config_overrides),
    ]
    from pycodex.frontends.app_server.result_types import METHOD_RESULTS

    return Dispatcher(methods, log=log, declared_params=DECLARED_PARAMS, results=METHOD_RESULTS)


def search_session_methods() -> list[MethodSpec[Any]]:
    """The experimental fuzzy-search sessions, sharing one table of sessions."""
    sessions = FuzzyFileSearchSessions()
    return [
        MethodSpec("fuzzyFileSearch/sessionStart", FuzzyFileSearchSessionStartParams, sessions.start),
        MethodSpec("fuzzyFileSearch/sessionUpdate", FuzzyFileSearchSessionUpdateParams, sessions.update),
        MethodSpec("fuzzyFileSearch/sessionStop", FuzzyFileSearchSessionStopParams, sessions.stop),
    ]


def command_methods(env: Mapping[str, str]) -> list[MethodSpec[Any]]:
    """`command/exec` and its follow-ups, sharing one table of running processes."""
    execs = ExecRegistry()
    return [
        MethodSpec("command/exec", CommandExecParams, CommandExec(execs, env)),
        MethodSpec("command/exec/write", CommandExecWriteParams, CommandExecWrite(execs)),
        MethodSpec("command/exec/terminate", CommandExecTerminateParams, CommandExecTerminate(execs)),
        MethodSpec("command/exec/resize", CommandExecResizeParams, CommandExecResize(execs)),
    ]


def config_methods(env: Mapping[str, str], overrides: tuple[str, ...]) -> list[MethodSpec[Any]]:
    """`config/read` and the writes to the user's config.toml (serialized with each other)."""
    read, write, batch = config_handlers(env, overrides)
    return [
        MethodSpec("config/read", ConfigReadParams, read),
        MethodSpec("config/value/write", ConfigValueWriteParams, write),
        MethodSpec("config/batchWrite", ConfigBatchWriteParams, batch),
    ]


def recorded_thread_methods(threads: LoadedThreads) -> list[MethodSpec[Any]]:
    """Threads at rest (listing, reading, archiving, naming), loaded or not."""
    return [
        MethodSpec("thread/list", ThreadListParams, ThreadList(threads)),
        MethodSpec("thread/read", ThreadReadParams, ThreadRead(threads)),
        MethodSpec("thread/turns/list", ThreadTurnsListParams, ThreadTurnsList(threads)),
        MethodSpec("thread/archive", ThreadIdParams, ThreadArchive(threads)),
        MethodSpec("thread/unarchive", ThreadIdParams, ThreadUnarchive(threads)),
        MethodSpec("thread/delete", ThreadIdParams, ThreadDelete(threads)),
        MethodSpec("thread/name/set", ThreadSetNameParams, ThreadSetName(threads)),
    ]
