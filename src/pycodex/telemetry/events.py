"""`SessionTelemetry`: Codex's OTel event catalogue for one thread, from what the engine
already does — the model client's requests and SSE events (`RequestObserver`), the events
the session emits, and the approval decisions.

Pure Python and cheap: it builds attribute dictionaries and hands them to a `Sink` (the
OTLP exporter, or a list in tests). It never raises into the engine: telemetry must not
break a turn.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

log = logging.getLogger(__name__)
REDACTED = "[REDACTED]"
#: Tool output beyond this is cut in `codex.tool_result` (a collector is not a log store).
MAX_OUTPUT_CHARS = 16 * 1024


class Sink(Protocol):
    def emit(self, name: str, attributes: Mapping[str, Any]) -> None: ...


class Spans(Protocol):
    """The thread's trace (`traces.SpanRecorder`), fed from the same sources."""

    def on_event(self, msg: Any) -> None: ...

    def api_request(self, *, attempt: int, duration_ms: int, status: int | None, error: str | None) -> None: ...


class ThreadFacts(msgspec.Struct, frozen=True):
    """What every event says about its thread (OBS-02) and the start event (OBS-08)."""

    conversation_id: str
    app_version: str
    model: str
    terminal_type: str
    auth_mode: str | None = None
    account_id: str | None = None
    start: dict[str, Any] = msgspec.field(default_factory=dict)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SessionTelemetry:
    def __init__(
        self, sink: Sink | None, facts: ThreadFacts, *, log_user_prompt: bool, spans: Spans | None = None
    ) -> None:
        self._sink = sink
        self._spans = spans
        self._facts = facts
        self._log_user_prompt = log_user_prompt
        self._asked: set[str] = set()  # call ids whose approval a user was asked for
        self._begun: dict[str, dict[str, Any]] = {}

    def _emit(self, name: str, **fields: Any) -> None:
        if self._sink is None:  # traces only
            return
        f = self._facts
        attrs: dict[str, Any] = {
            "event.name": name,
            "event.timestamp": _now(),
            "conversation.id": f.conversation_id,
            "app.version": f.app_version,
            "terminal.type": f.terminal_type,
            "model": f.model,
            "slug": f.model,
        }
        if f.auth_mode:
            attrs["auth_mode"] = f.auth_mode
        if f.account_id:
            attrs["user.account_id"] = f.account_id
        attrs.update({k: v for k, v in fields.items() if v is not None})
        try:
            self._sink.emit(name, attrs)
        except Exception:  # an exporter bug must not end a turn
            log.debug("telemetry event %s dropped", name, exc_info=True)

    # --- the model client (RequestObserver) ---------------------------------------------

    def api_request(self, *, attempt: int, duration_ms: int, status: int | None,
                    error: str | None, cf_ray: str | None) -> None:
        self._emit("codex.api_request", attempt=attempt, duration_ms=duration_ms,
                   **{"http.response.status_code": status, "error.message": error,
                      "cf_ray": cf_ray})
        if self._spans is not None:
            try:
                self._spans.api_request(attempt=attempt, duration_ms=duration_ms, status=status, error=error)
            except Exception:  # a tracing bug must not end a turn
                log.debug("api_request span dropped", exc_info=True)

    def sse_event(self, *, kind: str, duration_ms: int, data: str) -> None:
        extra: dict[str, Any] = {}
        if kind in ("response.completed", "response.failed"):
            extra = _completion_fields(kind, data)
        self._emit("codex.sse_event", duration_ms=duration_ms, **{"event.kind": kind}, **extra)

    # --- the session --------------------------------------------------------------------

    def on_event(self, msg: Any) -> None:
        if self._spans is not None:
            try:
                self._spans.on_event(msg)
            except Exception:  # a tracing bug must not end a turn
                log.debug("span for %s dropped", getattr(msg, "type", "?"), exc_info=True)
        handler = _HANDLERS.get(getattr(msg, "type", ""))
        if handler is not None:
            handler(self, msg)

    def on_tool_decision(self, call_id: str, tool_name: str, decision: str) -> None:
        """A user (or client) answered an approval request."""
        self._asked.add(call_id)
        self._emit("codex.tool_decision", tool_name=tool_name, call_id=call_id,
                   decision=decision, source="user")

    def _session_configured(self, msg: Any) -> None:
        self._emit("codex.conversation_starts", **self._facts.start)

    def _user_message(self, msg: Any) -> None:
        text = str(msg.message)
        prompt = text if self._log_user_prompt else REDACTED
        self._emit("codex.user_prompt", prompt_length=len(text), prompt=prompt)

    def _begin(self, call_id: str, tool: str, arguments: dict[str, Any], auto: bool) -> None:
        self._begun[call_id] = {"tool_name": tool, "arguments": json.dumps(arguments)}
        if call_id not in self._asked and auto:
            self._emit("codex.tool_decision", tool_name=tool, call_id=call_id,
                       decision="approved", source="config")

    def _exec_begin(self, msg: Any) -> None:
        tool = "exec_command" if msg.process_id else "shell"
        self._begin(msg.call_id, tool, {"command": msg.command, "workdir": msg.cwd}, True)

    def _patch_begin(self, msg: Any) -> None:
        self._begin(msg.call_id, "apply_patch", {"files": sorted(msg.changes)}, msg.auto_approved)

    def _result(self, call_id: str, tool: str, duration_ms: int, success: bool, output: str) -> None:
        begun = self._begun.pop(call_id, {"tool_name": tool, "arguments": "{}"})
        self._emit("codex.tool_result", call_id=call_id, duration_ms=duration_ms,
                   success="true" if success else "false", output=output[:MAX_OUTPUT_CHARS],
                   **begun)

    def _exec_end(self, msg: Any) -> None:
        tool = "exec_command" if msg.process_id else "shell"
        self._result(msg.call_id, tool, _millis(msg.duration), msg.exit_code == 0,
                     msg.formatted_output or msg.aggregated_output)

    def _patch_end(self, msg: Any) -> None:
        self._result(msg.call_id, "apply_patch", 0, bool(msg.success), msg.stdout or msg.stderr)

    def _mcp_end(self, msg: Any) -> None:
        inv = msg.invocation
        tool = f"mcp__{getattr(inv, 'server', '')}__{getattr(inv, 'tool', '')}"
        self._begun.setdefault(msg.call_id, {"tool_name": tool,
                                             "arguments": json.dumps(getattr(inv, "arguments", None))})
        self._result(msg.call_id, tool, _millis(msg.duration), msg.is_success(),
                     json.dumps(msg.result)[:MAX_OUTPUT_CHARS])


_HANDLERS = {
    "session_configured": SessionTelemetry._session_configured,
    "user_message": SessionTelemetry._user_message,
    "exec_command_begin": SessionTelemetry._exec_begin,
    "exec_command_end": SessionTelemetry._exec_end,
    "patch_apply_begin": SessionTelemetry._patch_begin,
    "patch_apply_end": SessionTelemetry._patch_end,
    "mcp_tool_call_end": SessionTelemetry._mcp_end,
}


def _millis(duration: Any) -> int:
    if isinstance(duration, dict):  # serde's Duration: {"secs", "nanos"}
        return int(duration.get("secs", 0) * 1000 + duration.get("nanos", 0) // 1_000_000)
    secs = getattr(duration, "secs", None)
    if secs is not None:
        return int(secs * 1000 + getattr(duration, "nanos", 0) // 1_000_000)
    if isinstance(duration, dt.timedelta):
        return int(duration.total_seconds() * 1000)
    return int(duration) if isinstance(duration, int | float) else 0


def _completion_fields(kind: str, data: str) -> dict[str, Any]:
    try:
        response = json.loads(data).get("response") or {}
    except (ValueError, AttributeError):
        return {}
    if kind == "response.failed":
        error = response.get("error") or {}
        return {"error.message": error.get("message") if isinstance(error, dict) else str(error)}
    usage = response.get("usage") or {}
    details_in = usage.get("input_tokens_details") or {}
    details_out = usage.get("output_tokens_details") or {}
    return {
        "input_token_count": usage.get("input_tokens"),
        "output_token_count": usage.get("output_tokens"),
        "cached_token_count": details_in.get("cached_tokens"),
        "reasoning_token_count": details_out.get("reasoning_tokens"),
        "tool_token_count": usage.get("tool_tokens", 0),
    }
