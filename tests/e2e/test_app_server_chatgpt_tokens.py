"""`account/login/start` with `chatgptAuthTokens`: ChatGPT tokens the client manages, over a
real `pycodex app-server` (stdio). They stay in memory, authorize the model requests of
the server's threads, are refreshed by asking the client after a 401 (the request is then
retried), and are forgotten at logout. Every message is schema-checked by the client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_app_server_support import AppServer, server_env
from tests.e2e.test_app_server_threads import Client, initialized_client, start_thread
from tests.support.mock_model import MockModelServer, http_error, message, response
from tests.support.oauth_server import make_jwt

pytestmark = pytest.mark.e2e
Json = dict[str, Any]
REFRESH = "account/chatgptAuthTokens/refresh"
TOKEN_1 = make_jwt({"email": "host@example.com", "https://api.openai.com/auth": {"chatgpt_plan_type": "team"}})
TOKEN_2 = make_jwt({"email": "host@example.com", "n": 2})


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "pycodex-home"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def client(tmp_path: Path, home: Path, mock_model: MockModelServer) -> Iterator[Client]:
    home.mkdir(parents=True)
    # A provider that takes OpenAI auth and has no key of its own: the tokens are its credential.
    (home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "mock"\n[model_providers.mock]\nname = "mock"\n'
        f'base_url = "{mock_model.url}"\nrequires_openai_auth = true\nrequest_max_retries = 0\n'
        "stream_max_retries = 0\n"
    )
    yield from initialized_client(AppServer(tmp_path, env=server_env(tmp_path)))


def log_in(client: Client, access: str = TOKEN_1, account: str = "acct-1", plan: str | None = "pro") -> None:
    """Log in with tokens; the answer is followed by `account/login/completed`, then
    `account/updated`, in that order (as Codex sends them)."""
    answer = client.call("account/login/start", {"type": "chatgptAuthTokens", "accessToken": access,
                                                 "chatgptAccountId": account, "chatgptPlanType": plan})
    assert answer["result"] == {"type": "chatgptAuthTokens"}, answer
    completed, updated = ((m["method"], m["params"]) for m in (client.server.recv(), client.server.recv()))
    assert completed == ("account/login/completed", {"loginId": None, "success": True, "error": None})
    assert updated == ("account/updated", {"authMode": "chatgptAuthTokens", "planType": plan or "team"})


def run_turn(client: Client, thread_id: str) -> Json:
    client.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "hi"}]})
    return client.until("turn/completed", threadId=thread_id)["turn"]


def run_turn_answering_refresh(client: Client, thread_id: str, answer: Json) -> tuple[Json, Json]:
    """Start a turn; answer the server's refresh request with `answer`; (its params,
    turn/completed)."""
    client.server.send({"id": 99, "method": "turn/start",
                        "params": {"threadId": thread_id, "input": [{"type": "text", "text": "hi"}]}})
    asked: Json | None = None
    while True:
        msg = client.server.recv()
        if msg.get("method") == REFRESH and "id" in msg:
            asked = msg["params"]
            client.server.send({"id": msg["id"], **answer})
        elif msg.get("method") == "turn/completed":
            assert asked is not None, "the server never asked for a refresh"
            return asked, msg["params"]


def test_tokens_authorize_requests_and_stay_in_memory(
    client: Client, home: Path, mock_model: MockModelServer, workspace: Path
) -> None:
    log_in(client)
    account = client.call("account/read", {})["result"]
    assert account == {"account": {"type": "chatgpt", "email": "host@example.com", "planType": "pro"},
                       "requiresOpenaiAuth": True}
    mock_model.enqueue(response(message("ok")))
    thread_id = start_thread(client, workspace)
    assert run_turn(client, thread_id)["status"] == "completed"
    headers = mock_model.model_requests()[-1].headers
    assert headers["authorization"] == f"Bearer {TOKEN_1}"
    assert headers["chatgpt-account-id"] == "acct-1"
    assert not (home / "auth.json").exists()  # memory only


def test_plan_type_comes_from_the_token_when_not_given(client: Client) -> None:
    log_in(client, plan=None)
    assert client.call("account/read", {})["result"]["account"] == {
        "type": "chatgpt", "email": "host@example.com", "planType": "team"}


def test_logout_forgets_the_tokens(client: Client, mock_model: MockModelServer, workspace: Path) -> None:
    log_in(client)
    thread_id = start_thread(client, workspace)
    assert client.call("account/logout", {})["result"] == {}
    assert client.until("account/updated") == {"authMode": None, "planType": None}
    assert client.call("account/read", {})["result"]["account"] is None
    mock_model.enqueue(response(message("unauthenticated")))
    run_turn(client, thread_id)
    sent = [r.headers.get("authorization") for r in mock_model.model_requests()]
    assert f"Bearer {TOKEN_1}" not in sent  # the thread no longer uses them


def test_other_logins_are_refused_while_tokens_are_set(client: Client, home: Path) -> None:
    log_in(client)
    refused = client.call("account/login/start", {"type": "apiKey", "apiKey": "sk-test"})
    assert "External auth is active" in refused["error"]["message"]
    assert not (home / "auth.json").exists()
    # New tokens replace them, though.
    log_in(client, access=TOKEN_2, account="acct-2", plan="plus")
    assert client.call("account/read", {})["result"]["account"]["planType"] == "plus"


def test_a_401_asks_the_client_for_new_tokens_and_retries(
    client: Client, mock_model: MockModelServer, workspace: Path
) -> None:
    log_in(client)
    thread_id = start_thread(client, workspace)
    mock_model.enqueue(http_error(401), response(message("after refresh")))
    asked, completed = run_turn_answering_refresh(
        client, thread_id, {"result": {"accessToken": TOKEN_2, "chatgptAccountId": "acct-2", "chatgptPlanType": None}}
    )
    assert asked == {"reason": "unauthorized", "previousAccountId": "acct-1"}
    assert completed["turn"]["status"] == "completed"
    first, retried = mock_model.model_requests()[-2:]
    assert first.headers["authorization"] == f"Bearer {TOKEN_1}"
    assert retried.headers["authorization"] == f"Bearer {TOKEN_2}"
    assert retried.headers["chatgpt-account-id"] == "acct-2"
    # The new tokens are kept: the next turn starts with them.
    mock_model.enqueue(response(message("again")))
    assert run_turn(client, thread_id)["status"] == "completed"
    assert mock_model.model_requests()[-1].headers["authorization"] == f"Bearer {TOKEN_2}"


@pytest.mark.parametrize(("answer", "reason"), [
    ({"error": {"code": -32000, "message": "host says no"}}, "host says no"),
    ({"result": {"accessToken": "not-a-jwt", "chatgptAccountId": "acct-2"}}, "the accessToken is not a JWT"),
], ids=["error", "not-a-jwt"])
def test_a_failed_refresh_fails_the_turn_clearly(
    client: Client, mock_model: MockModelServer, workspace: Path, answer: Json, reason: str
) -> None:
    log_in(client)
    thread_id = start_thread(client, workspace)
    mock_model.enqueue(http_error(401))
    _, completed = run_turn_answering_refresh(client, thread_id, answer)
    turn = completed["turn"]
    assert turn["status"] == "failed"
    assert "could not refresh the ChatGPT tokens" in turn["error"]["message"]
    assert reason in turn["error"]["message"]
    assert len(mock_model.model_requests()) == 1  # no retry with the refused tokens


def test_empty_tokens_are_refused(client: Client) -> None:
    refused = client.call("account/login/start", {"type": "chatgptAuthTokens", "accessToken": "",
                                                  "chatgptAccountId": "acct"})
    assert "non-empty accessToken and chatgptAccountId" in refused["error"]["message"]
    assert client.call("account/read", {})["result"]["account"] is None


def test_an_access_token_that_is_not_a_jwt_is_refused(client: Client) -> None:
    refused = client.call("account/login/start", {"type": "chatgptAuthTokens", "accessToken": "opaque",
                                                  "chatgptAccountId": "acct"})
    assert "accessToken is not a JWT" in refused["error"]["message"]
    assert client.call("account/read", {})["result"]["account"] is None


def test_a_running_thread_follows_a_login_to_chatgpts_backend(
    tmp_path: Path, home: Path, mock_model: MockModelServer, workspace: Path
) -> None:
    """The built-in OpenAI provider, its key stored by `pycodex login --api-key`: a thread
    started (and run) before the tokens arrive sends its next request to ChatGPT's backend
    with them (the address is decided per request, not at thread start)."""
    home.mkdir(parents=True)
    root = mock_model.url.removesuffix("/v1")
    (home / "config.toml").write_text(f'model = "gpt-5.5"\nchatgpt_base_url = "{root}/backend-api"\n')
    (home / "auth.json").write_text('{"OPENAI_API_KEY": "sk-stored"}')
    env = server_env(tmp_path, OPENAI_BASE_URL=mock_model.url)
    for client in initialized_client(AppServer(tmp_path, env=env)):
        thread_id = start_thread(client, workspace)
        seen: list[tuple[str, str]] = []
        for step in ("before", "logged in"):
            if step == "logged in":
                log_in(client)
            mock_model.enqueue(response(message(step)))
            turn = run_turn(client, thread_id)
            assert turn["status"] == "completed", (step, turn)
            last = mock_model.model_requests()[-1]
            seen.append((last.path, last.headers["authorization"]))
        assert seen == [
            ("/v1/responses", "Bearer sk-stored"),
            ("/backend-api/codex/responses", f"Bearer {TOKEN_1}"),
        ]
