"""`pycodex exec` when the model provider misbehaves: a Chat stream cut after its last
chunk, retries counted on one budget, a host name that does not resolve, a missing key.
"""

from __future__ import annotations

import pytest

from tests.support.exec_cli import ExecHarness
from tests.support.mock_model import (
    MockModelServer,
    chat_text,
    chat_text_cut_after_finish,
    drop,
    http_error,
    message,
    response,
    response_events,
    sse,
)

pytestmark = pytest.mark.e2e

CHAT = ("-c", 'model_providers.mock.wire_api="chat"')


def retries(request: int, stream: int) -> tuple[str, ...]:
    return (
        "-c", f"model_providers.mock.request_max_retries={request}",
        "-c", f"model_providers.mock.stream_max_retries={stream}",
    )


def notices(messages: list[str]) -> list[str]:
    """The `Reconnecting... N/M` part of each retry notice."""
    return [text.split(" (")[0] for text in messages]


# --- a Chat stream cut after finish_reason ----------------------------------------------------

def test_chat_stream_cut_after_finish_shows_one_answer_json(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(chat_text_cut_after_finish("Half an answer."), chat_text("The whole answer."))

    r = harness.run("--json", *CHAT, *retries(0, 1), "answer once")

    assert r.rc == 0, r.stderr
    assert r.pairs() == [
        ("thread.started", None),
        ("turn.started", None),
        ("error", None),
        ("item.completed", "agent_message"),
        ("turn.completed", None),
    ]
    assert notices([e["message"] for e in r.of_type("error")]) == ["Reconnecting... 1/1"]
    assert [i["text"] for i in r.items("agent_message")] == ["The whole answer."]
    assert len(mock_model.model_requests()) == 2
    # The cut attempt's text never became history: the next request would not carry it.
    assert "Half an answer." not in r.stdout


def test_chat_stream_cut_after_finish_shows_one_answer_human(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(chat_text_cut_after_finish("Half an answer."), chat_text("The whole answer."))

    r = harness.run(*CHAT, *retries(0, 1), "answer once")

    assert r.rc == 0, r.stderr
    shown = r.stdout + r.stderr
    assert "Half an answer." not in shown
    assert r.stdout.strip() == "The whole answer."
    assert "Reconnecting... 1/1" in r.stderr


def _cut_after_message_done(text: str) -> object:
    """A Responses stream whose message item finished, dropped before `response.completed`."""
    events = response_events(message(text))
    done = next(i for i, e in enumerate(events) if e["type"] == "response.output_item.done")
    return sse(events, drop_after=done + 1)


def test_responses_stream_cut_after_item_done_shows_one_answer_json(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(_cut_after_message_done("Half an answer."), response(message("The whole answer.")))

    r = harness.run("--json", *retries(0, 1), "answer once")

    assert r.rc == 0, r.stderr
    assert r.pairs() == [
        ("thread.started", None),
        ("turn.started", None),
        ("error", None),
        ("item.completed", "agent_message"),
        ("turn.completed", None),
    ]
    assert [i["text"] for i in r.items("agent_message")] == ["The whole answer."]
    assert "Half an answer." not in r.stdout


def test_responses_stream_cut_after_item_done_shows_one_answer_human(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(_cut_after_message_done("Half an answer."), response(message("The whole answer.")))

    r = harness.run(*retries(0, 1), "answer once")

    assert r.rc == 0, r.stderr
    assert "Half an answer." not in r.stdout + r.stderr
    assert r.stdout.strip() == "The whole answer."


# --- one retry budget, one counter ------------------------------------------------------------

def test_request_and_stream_failures_share_one_counter(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    # A 500 (no stream yet) then a dropped stream: two retries of one budget, both shown.
    mock_model.enqueue(http_error(500), drop(), response(message("Third time lucky.")))

    r = harness.run("--json", *retries(1, 2), "[[retries]]")

    assert r.rc == 0, r.stderr
    assert notices([e["message"] for e in r.of_type("error")]) == [
        "Reconnecting... 1/2",
        "Reconnecting... 2/2",
    ]
    assert r.items("agent_message")[0]["text"] == "Third time lucky."
    assert len(mock_model.model_requests()) == 3


def test_exhausted_budget_reports_the_count_the_notices_showed(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    mock_model.enqueue(*[http_error(500)] * 3)

    r = harness.run("--json", *retries(2, 1), "[[error500]]")

    assert r.rc == 1
    # The budget is the larger of the two settings; every POST past the first is one retry.
    assert len(mock_model.model_requests()) == 3
    shown = notices([e["message"] for e in r.of_type("error")][:-1])
    assert shown == ["Reconnecting... 1/2", "Reconnecting... 2/2"]
    assert r.last["type"] == "turn.failed"
    final = r.last["error"]["message"]
    assert final.startswith("exceeded retry limit after 2 retries, last status: 500 Internal Server Error")


# --- a host name that does not resolve ------------------------------------------------------

def test_unresolvable_host_is_retried_briefly_and_named(harness: ExecHarness) -> None:
    # `.invalid` is reserved (RFC 2606): the local resolver refuses it without asking anyone.
    url = "http://nonexistent.invalid/v1"
    harness.write_config(base_url=url)

    r = harness.run("--json", *retries(4, 5), "hello?", timeout=15)

    assert r.rc == 1
    assert notices([e["message"] for e in r.of_type("error")][:-1]) == [
        "Reconnecting... 1/2",
        "Reconnecting... 2/2",
    ]
    final = r.last["error"]["message"]
    assert "\n" not in final
    assert final.startswith(f"could not connect to {url}/responses: cannot resolve the host name (")
    assert final.endswith(") (gave up after 2 retries)")


# --- a missing key --------------------------------------------------------------------------

def test_missing_key_of_a_custom_provider_says_which_variable_to_set(harness: ExecHarness) -> None:
    env = {k: v for k, v in harness.env.items() if k != "MOCK_KEY"}
    instructions = 'model_providers.mock.env_key_instructions="Get a key at https://mock.test/keys."'

    r = harness.run("--json", "-c", instructions, "hello?", env=env)

    assert r.rc == 1
    final = r.last["error"]["message"]
    assert final == (
        "Missing environment variable: `MOCK_KEY`. Get a key at https://mock.test/keys."
        " Set MOCK_KEY to your API key for model provider `mock` (e.g. `export MOCK_KEY=...`)."
    )
    assert harness.mock.requests == []
