"""`SessionTelemetry` without an exporter (a list sink): user decisions from the approvals
seam, config decisions from the events, `[otel]` parsing with `${ENV}` headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from pycodex.protocol.event_payloads import ExecCommandBeginEvent
from pycodex.telemetry.events import SessionTelemetry, ThreadFacts
from pycodex.telemetry.settings import TelemetryConfigError, otel_settings


class ListSink:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, name: str, attributes: Mapping[str, Any]) -> None:
        self.events.append(dict(attributes))


def telemetry() -> tuple[SessionTelemetry, ListSink]:
    sink = ListSink()
    facts = ThreadFacts(conversation_id="t1", app_version="0", model="m", terminal_type="x")
    return SessionTelemetry(sink, facts, log_user_prompt=False), sink


def begin(call_id: str) -> ExecCommandBeginEvent:
    return ExecCommandBeginEvent(call_id=call_id, command=["ls"], cwd="/")


def test_a_user_decision_is_not_reported_again_as_config() -> None:
    tel, sink = telemetry()
    tel.on_tool_decision("c1", "shell", "approved_for_session")
    tel.on_event(begin("c1"))
    tel.on_event(begin("c2"))
    decisions = [(e["call_id"], e["decision"], e["source"]) for e in sink.events]
    assert decisions == [("c1", "approved_for_session", "user"), ("c2", "approved", "config")]


def test_otel_settings_expand_env_headers() -> None:
    otel = {"exporter": {"otlp-grpc": {"endpoint": "http://h:4317",
                                       "headers": {"X-Key": "a-${TOKEN}-b"}}}}
    settings = otel_settings(otel, {"TOKEN": "t"})
    assert settings is not None and settings.headers == {"x-key": "a-t-b"}
    assert otel_settings({"exporter": "none"}, {}) is None


def test_otel_settings_name_the_bad_key() -> None:
    with pytest.raises(TelemetryConfigError, match=r"otel\.exporter\.otlp-http\.protocol"):
        otel_settings({"exporter": {"otlp-http": {"endpoint": "x", "protocol": "xml"}}}, {})
