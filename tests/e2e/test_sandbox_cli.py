"""`pycodex sandbox` and `pycodex sandbox doctor` through the installed executable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pycodex.sandbox import launcher

PYCODEX = Path(sys.executable).parent / "pycodex"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYCODEX_", "CODEX_"))}
    env["PYCODEX_HOME"] = str(home)
    env["CODEX_HOME"] = str(home / "codex")
    return env


def _run(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PYCODEX), "sandbox", *args], cwd=cwd, env=_env(home),
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path, Path]:
    ws, home, outside = tmp_path / "ws", tmp_path / "home", tmp_path / "outside"
    for d in (ws / ".git", home, outside):
        d.mkdir(parents=True)
    return ws, home, outside


@pytest.fixture(autouse=True)
def _needs_a_backend() -> None:
    if all(launcher.preflight(b) is not None for b in launcher.BACKENDS):
        pytest.skip("no sandbox backend works on this machine")


NO_TMP = ["-c", "sandbox_workspace_write.exclude_slash_tmp=true",
          "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true"]


def test_default_read_only_policy_blocks_writes(world: tuple[Path, Path, Path]) -> None:
    ws, home, _ = world
    done = _run(["--", "sh", "-c", "echo hi > here.txt"], ws, home)
    assert done.returncode != 0
    assert "Read-only file system" in done.stderr or "Permission denied" in done.stderr
    assert not (ws / "here.txt").exists()


def test_workspace_write_passes_exit_code_and_protects_git(
        world: tuple[Path, Path, Path]) -> None:
    ws, home, outside = world
    script = (f"echo ok > here.txt; echo x > .git/x || echo GIT_DENIED; "
              f"echo x > {outside}/x || echo OUT_DENIED; "
              f"echo $CODEX_SANDBOX_NETWORK_DISABLED $PYCODEX_SANDBOX; exit 7")
    done = _run(["-s", "workspace-write", *NO_TMP, "--", "sh", "-c", script], ws, home)
    assert done.returncode == 7, done.stderr
    assert (ws / "here.txt").read_text() == "ok\n"
    assert "GIT_DENIED" in done.stdout and "OUT_DENIED" in done.stdout
    backend = done.stdout.split()[-1]
    assert backend in launcher.BACKENDS
    assert done.stdout.split()[-2] == "1"
    assert not (ws / ".git" / "x").exists() and not (outside / "x").exists()
    if backend == "landlock":  # degraded: the warning is visible
        assert "degraded" in done.stderr


def test_cd_flag_and_add_dir(world: tuple[Path, Path, Path]) -> None:
    ws, home, outside = world
    done = _run(["-s", "workspace-write", *NO_TMP, "-C", str(ws), "--add-dir", str(outside),
                 "--", "sh", "-c", "pwd; echo y > " + str(outside / "y")], home, home)
    if "degraded" in done.stderr:
        pytest.skip("landlock-only backend runs workspace-write read-only")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(ws)
    assert (outside / "y").read_text() == "y\n"


def test_danger_full_access_runs_unwrapped(world: tuple[Path, Path, Path]) -> None:
    ws, home, outside = world
    done = _run(["-s", "danger-full-access", "--", "sh", "-c",
                 f"echo z > {outside}/z; echo ${{PYCODEX_SANDBOX:-none}}"], ws, home)
    assert done.returncode == 0
    assert done.stdout.strip() == "none"
    assert (outside / "z").exists()


def test_missing_and_unknown_commands(world: tuple[Path, Path, Path]) -> None:
    ws, home, _ = world
    missing = _run([], ws, home)
    assert missing.returncode == 2
    assert "no command given" in missing.stderr
    assert "Traceback" not in missing.stderr
    unknown = _run(["--", "definitely-not-a-command-xyz"], ws, home)
    assert unknown.returncode == 127
    assert "command not found" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_bad_config_value_is_a_clear_error(world: tuple[Path, Path, Path]) -> None:
    ws, home, _ = world
    done = _run(["-c", "sandbox_mode=bogus", "--", "true"], ws, home)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "sandbox_mode" in done.stderr


def test_doctor_reports_backends(world: tuple[Path, Path, Path]) -> None:
    ws, home, _ = world
    done = _run(["doctor"], ws, home)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for label in ("landlock:", "seccomp:", "user namespaces:", "bubblewrap:", "backends"):
        assert label in out
    for backend in launcher.BACKENDS:
        assert f" {backend} " in out
    assert "(in use)" in out
    assert out.strip().splitlines()[-1].startswith(("sandbox:", "⚠"))
    dashdash = _run(["--", "doctor"], ws, home)  # `-- doctor` runs a program named doctor
    assert dashdash.returncode == 127
