"""`pycodex mcp add|list|get|remove`: config.toml edited in place (comments kept), output
as Codex's (`reference/config/mcp_cli.txt`), and what it writes is what exec and Codex read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.exec_cli import PYCODEX, ExecHarness
from tests.support.mock_model import MockModelServer, message, response

pytestmark = pytest.mark.e2e

REFERENCE = Path(__file__).resolve().parents[3] / "shared/reference/config"
CODEX_BIN = os.environ.get("CODEX_BIN", "")


def mcp(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "PYCODEX_HOME": str(home),
           "CODEX_HOME": str(home / "no-codex"), "HOME": str(home)}
    return subprocess.run([str(PYCODEX), "mcp", *args], env=env, capture_output=True, text=True, timeout=30)


def add_reference_servers(home: Path) -> None:
    for name, args in (
        ("echo", ("add", "echo", "--", "python3", "/opt/mock/mcp_echo.py")),
        ("echo2", ("add", "--env", "FOO=bar", "--env", "BAZ=qux", "echo2", "--", "python3",
                   "/opt/mock/mcp_echo.py", "--flag")),
        ("web", ("add", "web", "--url", "http://127.0.0.1:9/mcp", "--bearer-token-env-var", "MY_TOKEN")),
    ):
        r = mcp(home, *args)
        assert (r.returncode, r.stdout) == (0, f"Added global MCP server '{name}'.\n"), r.stderr


@pytest.fixture
def home(tmp_path: Path) -> Path:
    before = REFERENCE / "config.before_mcp.toml"
    text = before.read_text() if before.is_file() else 'model = "gpt-5.5"\n'
    (tmp_path / "config.toml").write_text(text)
    return tmp_path


def test_empty_list(tmp_path: Path) -> None:
    r = mcp(tmp_path, "list")
    assert (r.returncode, r.stdout) == (0, "No MCP servers configured yet. Try `pycodex mcp add my-tool -- my-command`.\n")


def test_add_writes_what_codex_writes(home: Path) -> None:
    if not (REFERENCE / "config.after_mcp_add.toml").is_file():
        pytest.skip("reference/config/config.after_mcp_add.toml not available")
    add_reference_servers(home)
    assert (home / "config.toml").read_text() == (REFERENCE / "config.after_mcp_add.toml").read_text()


def test_list_and_get(home: Path) -> None:
    add_reference_servers(home)
    listed = mcp(home, "list").stdout.splitlines()
    assert listed[0].split() == ["Name", "Command", "Args", "Env", "Cwd", "Status", "Auth"]
    assert listed[2].split("  ")[0] == "echo2" and "BAZ=*****, FOO=*****" in listed[2]
    assert listed[4].split() == ["Name", "Url", "Bearer", "Token", "Env", "Var", "Status", "Auth"]
    assert listed[5].split() == ["web", "http://127.0.0.1:9/mcp", "MY_TOKEN", "enabled", "Bearer", "token"]
    as_json = json.loads(mcp(home, "list", "--json").stdout)
    assert [e["name"] for e in as_json] == ["echo", "echo2", "web"]
    assert as_json[1]["transport"] == {
        "type": "stdio", "command": "python3", "args": ["/opt/mock/mcp_echo.py", "--flag"],
        "env": {"BAZ": "qux", "FOO": "bar"}, "env_vars": [], "cwd": None,
    }
    assert as_json[2]["auth_status"] == "bearer_token"
    assert mcp(home, "get", "echo2").stdout == (
        "echo2\n  enabled: true\n  transport: stdio\n  command: python3\n"
        "  args: /opt/mock/mcp_echo.py --flag\n  cwd: -\n  env: BAZ=*****, FOO=*****\n"
        "  remove: pycodex mcp remove echo2\n"
    )
    got = json.loads(mcp(home, "get", "web", "--json").stdout)
    assert got["transport"]["type"] == "streamable_http" and got["enabled_tools"] is None
    missing = mcp(home, "get", "nope")
    assert missing.returncode == 1 and "No MCP server named 'nope' found." in missing.stderr


def test_remove_keeps_comments_and_the_rest(home: Path) -> None:
    config = home / "config.toml"
    config.write_text(
        "# my settings\nmodel = \"gpt-5.5\"  # the model\n\n"
        "[mcp_servers.keep]\n# keep me\ncommand = \"a\"\nargs = []\n\n"
        "[mcp_servers.gone]\ncommand = \"b\"\nargs = [\"x\"]\n\n"
        "[tools]\n# a trailing table\nview_image = true\n"
    )
    r = mcp(home, "remove", "gone")
    assert (r.returncode, r.stdout) == (0, "Removed global MCP server 'gone'.\n")
    assert config.read_text() == (
        "# my settings\nmodel = \"gpt-5.5\"  # the model\n\n"
        "[mcp_servers.keep]\n# keep me\ncommand = \"a\"\nargs = []\n\n"
        "[tools]\n# a trailing table\nview_image = true\n"
    )
    again = mcp(home, "remove", "gone")
    assert (again.returncode, again.stdout) == (0, "No MCP server named 'gone' found.\n")


def test_bad_input_is_refused_and_changes_nothing(home: Path) -> None:
    before = (home / "config.toml").read_text()
    for args in (("add", "bad name", "--", "x"), ("add", "n"), ("add", "n", "--url", "u", "--", "x"),
                 ("add", "n", "--env", "A=1", "--url", "u"), ("add", "n", "--env", "NOEQ", "--", "x")):
        r = mcp(home, *args)
        assert r.returncode == 2 and r.stderr, args
    assert (home / "config.toml").read_text() == before


def test_exec_starts_a_server_added_by_the_cli(harness: ExecHarness, mock_model: MockModelServer) -> None:
    repo = Path(__file__).resolve().parents[2]
    r = mcp(harness.home, "add", "--env", f"PYTHONPATH={repo}", "fx", "--",
            sys.executable, "-m", "tests.support.mcp_fixture_server")
    assert r.returncode == 0, r.stderr
    mock_model.enqueue(response(message("ok")))
    result = harness.run("--json", "hi", timeout=60)
    assert result.rc == 0, result.stderr
    assert "mcp__fx__echo" in {t.get("name") for t in mock_model.model_requests()[0].body["tools"]}


@pytest.mark.skipif(not os.access(CODEX_BIN or "/nonexistent", os.X_OK),
                    reason="CODEX_BIN (the reference codex binary) is not set or not executable")
def test_codex_reads_what_pycodex_wrote(home: Path) -> None:
    add_reference_servers(home)
    env = {"PATH": os.environ.get("PATH", ""), "CODEX_HOME": str(home), "HOME": str(home)}
    theirs = subprocess.run([CODEX_BIN, "mcp", "list", "--json"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert theirs.returncode == 0, theirs.stderr
    assert json.loads(theirs.stdout) == json.loads(mcp(home, "list", "--json").stdout)
