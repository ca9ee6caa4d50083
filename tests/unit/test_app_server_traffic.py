"""The traffic validator the app-server e2e clients run every received message through:
it must reject what Codex's schemas reject, or the e2e tests prove nothing."""

from __future__ import annotations

import pytest

from tests.support.app_server_traffic import TrafficError, TrafficValidator

TURN = {"id": "t1", "items": [], "status": "inProgress", "error": None}


def test_a_well_formed_exchange_passes() -> None:
    traffic = TrafficValidator()
    traffic.sent({"id": 1, "method": "thread/unsubscribe", "params": {"threadId": "x"}})
    traffic.received({"id": 1, "result": {"status": "notLoaded"}})
    traffic.received({"method": "turn/started", "params": {"threadId": "x", "turn": TURN}})
    traffic.received({"id": 2, "error": {"code": -32600, "message": "bad"}})


def test_a_notification_with_a_renamed_field_fails() -> None:
    with pytest.raises(TrafficError, match="turn/started"):
        TrafficValidator().received({"method": "turn/started", "params": {"thread_id": "x", "turn": TURN}})


def test_a_method_the_reference_does_not_know_fails() -> None:
    with pytest.raises(TrafficError, match="not in the reference"):
        TrafficValidator().received({"method": "turn/exploded", "params": {}})


def test_a_result_is_checked_against_the_type_of_the_request_it_answers() -> None:
    traffic = TrafficValidator()
    traffic.sent({"id": 7, "method": "thread/unsubscribe", "params": {"threadId": "x"}})
    with pytest.raises(TrafficError, match="thread/unsubscribe result"):
        traffic.received({"id": 7, "result": {"status": "gone-fishing"}})


def test_a_response_to_no_request_fails() -> None:
    with pytest.raises(TrafficError, match="no request"):
        TrafficValidator().received({"id": 99, "result": {}})


def test_a_server_request_is_checked_against_its_params_type() -> None:
    with pytest.raises(TrafficError, match="server request"):
        TrafficValidator().received(
            {"id": 0, "method": "item/commandExecution/requestApproval", "params": {"command": 3}}
        )
