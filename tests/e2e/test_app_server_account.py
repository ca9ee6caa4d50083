"""`account/*` over a real `pycodex app-server` (stdio): reading the account, an API-key
login, the ChatGPT browser login against the mock OAuth issuer (the test plays the
browser), cancelling a login, logging out, and the rate limits the last turn reported.
Every message is schema-checked by the client."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_app_server_support import AppServer, server_env, write_mock_config
from tests.e2e.test_app_server_threads import Client, initialized_client, start_thread
from tests.e2e.test_login_chatgpt import play_browser
from tests.support.mock_model import MockModelServer, message, response
from tests.support.oauth_server import MockOAuthServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def oauth() -> Iterator[MockOAuthServer]:
    with MockOAuthServer() as server:
        yield server


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "pycodex-home"


@pytest.fixture
def client(tmp_path: Path, home: Path, mock_model: MockModelServer, oauth: MockOAuthServer) -> Iterator[Client]:
    write_mock_config(home, mock_model.url)
    env = server_env(tmp_path, MOCK_KEY="x", PYCODEX_LOGIN_ISSUER=oauth.url, PYCODEX_LOGIN_CALLBACK_PORT="0")
    yield from initialized_client(AppServer(tmp_path, env=env))


def test_no_account_then_an_api_key_then_logout(client: Client, home: Path) -> None:
    assert client.call("account/read", {})["result"] == {"account": None, "requiresOpenaiAuth": False}
    answer = client.call("account/login/start", {"type": "apiKey", "apiKey": "sk-test-123"})
    assert answer["result"] == {"type": "apiKey"}
    assert client.until("account/login/completed")["success"] is True
    assert client.until("account/updated")["authMode"] == "apikey"
    stored = json.loads((home / "auth.json").read_text())
    assert stored["OPENAI_API_KEY"] == "sk-test-123"
    assert stat.S_IMODE((home / "auth.json").stat().st_mode) == 0o600
    assert client.call("account/read", {})["result"]["account"] == {"type": "apiKey"}

    assert client.call("account/logout", {})["result"] == {}
    assert client.until("account/updated") == {"authMode": None, "planType": None}
    assert not (home / "auth.json").exists()
    assert client.call("account/read", {})["result"]["account"] is None


def test_chatgpt_login_answers_the_url_and_completes_in_the_background(
    client: Client, home: Path, oauth: MockOAuthServer
) -> None:
    started = client.call("account/login/start", {"type": "chatgpt"})["result"]
    assert started["type"] == "chatgpt" and started["authUrl"].startswith(oauth.url)
    status, _ = play_browser(started["authUrl"])
    assert status == 200
    done = client.until("account/login/completed")
    assert done == {"loginId": started["loginId"], "success": True, "error": None}
    assert client.until("account/updated") == {"authMode": "chatgpt", "planType": "pro"}
    account = client.call("account/read", {})["result"]["account"]
    assert account == {"type": "chatgpt", "email": "user@example.com", "planType": "pro"}
    assert (home / "auth.json").exists()


def test_device_code_login_answers_the_code_and_completes_when_entered(
    client: Client, home: Path, oauth: MockOAuthServer
) -> None:
    started = client.call("account/login/start", {"type": "chatgptDeviceCode"})["result"]
    assert started["type"] == "chatgptDeviceCode"
    assert started["verificationUrl"] == f"{oauth.url}/codex/device"
    assert started["userCode"].startswith("ABCD-")
    oauth.approve(started["userCode"])  # the user types the code on the device page
    done = client.until("account/login/completed")
    assert done == {"loginId": started["loginId"], "success": True, "error": None}
    assert client.until("account/updated")["authMode"] == "chatgpt"
    assert client.call("account/read", {})["result"]["account"]["type"] == "chatgpt"
    assert (home / "auth.json").exists()


def test_a_device_code_login_can_be_cancelled(client: Client, home: Path, oauth: MockOAuthServer) -> None:
    started = client.call("account/login/start", {"type": "chatgptDeviceCode"})["result"]
    assert oauth.poll_started.wait(30), "the login never polled the issuer"
    assert client.call("account/login/cancel", {"loginId": started["loginId"]})["result"] == {"status": "canceled"}
    early = [p for m, p in client.notes if m == "account/login/completed"]
    done = early[0] if early else client.until("account/login/completed")
    assert done["success"] is False and "cancelled" in done["error"]
    # Said at once, not when the poll that was out comes back (the issuer holds it open).
    assert oauth.polls_in_flight == 1
    oauth.approve(started["userCode"])  # entered too late: the cancelled login saves nothing
    assert client.call("account/read", {})["result"]["account"] is None
    assert not (home / "auth.json").exists()


def test_a_login_can_be_cancelled(client: Client, home: Path) -> None:
    started = client.call("account/login/start", {"type": "chatgpt"})["result"]
    assert client.call("account/login/cancel", {"loginId": started["loginId"]})["result"] == {"status": "canceled"}
    # The login may end before or after the answer to the cancel: either way, it is told.
    early = [p for m, p in client.notes if m == "account/login/completed"]
    done = early[0] if early else client.until("account/login/completed")
    assert done["success"] is False and "cancelled" in done["error"]
    assert not (home / "auth.json").exists()
    assert client.call("account/login/cancel", {"loginId": "no-such-login"})["result"] == {"status": "notFound"}


def test_unsupported_login_types_and_an_empty_key_are_refused_clearly(client: Client, home: Path) -> None:
    refused = client.call("account/login/start", {"type": "amazonBedrock", "apiKey": "k", "region": "us-east-1"})
    assert "does not support login type 'amazonBedrock'" in refused["error"]["message"]
    empty = client.call("account/login/start", {"type": "apiKey", "apiKey": "  "})
    assert empty["error"]["message"] == "apiKey must not be empty"
    assert not (home / "auth.json").exists()  # nothing half-written


def test_rate_limits_come_from_the_last_turn(client: Client, mock_model: MockModelServer, workspace: Path) -> None:
    assert "no rate limits known yet" in client.call("account/rateLimits/read", {})["error"]["message"]
    mock_model.enqueue(response(message("ok")))
    thread_id = start_thread(client, workspace)
    client.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "hi"}]})
    client.until("turn/completed", threadId=thread_id)
    limits = client.call("account/rateLimits/read", {})["result"]
    assert limits["rateLimits"]["limitId"] == "codex"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


def test_a_login_left_waiting_does_not_keep_the_server_from_exiting(client: Client) -> None:
    client.call("account/login/start", {"type": "chatgpt"})  # nobody opens the URL
    client.server.close_stdin()
    assert client.server.wait() == 0
