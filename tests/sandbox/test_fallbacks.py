"""Fault injection: prove every fallback and the fail-closed path on one capable kernel.

tests/sandbox/faultinject.py installs a seccomp filter that makes user namespaces,
Landlock or seccomp itself look missing, then runs a Python snippet (or the CLI) under it:
the capability probe, backend preflights and the shim all see the "missing" feature.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pycodex.sandbox import launcher
from pycodex.sandbox.denial import is_likely_sandbox_denied, is_sandbox_setup_failure
from tests.sandbox.helpers import backend_skip_reason, faultinject_argv, policy_for

PYCODEX = Path(sys.executable).parent / "pycodex"

STATUS_SNIPPET = textwrap.dedent("""
    import json, os, subprocess, sys
    from pathlib import Path
    from pycodex.protocol.policies import WorkspaceWritePolicy
    from pycodex.sandbox import launcher
    ws = Path(sys.argv[1])
    policy = WorkspaceWritePolicy(exclude_slash_tmp=True, exclude_tmpdir_env_var=True)
    status = launcher.sandbox_status(policy)
    out = {"backend": status.backend, "degraded": status.degraded, "available": status.available,
           "failures": status.failures, "warnings": status.warnings, "summary": status.summary()}
    try:
        cmd = launcher.prepare_command(["sh", "-c", "echo x > written; echo ran > ran"],
                                       policy=policy, cwd=ws, env=dict(os.environ))
    except launcher.SandboxUnavailable as exc:
        out["unavailable"] = str(exc)
        out["reason"] = exc.reason
    else:
        done = subprocess.run(cmd.argv, env=cmd.env, cwd=ws, capture_output=True, text=True)
        out.update(used=cmd.backend, warnings_cmd=list(cmd.warnings), rc=done.returncode,
                   stderr=done.stderr)
    print(json.dumps(out))
""")


def _status_under(faults: list[str], ws: Path) -> dict[str, object]:
    argv = faultinject_argv(faults, [sys.executable, "-c", STATUS_SNIPPET, str(ws)])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ws)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(autouse=True)
def _linux_x86_or_arm() -> None:
    if os.uname().machine not in ("x86_64", "aarch64"):
        pytest.skip("fault injection filter has tables for x86_64/aarch64 only")
    if backend_skip_reason("landlock") and backend_skip_reason("userns"):
        pytest.skip("this machine has no working sandbox backend to take away")


def test_no_user_namespaces_degrades_to_landlock_read_only(tmp_path: Path) -> None:
    if backend_skip_reason("landlock"):
        pytest.skip(backend_skip_reason("landlock") or "")
    out = _status_under(["no-userns"], tmp_path)
    assert out["backend"] == "landlock"
    assert out["degraded"] is True
    failures = out["failures"]
    assert isinstance(failures, dict) and set(failures) == {"bwrap", "userns"}
    assert "user namespace" in str(failures["userns"]).lower() or "unshare" in str(
        failures["userns"])
    assert out["used"] == "landlock"
    assert out["warnings_cmd"] and "read-only" in str(out["warnings_cmd"])
    assert "⚠" in str(out["summary"])
    # workspace-write degraded to read-only: the write in the cwd failed, nothing ran to disk
    assert not (tmp_path / "written").exists()


@pytest.mark.parametrize("faults", [["no-userns", "no-landlock"], ["no-seccomp"]])
def test_nothing_available_fails_closed(tmp_path: Path, faults: list[str]) -> None:
    out = _status_under(faults, tmp_path)
    assert out["available"] is False
    assert out["backend"] == "unavailable"
    assert set(out["failures"]) == set(launcher.BACKENDS)  # type: ignore[arg-type]
    message = str(out["unavailable"])
    assert message.startswith("sandbox unavailable: ")
    assert "pycodex sandbox doctor" in message
    assert "\n" not in message
    assert not (tmp_path / "ran").exists()


def test_cli_fails_closed_without_running_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    argv = faultinject_argv(["no-userns", "no-landlock"],
                            [str(PYCODEX), "sandbox", "--", "touch", str(marker)])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "PYCODEX_HOME": str(tmp_path / "home")})
    assert done.returncode == 1
    assert "sandbox unavailable" in done.stderr
    assert "Traceback" not in done.stderr
    assert not marker.exists()
    doctor = subprocess.run(
        faultinject_argv(["no-userns", "no-landlock"], [str(PYCODEX), "sandbox", "doctor"]),
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "PYCODEX_HOME": str(tmp_path / "home")})
    assert doctor.returncode == 1
    assert "✖ bwrap" in doctor.stdout and "✖ userns" in doctor.stdout
    assert "✖ landlock" in doctor.stdout
    assert "apt-get install bubblewrap" in doctor.stdout


# A command prepared on a capable machine, then run where a feature vanished: the shim must
# refuse to run it (exit 125, `pycodex-sandbox:` message), never run it unconfined.
SETUP_FAILURES = [
    ("userns", ["no-userns"]),
    ("userns", ["no-seccomp"]),
    ("landlock", ["no-landlock"]),
    ("landlock", ["no-seccomp"]),
    ("bwrap", ["no-seccomp"]),
]


@pytest.mark.parametrize(("backend", "faults"), SETUP_FAILURES)
def test_setup_failure_exits_125_without_running(tmp_path: Path, backend: str,
                                                 faults: list[str]) -> None:
    reason = backend_skip_reason(backend)
    if reason:
        pytest.skip(reason)
    ws = tmp_path / "ws"
    ws.mkdir()
    marker = ws / "ran"
    cmd = launcher.prepare_command(["touch", str(marker)], policy=policy_for("workspace-write"),
                                   cwd=ws, env=dict(os.environ), backend=backend)
    done = subprocess.run(faultinject_argv(faults, cmd.argv), env=cmd.env, cwd=ws,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == launcher.SANDBOX_SETUP_FAILED_EXIT, done.stderr
    assert done.stderr.startswith("pycodex-sandbox: "), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not marker.exists()
    assert is_sandbox_setup_failure(done.returncode, done.stderr)
    assert is_likely_sandbox_denied(done.returncode, done.stderr, sandboxed=True)


def test_bwrap_without_user_namespaces_does_not_run_the_command(tmp_path: Path) -> None:
    reason = backend_skip_reason("bwrap")
    if reason:
        pytest.skip(reason)
    marker = tmp_path / "ran"
    cmd = launcher.prepare_command(["touch", str(marker)], policy=policy_for("read-only"),
                                   cwd=tmp_path, env=dict(os.environ), backend="bwrap")
    done = subprocess.run(faultinject_argv(["no-userns"], cmd.argv), env=cmd.env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "bwrap:" in done.stderr
    assert not marker.exists()
    assert is_likely_sandbox_denied(done.returncode, done.stderr, sandboxed=True)
