"""`pycodex mcp login/logout` against an OAuth-protected streamable-HTTP MCP server (the
mcp SDK's own authorization server, `tests/support/mcp_oauth_server.py`); the test plays
the browser. Then the stored tokens authorize `exec`'s connection, and an expired one is
refreshed at the server's token endpoint before it is used."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.exec_cli import PYCODEX, ExecHarness, input_items
from tests.support.mock_model import MockModelServer, function_call, message, response

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
CREDENTIALS = "mcp_oauth_credentials.json"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def oauth_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "grants.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.mcp_oauth_server", "--log", str(log)],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until it serves (or ends: then fail)
        assert line.startswith("listening on "), f"the OAuth test server did not start: {line!r}"
        yield f"http://127.0.0.1:{int(line.split()[-1])}/mcp", log
    finally:
        os.killpg(proc.pid, 9)
        proc.wait(timeout=10)


def mcp_cli(harness: ExecHarness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PYCODEX), "mcp", *args], env=harness.env, cwd=harness.workspace,
                          capture_output=True, text=True, timeout=60, check=False)


def play_browser(authorization_url: str) -> None:
    """What the user's browser does: the server approves at once and redirects to the
    client's loopback callback, which pycodex answers."""
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(authorization_url, timeout=30)
    assert redirect.value.code in (302, 303, 307)
    callback = redirect.value.headers["Location"]
    assert callback.startswith("http://127.0.0.1:") and "/callback?" in callback
    with urllib.request.urlopen(callback, timeout=30) as page:
        assert page.status == 200


def login(harness: ExecHarness, name: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen([str(PYCODEX), "mcp", "login", name], env={**harness.env, "PYCODEX_NO_BROWSER": "1"},
                            cwd=harness.workspace, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    try:
        first = proc.stdout.readline()
        assert first.startswith(f"Authorize `{name}`"), first + proc.stderr.read() if proc.stderr else first
        play_browser(proc.stdout.readline().strip())
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
    return subprocess.CompletedProcess(proc.args, proc.returncode, first + stdout, stderr)


def grants(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [json.loads(line)["grant"] for line in lines if '"grant"' in line]


def whoami_through_exec(harness: ExecHarness, mock: MockModelServer) -> str:
    mock.enqueue(response(function_call("mcp__secure__whoami", {}, "c1")), response(message("done")))
    r = harness.run("--json", "who am I there?", timeout=90)
    assert r.rc == 0, r.stderr
    outputs = {o["call_id"]: o["output"] for o in input_items(mock.model_requests()[-1], "function_call_output")}
    return json.dumps(outputs["c1"])


def test_login_stores_tokens_exec_uses_and_refreshes_them_logout_removes_them(
    harness: ExecHarness, mock_model: MockModelServer, oauth_server: tuple[str, Path]
) -> None:
    url, log = oauth_server
    harness.write_config(extra=f'\n[mcp_servers.secure]\nurl = "{url}"\n')
    listed = json.loads(mcp_cli(harness, "list", "--json").stdout)
    assert listed[0]["auth_status"] == "unsupported"

    done = login(harness, "secure")
    assert done.returncode == 0, done.stderr
    assert "Successfully logged in to MCP server 'secure'." in done.stdout
    stored_file = harness.home / CREDENTIALS
    assert stat.S_IMODE(stored_file.stat().st_mode) == 0o600
    stored = json.loads(stored_file.read_text())["secure"]
    assert stored["url"] == url and stored["tokens"]["access_token"].startswith("at-")
    assert grants(log) == ["authorization_code"]
    assert json.loads(mcp_cli(harness, "list", "--json").stdout)[0]["auth_status"] == "o_auth"

    # exec connects with the stored access token.
    assert f"token={stored['tokens']['access_token']}" in whoami_through_exec(harness, mock_model)

    # Expired while pycodex was not running: refreshed before use, and the new tokens stored.
    stored_all = json.loads(stored_file.read_text())
    stored_all["secure"]["expires_at"] = time.time() - 60
    stored_file.write_text(json.dumps(stored_all))
    answer = whoami_through_exec(harness, mock_model)
    assert grants(log) == ["authorization_code", "refresh_token"]
    refreshed = json.loads(stored_file.read_text())["secure"]["tokens"]["access_token"]
    assert refreshed != stored["tokens"]["access_token"]
    assert f"token={refreshed}" in answer

    out = mcp_cli(harness, "logout", "secure")
    assert out.returncode == 0 and "Removed OAuth credentials for 'secure'." in out.stdout
    assert "secure" not in json.loads(stored_file.read_text())
    again = mcp_cli(harness, "logout", "secure")
    assert again.returncode == 1 and "No OAuth credentials stored for server 'secure'." in again.stderr


def test_login_refuses_servers_that_are_not_streamable_http(harness: ExecHarness) -> None:
    harness.write_config(extra='\n[mcp_servers.local]\ncommand = "true"\n')
    out = mcp_cli(harness, "login", "local")
    assert out.returncode == 1 and "only supported for streamable HTTP servers" in out.stderr
    missing = mcp_cli(harness, "login", "nope")
    assert missing.returncode == 1 and "No MCP server named 'nope' found." in missing.stderr
    assert not (harness.home / CREDENTIALS).exists()
