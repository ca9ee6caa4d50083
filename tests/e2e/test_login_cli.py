"""`pycodex login` / `login status` / `logout`, run through the installed executable.

Expected texts come from Codex's behaviour (`reference/config/login_cli.txt`): all
messages on stderr, stdout empty, auth.json pretty JSON with mode 0600.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PYCODEX = Path(sys.executable).parent / "pycodex"
KEY = "sk-test-1234567890abcdef"
MASKED = "sk-test-***bcdef"
PIPE_HINT = "`printenv OPENAI_API_KEY | pycodex login --with-api-key`"


@dataclass
class Homes:
    root: Path
    pycodex: Path
    codex: Path
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.home),
            "PYCODEX_HOME": str(self.pycodex),
            "CODEX_HOME": str(self.codex),
        }
        env.update(extra)
        return env

    def run(
        self,
        *args: str,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PYCODEX), *args],
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            text=True,
            env=env if env is not None else self.env(),
            cwd=self.root,
            timeout=60,
        )


@pytest.fixture
def homes(tmp_path: Path) -> Homes:
    home = tmp_path / "home"
    home.mkdir()
    return Homes(root=tmp_path, pycodex=tmp_path / "pycodex", codex=tmp_path / "codex", home=home)


def write_codex_auth(homes: Homes, key: str) -> Path:
    homes.codex.mkdir(parents=True, exist_ok=True)
    path = homes.codex / "auth.json"
    path.write_text(json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": key}, indent=2))
    return path


def assert_no_pycodex_files(homes: Homes) -> None:
    """A failed login leaves nothing behind: no auth.json, no temp file."""
    if homes.pycodex.exists():
        assert list(homes.pycodex.iterdir()) == []


def test_installed_executable_exists() -> None:
    assert PYCODEX.is_file(), f"pycodex is not installed in {PYCODEX.parent}"


def test_status_when_not_logged_in(homes: Homes) -> None:
    result = homes.run("login", "status")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "Not logged in\n")


def test_login_with_api_key_writes_auth_json_0600(homes: Homes) -> None:
    result = homes.run("login", "--with-api-key", stdin=KEY + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == "Reading API key from stdin...\nSuccessfully logged in\n"

    auth = homes.pycodex / "auth.json"
    assert json.loads(auth.read_text()) == {"auth_mode": "apikey", "OPENAI_API_KEY": KEY}
    assert auth.read_text().startswith('{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": ')
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert sorted(p.name for p in homes.pycodex.iterdir()) == ["auth.json"]
    assert not homes.codex.exists(), "login must never write into Codex's home"


def test_status_after_login_masks_the_key(homes: Homes) -> None:
    assert homes.run("login", "--with-api-key", stdin=KEY).returncode == 0
    result = homes.run("login", "status")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == f"Logged in using an API key - {MASKED}\n"
    assert KEY not in result.stderr


def test_login_again_replaces_the_key(homes: Homes) -> None:
    assert homes.run("login", "--with-api-key", stdin=KEY).returncode == 0
    other = "sk-other-000000000099999"
    assert homes.run("login", "--with-api-key", stdin=other).returncode == 0
    auth = homes.pycodex / "auth.json"
    assert json.loads(auth.read_text())["OPENAI_API_KEY"] == other
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert sorted(p.name for p in homes.pycodex.iterdir()) == ["auth.json"]


def test_login_defaults_to_dot_pycodex_under_home(homes: Homes) -> None:
    env = homes.env()
    del env["PYCODEX_HOME"]
    result = homes.run("login", "--with-api-key", stdin=KEY, env=env)
    assert result.returncode == 0, result.stderr
    auth = homes.home / ".pycodex" / "auth.json"
    assert json.loads(auth.read_text())["OPENAI_API_KEY"] == KEY
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600


@pytest.mark.parametrize("stdin", ["", "\n", "  \n\t\n"])
def test_login_with_empty_stdin_fails(homes: Homes, stdin: str) -> None:
    result = homes.run("login", "--with-api-key", stdin=stdin)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "Reading API key from stdin...\nNo API key provided via stdin.\n"
    assert_no_pycodex_files(homes)


def test_login_with_two_keys_on_stdin_fails(homes: Homes) -> None:
    result = homes.run("login", "--with-api-key", stdin="sk-one-aaaaaaaaaa\nsk-two-bbbbbbbbbb\n")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Reading API key from stdin..."
    assert len(lines) == 2 and "whitespace" in lines[1]
    assert_no_pycodex_files(homes)


@pytest.mark.parametrize("args", [["--api-key", "sk-x-1234567890"], ["--api-key"]])
def test_api_key_flag_is_rejected_with_pipe_hint(homes: Homes, args: list[str]) -> None:
    result = homes.run("login", *args)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"The --api-key flag is no longer supported. Pipe the key instead, e.g. {PIPE_HINT}.\n"
    )
    assert_no_pycodex_files(homes)


def test_plain_login_is_refused_when_api_login_is_forced(homes: Homes) -> None:
    # Plain `login` is the ChatGPT browser flow (tests/e2e/test_login_chatgpt.py); a config
    # that forces API-key login refuses it before any server is started.
    result = homes.run("login", "-c", 'forced_login_method="api"')
    assert (result.returncode, result.stdout) == (1, "")
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert "ChatGPT login is disabled" in lines[0] and "--with-api-key" in lines[0]
    assert_no_pycodex_files(homes)


def test_login_reports_unwritable_home_in_one_line(homes: Homes) -> None:
    homes.pycodex.write_text("not a directory")
    result = homes.run("login", "--with-api-key", stdin=KEY)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Reading API key from stdin..."
    assert len(lines) == 2
    # Config is read from the same home (for cli_auth_credentials_store and
    # forced_login_method): the first thing to fail names that home.
    assert lines[1].startswith("Error: ") and str(homes.pycodex) in lines[1]
    assert homes.pycodex.read_text() == "not a directory"


def test_logout_deletes_auth_json_then_reports_not_logged_in(homes: Homes) -> None:
    assert homes.run("login", "--with-api-key", stdin=KEY).returncode == 0
    first = homes.run("logout")
    assert (first.returncode, first.stdout, first.stderr) == (0, "", "Successfully logged out\n")
    assert not (homes.pycodex / "auth.json").exists()

    second = homes.run("logout")
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "Not logged in\n")

    status = homes.run("login", "status")
    assert (status.returncode, status.stderr) == (1, "Not logged in\n")


def test_logout_never_touches_codex_home(homes: Homes) -> None:
    codex_auth = write_codex_auth(homes, "sk-codex-abcdefghijkl")
    before = codex_auth.read_bytes()
    assert homes.run("login", "--with-api-key", stdin=KEY).returncode == 0

    result = homes.run("logout")
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert lines[0] == "Successfully logged out"
    # The remaining Codex login is pointed out, since status will still find it.
    assert len(lines) == 2 and str(codex_auth) in lines[1]
    assert codex_auth.read_bytes() == before
    assert not (homes.pycodex / "auth.json").exists()


def test_status_falls_back_to_codex_home(homes: Homes) -> None:
    codex_auth = write_codex_auth(homes, "sk-codex-abcdefghijkl")
    result = homes.run("login", "status")
    assert (result.returncode, result.stdout) == (0, "")
    lines = result.stderr.splitlines()
    assert lines[0] == "Logged in using an API key - sk-codex***hijkl"
    assert len(lines) == 2
    assert "Codex" in lines[1] and str(codex_auth) in lines[1]


def test_status_prefers_pycodex_home_over_codex_home(homes: Homes) -> None:
    write_codex_auth(homes, "sk-codex-abcdefghijkl")
    assert homes.run("login", "--with-api-key", stdin=KEY).returncode == 0
    result = homes.run("login", "status")
    assert (result.returncode, result.stderr) == (0, f"Logged in using an API key - {MASKED}\n")


def test_status_uses_openai_api_key_from_environment(homes: Homes) -> None:
    env_key = "sk-env-0123456789wxyz"
    result = homes.run("login", "status", env=homes.env(OPENAI_API_KEY=env_key))
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "Using OPENAI_API_KEY from the environment - sk-env-0***9wxyz\n"
    assert env_key not in result.stderr


def test_status_ignores_empty_openai_api_key(homes: Homes) -> None:
    result = homes.run("login", "status", env=homes.env(OPENAI_API_KEY="  "))
    assert (result.returncode, result.stderr) == (1, "Not logged in\n")


def test_status_stored_key_wins_and_notes_environment_override(homes: Homes) -> None:
    assert homes.run("login", "--with-api-key", stdin=KEY).returncode == 0
    env = homes.env(OPENAI_API_KEY="sk-env-0123456789wxyz")
    result = homes.run("login", "status", env=env)
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert lines[0] == f"Logged in using an API key - {MASKED}"
    assert len(lines) == 2 and "OPENAI_API_KEY" in lines[1] and "sk-env-0***9wxyz" in lines[1]


@pytest.mark.parametrize("where", ["pycodex", "codex"])
def test_status_reports_corrupt_auth_json_in_one_line(homes: Homes, where: str) -> None:
    home = homes.pycodex if where == "pycodex" else homes.codex
    home.mkdir()
    (home / "auth.json").write_text('{"auth_mode": "apikey",')
    result = homes.run("login", "status")
    assert (result.returncode, result.stdout) == (1, "")
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert str(home / "auth.json") in lines[0] and "invalid JSON" in lines[0]


def test_status_with_auth_json_without_a_key(homes: Homes) -> None:
    homes.pycodex.mkdir()
    (homes.pycodex / "auth.json").write_text('{"auth_mode": "chatgpt", "tokens": {}}')
    result = homes.run("login", "status")
    assert result.returncode == 1
    assert result.stderr.startswith("Not logged in")
    assert len(result.stderr.splitlines()) == 1


def test_config_overrides_are_accepted(homes: Homes) -> None:
    login = homes.run("login", "-c", 'model="o3"', "--with-api-key", stdin=KEY)
    assert login.returncode == 0, login.stderr
    status = homes.run("login", "status", "-c", "model=o3", "--config", "a.b=1")
    assert (status.returncode, status.stderr) == (0, f"Logged in using an API key - {MASKED}\n")
    logout = homes.run("logout", "-c", "model=o3")
    assert (logout.returncode, logout.stderr) == (0, "Successfully logged out\n")


def test_malformed_config_override_is_a_usage_error(homes: Homes) -> None:
    result = homes.run("logout", "-c", "no-equals-sign")
    assert result.returncode == 2
    assert "no-equals-sign" in result.stderr and "key=value" in result.stderr
