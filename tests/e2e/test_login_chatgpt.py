"""ChatGPT login end to end: the installed `pycodex` against a mock OAuth issuer
(tests/support/oauth_server.py) and the mock model server.

The test plays the browser: it reads the URL `pycodex login` prints (there is no browser and
no TTY here), follows the issuer's redirect to pycodex's loopback callback, and the login
completes. Token refresh before expiry and after a 401 are driven through `pycodex exec`.
"""

from __future__ import annotations

import json
import stat
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.exec_cli import PYCODEX, ExecHarness
from tests.support.mock_model import http_error, message, response
from tests.support.oauth_server import Issued, MockOAuthServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def oauth() -> Iterator[MockOAuthServer]:
    with MockOAuthServer() as server:
        yield server


def login_env(harness: ExecHarness, oauth: MockOAuthServer) -> dict[str, str]:
    return {**harness.env, "PYCODEX_LOGIN_ISSUER": oauth.url, "PYCODEX_LOGIN_CALLBACK_PORT": "0"}


def spawn_login(harness: ExecHarness, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [str(PYCODEX), "login", *args], cwd=harness.workspace, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    harness._procs.append(proc)  # killed with the harness, whatever happens
    return proc


def read_until(proc: subprocess.Popen[str], needle: str) -> list[str]:
    """stderr lines up to the first containing `needle` (blocking reads: no polling)."""
    assert proc.stderr is not None
    lines: list[str] = []
    for line in proc.stderr:
        lines.append(line.rstrip("\n"))
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} never printed; stderr: {lines}")


def play_browser(url: str) -> tuple[int, str]:
    """Open the authorize URL and follow the redirect to the loopback callback."""
    try:
        with urllib.request.urlopen(url, timeout=10) as page:
            return page.status, page.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    _, rest = proc.communicate(timeout=20)
    return proc.returncode, rest


def auth_json(harness: ExecHarness) -> dict[str, object]:
    path = harness.home / "auth.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_browser_login_prints_the_url_and_completes_via_the_loopback_callback(
    harness: ExecHarness, oauth: MockOAuthServer
) -> None:
    proc = spawn_login(harness, login_env(harness, oauth))
    lines = read_until(proc, f"{oauth.url}/oauth/authorize?")
    url = lines[-1].strip()
    assert "code_challenge_method=S256" in url and "state=" in url
    status, page = play_browser(url)
    assert status == 200 and "Signed in" in page
    rc, rest = finish(proc)
    assert (rc, rest.strip().splitlines()[-1]) == (0, "Successfully logged in")
    data = auth_json(harness)
    assert data["auth_mode"] == "chatgpt"
    tokens = data["tokens"]
    assert isinstance(tokens, dict) and tokens["account_id"] == "ws-1"
    assert tokens["refresh_token"].startswith("refresh-")
    # No token ever reaches the terminal.
    assert tokens["access_token"] not in "\n".join(lines) + rest

    status_run = subprocess.run(
        [str(PYCODEX), "login", "status", "-c", 'model_provider="openai"'],
        env=harness.env, cwd=harness.workspace, capture_output=True, text=True, timeout=30,
    )
    assert status_run.returncode == 0, status_run.stderr
    assert status_run.stderr.startswith("Logged in using ChatGPT - user@example.com, workspace ws-1")


def test_browser_login_refuses_another_workspace_and_saves_nothing(
    harness: ExecHarness, oauth: MockOAuthServer
) -> None:
    proc = spawn_login(harness, login_env(harness, oauth), "-c", 'forced_chatgpt_workspace_id="ws-2"')
    url = read_until(proc, f"{oauth.url}/oauth/authorize?")[-1].strip()
    assert "allowed_workspace_id=ws-2" in url
    status, page = play_browser(url)
    assert status == 403 and "restricted to workspace id ws-2" in page
    rc, rest = finish(proc)
    assert rc == 1
    assert "Login is restricted to workspace id ws-2" in rest
    assert sorted(p.name for p in harness.home.iterdir()) == ["config.toml"]


def test_device_code_login(harness: ExecHarness, oauth: MockOAuthServer) -> None:
    proc = spawn_login(harness, login_env(harness, oauth), "--device-auth")
    lines = read_until(proc, "ABCD-")
    assert f"{oauth.url}/codex/device" in "\n".join(lines)
    oauth.approve(lines[-1].strip())
    rc, rest = finish(proc)
    assert rc == 0, rest
    tokens = auth_json(harness)["tokens"]
    assert isinstance(tokens, dict) and tokens["account_id"] == "ws-1"
    assert ("POST", "/oauth/token") in [(m, p) for m, p, _ in oauth.requests]


# --- using the tokens: refresh before expiry, on a 401, revoked -----------------------

CHATGPT_PROVIDER = """
[model_providers.chatgpt]
name = "ChatGPT mock"
base_url = "{url}"
wire_api = "responses"
requires_openai_auth = true
request_max_retries = 0
stream_max_retries = 0
"""


def sign_in(harness: ExecHarness, issued: Issued, workspace: str = "ws-1") -> Path:
    harness.write_config(extra=CHATGPT_PROVIDER.format(url=harness.mock.url))
    config = harness.home / "config.toml"
    config.write_text(config.read_text().replace('model_provider = "mock"', 'model_provider = "chatgpt"'))
    path = harness.home / "auth.json"
    path.write_text(json.dumps({
        "auth_mode": "chatgpt", "OPENAI_API_KEY": None,
        "tokens": {"id_token": issued.id_token, "access_token": issued.access_token,
                   "refresh_token": issued.refresh_token, "account_id": workspace},
        "last_refresh": "2026-01-01T00:00:00Z",
    }))
    path.chmod(0o600)
    return path


def test_expiring_token_is_refreshed_before_the_request(
    harness: ExecHarness, oauth: MockOAuthServer
) -> None:
    old = oauth.issue(expires_in=60)  # inside the refresh margin
    sign_in(harness, old)
    harness.mock.enqueue(response(message("hi")))
    result = harness.run("hello", env=login_env(harness, oauth))
    assert result.rc == 0, result.stderr
    assert oauth.refreshes == 1
    tokens = auth_json(harness)["tokens"]
    assert isinstance(tokens, dict) and tokens["access_token"] != old.access_token
    sent = harness.mock.requests[0].headers
    assert sent["authorization"] == f"Bearer {tokens['access_token']}"
    assert sent["chatgpt-account-id"] == "ws-1"


def test_401_refreshes_and_retries_once(harness: ExecHarness, oauth: MockOAuthServer) -> None:
    old = oauth.issue()
    sign_in(harness, old)
    harness.mock.enqueue(http_error(401), response(message("hi")))
    result = harness.run("hello", env=login_env(harness, oauth))
    assert result.rc == 0, result.stderr
    assert oauth.refreshes == 1
    auths = [r.headers["authorization"] for r in harness.mock.requests]
    new = auth_json(harness)["tokens"]
    assert isinstance(new, dict)
    assert auths == [f"Bearer {old.access_token}", f"Bearer {new['access_token']}"]


def test_revoked_refresh_token_fails_clearly_and_changes_nothing(
    harness: ExecHarness, oauth: MockOAuthServer
) -> None:
    old = oauth.issue(expires_in=-10)
    path = sign_in(harness, old)
    before = path.read_bytes()
    oauth.revoke(old.refresh_token)
    result = harness.run("hello", env=login_env(harness, oauth))
    assert result.rc == 1
    assert "Could not refresh the ChatGPT login" in result.stderr
    assert "pycodex login" in result.stderr
    assert old.refresh_token not in result.stderr and old.access_token not in result.stderr
    assert path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in harness.home.iterdir() if p.name.startswith(".auth.")]
    assert harness.mock.requests == []  # no model request with a dead token


def test_stored_login_of_another_workspace_is_refused(
    harness: ExecHarness, oauth: MockOAuthServer
) -> None:
    sign_in(harness, oauth.issue())
    result = harness.run("-c", 'forced_chatgpt_workspace_id="ws-2"', "hello",
                         env=login_env(harness, oauth))
    assert result.rc == 1
    assert "restricted to workspace id ws-2" in result.stderr
    assert harness.mock.requests == []
