"""The threads this app-server has loaded, shared by every connection (as in Codex: two
clients may watch one thread), each served by a :class:`ThreadWatch`.

Threads are started with the originator of the client that asked (its `clientInfo.name`),
so there is one engine `ThreadManager` per originator; all of them record to the same
home. A connection that goes away is taken off every thread it watched; the threads keep
running (another client may resume them). Closing the server shuts every thread down.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from pycodex import CODEX_COMPAT_VERSION
from pycodex.auth.external import ExternalTokens
from pycodex.core import CodexThread, ThreadManager, ThreadOptions
from pycodex.frontends.app_server.dispatcher import Peer
from pycodex.frontends.app_server.thread_watch import ThreadWatch
from pycodex.protocol.events import SessionConfiguredEvent
from pycodex.protocol.ops import OverrideTurnContextOp
from pycodex.protocol.policies import SandboxPolicy
from pycodex.protocol.v2.threads import Thread, ThreadInfo, thread_struct

JsonObj = dict[str, Any]
DEFAULT_ORIGINATOR = "codex_app_server"


class ThreadSettingsNow(msgspec.Struct):
    """The thread's settings as turns have changed them (`turn/start` overrides persist)."""

    model: str
    model_provider: str
    cwd: str
    approval_policy: str
    sandbox: JsonObj
    effort: str | None
    summary: str | None = None

    @classmethod
    def from_configured(cls, c: SessionConfiguredEvent) -> ThreadSettingsNow:
        return cls(
            model=c.model, model_provider=c.model_provider_id, cwd=c.cwd,
            approval_policy=c.approval_policy.value, sandbox=sandbox_json(c.sandbox_policy),
            effort=c.reasoning_effort.value if c.reasoning_effort is not None else None,
        )

    def apply(self, op: OverrideTurnContextOp) -> None:
        """Take a turn's overrides (absent fields keep their value)."""
        if isinstance(op.cwd, str):
            self.cwd = op.cwd
        if op.approval_policy is not None and op.sets("approval_policy"):
            self.approval_policy = op.approval_policy.value
        if op.sandbox_policy is not None and op.sets("sandbox_policy"):
            self.sandbox = sandbox_json(op.sandbox_policy)  # type: ignore[arg-type]
        if isinstance(op.model, str):
            self.model = op.model
        if op.sets("effort"):
            self.effort = op.effort.value if op.effort is not None else None
        if op.summary is not None and op.sets("summary"):
            self.summary = op.summary.value

    def to_json(self) -> JsonObj:
        """`ThreadSettings` as `thread/settings/updated` carries it."""
        return {
            "disabledPluginIds": [], "cwd": self.cwd, "approvalPolicy": self.approval_policy,
            "approvalsReviewer": "user", "sandboxPolicy": self.sandbox, "activePermissionProfile": None,
            "model": self.model, "modelProvider": self.model_provider, "serviceTier": None,
            "effort": self.effort, "summary": self.summary,
            "collaborationMode": {"mode": "default", "settings": {
                "model": self.model, "reasoning_effort": self.effort, "developer_instructions": None}},
            "personality": None,
        }


class LoadedThread(msgspec.Struct):
    thread: CodexThread
    watch: ThreadWatch
    configured: SessionConfiguredEvent
    originator: str
    created_at: int
    settings: ThreadSettingsNow


class LoadedThreads:
    def __init__(self, env: Mapping[str, str], config_overrides: Sequence[str] = ()) -> None:
        self._env = env
        # `pycodex -c k=v app-server`: under every thread's own settings.
        self.config_overrides = tuple(config_overrides)
        self._managers: dict[str, ThreadManager] = {}
        self._loaded: dict[str, LoadedThread] = {}
        # The newest rate-limit snapshot any thread received (`account/rateLimits/read`).
        self.latest_rate_limits: Any = None
        # `account/login/start` with `chatgptAuthTokens`: memory only, for every thread.
        self.external_auth = ExternalTokens()

    def manager(self, originator: str | None) -> ThreadManager:
        name = originator or DEFAULT_ORIGINATOR
        manager = self._managers.get(name)
        if manager is None:
            options = ThreadOptions(originator=name, source="vscode", env=self._env,
                                    external_auth=self.external_auth)
            manager = self._managers[name] = ThreadManager(options)
        return manager

    def get(self, thread_id: str) -> LoadedThread | None:
        return self._loaded.get(thread_id)

    def ids(self) -> list[str]:
        return sorted(self._loaded)

    async def serve(self, thread: CodexThread, peer: Peer, originator: str | None) -> LoadedThread:
        """Serve an open thread to `peer` (its `SessionConfigured` is read the first time)."""
        loaded = self._loaded.get(thread.thread_id)
        if loaded is None:
            configured = (await thread.next_event()).msg
            if not isinstance(configured, SessionConfiguredEvent):
                raise RuntimeError(f"a thread began with {configured.type}, not session_configured")
            watch = ThreadWatch(thread, on_end=self._ended, on_rate_limits=self._rate_limits)
            loaded = LoadedThread(
                thread=thread, watch=watch, configured=configured,
                originator=originator or DEFAULT_ORIGINATOR, created_at=int(time.time()),
                settings=ThreadSettingsNow.from_configured(configured),
            )
            self._loaded[thread.thread_id] = loaded
        loaded.watch.add(peer)
        return loaded

    def unsubscribe(self, thread_id: str, peer: Peer) -> bool:
        loaded = self._loaded.get(thread_id)
        return loaded is not None and loaded.watch.remove(peer)

    def forget_peer(self, peer: Peer) -> None:
        for loaded in list(self._loaded.values()):
            loaded.watch.remove(peer)

    async def close_all(self) -> None:
        for loaded in list(self._loaded.values()):
            await loaded.watch.close()
        self._loaded.clear()
        for manager in self._managers.values():
            await manager.close_all()

    def _rate_limits(self, snapshot: Any) -> None:
        self.latest_rate_limits = snapshot

    def _ended(self, watch: ThreadWatch) -> None:
        loaded = self._loaded.get(watch.thread_id)
        if loaded is not None and loaded.watch is watch:
            del self._loaded[watch.thread_id]

    # --- rendering --------------------------------------------------------------------------

    def thread_struct(self, loaded: LoadedThread, *, preview: str = "", name: str | None = None) -> Thread:
        c = loaded.configured
        info = ThreadInfo(
            id=c.session_id,
            cwd=c.cwd,
            model_provider=c.model_provider_id,
            model=c.model,
            reasoning_effort=c.reasoning_effort.value if c.reasoning_effort is not None else None,
            created_at=loaded.created_at,
            updated_at=int(time.time()),
            path=c.rollout_path,
            preview=preview,
            name=name,
            ephemeral=c.rollout_path is None,
            originator=loaded.originator,
            cli_version=CODEX_COMPAT_VERSION,
            forked_from_id=c.forked_from_id,
        )
        status = "active" if loaded.thread.active_turn_id is not None else "idle"
        return thread_struct(info, status=status)

    def thread_json(self, loaded: LoadedThread, *, preview: str = "", name: str | None = None) -> JsonObj:
        result: JsonObj = msgspec.to_builtins(self.thread_struct(loaded, preview=preview, name=name))
        return result

    def thread_response(self, loaded: LoadedThread, **thread_fields: Any) -> JsonObj:
        """What `thread/start`, `resume` and `fork` answer: the thread and its settings now."""
        from pycodex.frontends.app_server.result_types import ThreadStartResponse

        s = loaded.settings
        result: JsonObj = msgspec.to_builtins(ThreadStartResponse(
            thread=self.thread_struct(loaded, **thread_fields), model=s.model, model_provider=s.model_provider,
            cwd=s.cwd, runtime_workspace_roots=[s.cwd], approval_policy=s.approval_policy,
            sandbox=s.sandbox, reasoning_effort=s.effort,
        ))
        return result


def sandbox_json(policy: SandboxPolicy) -> JsonObj:
    """A sandbox policy in v2 form: camelCase keys and type (`workspaceWrite`)."""
    wire = policy.to_wire()
    out: JsonObj = {}
    for key, value in wire.items():
        camel = _camel(key)
        out[camel] = _camel(value.replace("-", "_")) if key == "type" and isinstance(value, str) else value
    return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
