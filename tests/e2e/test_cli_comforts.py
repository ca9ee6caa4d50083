"""`pycodex features`, `pycodex doctor` and `pycodex completion`: the installed CLI as a real
process with its own PYCODEX_HOME."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
PYCODEX = Path(sys.executable).parent / "pycodex"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"


def env_for(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "pycodex-home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(tmp_path),
        "PYCODEX_HOME": str(home), "CODEX_HOME": str(tmp_path / "codex-home"),
    }


def cli(tmp_path: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PYCODEX), *args], env={**env_for(tmp_path), **(extra_env or {})}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)


# --- features -------------------------------------------------------------------------------


def test_features_list_is_codex_s_listing(tmp_path: Path) -> None:
    reference = REFERENCE / "help" / "features_list.out"
    if not reference.is_file():
        pytest.skip(f"the reference listing is not at {reference}")
    out = cli(tmp_path, "features", "list")
    assert out.returncode == 0, out.stderr
    assert out.stdout == reference.read_text()


def test_features_enable_and_disable_edit_config_in_place(tmp_path: Path) -> None:
    env_for(tmp_path)
    config = tmp_path / "pycodex-home" / "config.toml"
    config.write_text('# my settings\nmodel = "gpt-5.5"  # the usual one\n\n[features]\n# keep this\nmemories = false\n')
    enabled = cli(tmp_path, "features", "enable", "memories")
    assert enabled.returncode == 0 and enabled.stdout == "Enabled feature `memories` in config.toml.\n"
    disabled = cli(tmp_path, "features", "disable", "shell_snapshot")
    assert disabled.stdout == "Disabled feature `shell_snapshot` in config.toml.\n"
    text = config.read_text()
    assert text.startswith('# my settings\nmodel = "gpt-5.5"  # the usual one\n')
    assert "# keep this\nmemories = true\n" in text and "shell_snapshot = false" in text
    listed = {line.split()[0]: line.split()[-1] for line in cli(tmp_path, "features", "list").stdout.splitlines()}
    assert listed["memories"] == "true" and listed["shell_snapshot"] == "false"
    # --disable on the command line wins for this invocation only.
    once = cli(tmp_path, "features", "list", "--disable", "memories").stdout
    assert {line.split()[0]: line.split()[-1] for line in once.splitlines()}["memories"] == "false"


def test_an_unknown_feature_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    out = cli(tmp_path, "features", "enable", "memoris")
    assert out.returncode == 1
    assert out.stderr == "Error: Unknown feature flag: memoris (did you mean `memories`?)\n"
    assert not (tmp_path / "pycodex-home" / "config.toml").exists()  # nothing written


# --- doctor ---------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_provider(tmp_path: Path, base_url: str, extra: str = "") -> None:
    (tmp_path / "pycodex-home" / "config.toml").write_text(
        f'model = "gpt-5.5"\nmodel_provider = "local"\n[model_providers.local]\nname = "local"\n'
        f'base_url = "{base_url}"\nenv_key = "LOCAL_KEY"\n' + extra
    )


def test_doctor_json_reports_every_check(tmp_path: Path) -> None:
    from tests.support.mock_model import MockModelServer

    env_for(tmp_path)
    with MockModelServer() as mock:
        write_provider(tmp_path, mock.url, '[mcp_servers.docs]\nurl = "http://127.0.0.1:9/mcp"\n')
        out = cli(tmp_path, "doctor", "--json", extra_env={"LOCAL_KEY": "k"})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["schemaVersion"] == 1
    checks = report["checks"]
    assert {"runtime", "config.load", "auth.credentials", "provider.reachable", "sandbox.backend",
            "mcp.config", "tools.path"} <= set(checks)
    assert checks["config.load"]["status"] == "ok"
    assert checks["provider.reachable"]["status"] == "ok"
    assert checks["auth.credentials"]["status"] == "ok"
    assert "docs" in checks["mcp.config"]["details"]
    assert report["overallStatus"] in ("ok", "warning")


def test_doctor_reports_a_broken_config_as_a_failed_check(tmp_path: Path) -> None:
    env_for(tmp_path)
    (tmp_path / "pycodex-home" / "config.toml").write_text('model = "unterminated\n')
    out = cli(tmp_path, "doctor", "--json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["overallStatus"] == "fail"
    check = report["checks"]["config.load"]
    assert check["status"] == "fail" and "config.toml" in check["summary"]
    human = cli(tmp_path, "doctor")
    assert human.returncode == 1 and "✗ config.load" in human.stdout and "Traceback" not in human.stderr


def test_doctor_warns_when_the_provider_does_not_answer(tmp_path: Path) -> None:
    env_for(tmp_path)
    write_provider(tmp_path, f"http://127.0.0.1:{closed_port()}/v1")
    out = cli(tmp_path, "doctor", "--json", extra_env={"LOCAL_KEY": "k"})
    assert out.returncode == 0, out.stderr  # a warning, not a failure
    check = json.loads(out.stdout)["checks"]["provider.reachable"]
    assert check["status"] == "warning" and "did not answer" in check["summary"]


# --- completion -----------------------------------------------------------------------------


def test_bash_completion_completes_in_bash(tmp_path: Path) -> None:
    script = cli(tmp_path, "completion", "bash")
    assert script.returncode == 0 and "_pycodex_completion" in script.stdout
    (tmp_path / "pycodex.bash").write_text(script.stdout)
    probe = (
        f"source {tmp_path / 'pycodex.bash'}\n"
        "complete_words() { COMPREPLY=(); COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); "
        "_pycodex_completion pycodex; echo \"${COMPREPLY[*]}\"; }\n"
        "complete_words pycodex fea\n"
        "complete_words pycodex exec --sandbox ''\n"
        "complete_words pycodex features ''\n"
    )
    env = {**env_for(tmp_path), "PATH": f"{PYCODEX.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    done = subprocess.run(["bash", "-c", probe], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    features, sandbox, sub = done.stdout.splitlines()
    assert features == "features"
    assert sandbox.split() == ["read-only", "workspace-write", "danger-full-access"]
    assert sub.split() == ["disable", "enable", "list"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_call_back_into_pycodex(tmp_path: Path, shell: str) -> None:
    script = cli(tmp_path, "completion", shell)
    assert script.returncode == 0 and f"_PYCODEX_COMPLETE={shell}_complete" in script.stdout
    # What the script asks pycodex when completing `pycodex fea<TAB>`:
    answer = cli(tmp_path, extra_env={"_PYCODEX_COMPLETE": f"{shell}_complete",
                                      "COMP_WORDS": "pycodex fea", "COMP_CWORD": "fea" if shell == "fish" else "1"})
    assert answer.returncode == 0, answer.stderr
    assert "features" in answer.stdout
    if shutil.which(shell):
        (tmp_path / f"script.{shell}").write_text(script.stdout)
        syntax = subprocess.run([shell, "-n", str(tmp_path / f"script.{shell}")], capture_output=True, text=True,
                                timeout=30, check=False)
        assert syntax.returncode == 0, syntax.stderr


def test_completion_refuses_an_unknown_shell(tmp_path: Path) -> None:
    out = cli(tmp_path, "completion", "tcsh")
    assert out.returncode == 2 and "'tcsh' is not one of 'bash', 'zsh', 'fish'" in out.stderr
