"""`turn/start`, `turn/steer`, `turn/interrupt` on a loaded thread.

`turn/start` answers with the turn its input went into as soon as the engine has decided
it (`CodexThread.start_turn`); the turn's notifications follow from the thread's watch.
Per-turn settings (`cwd`, `approvalPolicy`, `sandboxPolicy`, `model`, `effort`,
`summary`) are applied to the thread first, as Codex does: they stay for later turns, and
the thread's connections hear `thread/settings/updated` with the settings now in force.
`turn/interrupt` stops the turn and kills the commands it started (their items complete).
"""

from __future__ import annotations

from typing import Any

from pycodex.core import ActiveTurnMismatch, NoActiveTurn
from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.errors import invalid_request
from pycodex.frontends.app_server.handlers.threads import thread_not_found
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.frontends.app_server.loaded_threads import LoadedThread, LoadedThreads
from pycodex.frontends.app_server.params import (
    TurnInterruptParams,
    TurnStartParams,
    TurnSteerParams,
)
from pycodex.frontends.app_server.thread_config import approval_policy
from pycodex.protocol.ops import InterruptOp, OverrideTurnContextOp, UserInputOp
from pycodex.protocol.user_input import UserInput
from pycodex.protocol.v2.items import core_user_input

JsonObj = dict[str, Any]


class _TurnHandler:
    def __init__(self, threads: LoadedThreads) -> None:
        self.threads = threads

    def loaded(self, thread_id: str) -> LoadedThread:
        loaded = self.threads.get(thread_id)
        if loaded is None:
            raise thread_not_found(thread_id)
        return loaded


def user_inputs(parts: list[dict[str, Any]]) -> list[UserInput]:
    try:
        return [core_user_input(part) for part in parts]
    except ValueError as exc:
        raise invalid_request(f"Invalid request: {exc}") from None


def new_turn_json(turn_id: str) -> JsonObj:
    return {
        "id": turn_id, "rootTurnId": turn_id, "items": [], "itemsView": "notLoaded",
        "status": "inProgress", "error": None, "startedAt": None, "completedAt": None,
        "durationMs": None,
    }


def settings_override(params: TurnStartParams) -> OverrideTurnContextOp | None:
    """The turn's settings as an override of the thread's, or None when it sets none."""
    wire: JsonObj = {"type": "override_turn_context"}
    if params.cwd is not None:
        wire["cwd"] = params.cwd
    if params.approval_policy is not None:
        wire["approval_policy"] = approval_policy(params.approval_policy)
    if params.sandbox_policy is not None:
        wire["sandbox_policy"] = core_sandbox_policy(params.sandbox_policy)
    for name in ("model", "effort", "summary"):
        if getattr(params, name) is not None:
            wire[name] = getattr(params, name)
    if len(wire) == 1:
        return None
    try:
        return OverrideTurnContextOp.from_wire(wire)
    except ValueError as exc:
        raise invalid_request(f"Invalid request: {exc}") from None


def core_sandbox_policy(policy: JsonObj) -> JsonObj:
    """A v2 sandbox policy (`{"type": "workspaceWrite", "writableRoots": …}`) in core form."""
    out: JsonObj = {}
    for key, value in policy.items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
        out[snake] = snake_kebab(value) if key == "type" and isinstance(value, str) else value
    return out


def snake_kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name)


class TurnStart(_TurnHandler):
    async def __call__(self, ctx: RequestContext, params: TurnStartParams) -> JsonValue:
        loaded = self.loaded(params.thread_id)
        items = user_inputs(params.input)
        override = settings_override(params)
        loaded.watch.add(ctx.peer)
        if override is not None:
            await loaded.thread.submit(override)
            before = loaded.settings.to_json()
            loaded.settings.apply(override)
            now = loaded.settings.to_json()
            if now != before:  # before the turn's answer and notifications, as Codex sends it
                await loaded.watch.notify_all(
                    "thread/settings/updated", {"threadId": params.thread_id, "threadSettings": now}
                )
        schema = params.output_schema if isinstance(params.output_schema, dict) else None
        turn_id = await loaded.thread.start_turn(
            UserInputOp(items=items, final_output_json_schema=schema)
        )
        return {"turn": new_turn_json(turn_id)}


class TurnSteer(_TurnHandler):
    async def __call__(self, ctx: RequestContext, params: TurnSteerParams) -> JsonValue:
        loaded = self.loaded(params.thread_id)
        items = user_inputs(params.input)
        try:
            turn_id = await loaded.thread.steer(UserInputOp(items=items), params.expected_turn_id)
        except (NoActiveTurn, ActiveTurnMismatch) as exc:
            raise invalid_request(str(exc)) from None
        return {"turnId": turn_id}


class TurnInterrupt(_TurnHandler):
    async def __call__(self, ctx: RequestContext, params: TurnInterruptParams) -> JsonValue:
        loaded = self.loaded(params.thread_id)
        await loaded.thread.submit(InterruptOp())
        return {}
