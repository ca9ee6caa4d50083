"""Telemetry and keyring cost nothing unless configured: a `pycodex exec` run without an
`[otel]` exporter imports neither OpenTelemetry (nor grpc, protobuf) nor pycodex's
telemetry package, and file-stored credentials never load `keyring`. With an exporter
configured the SDK *is* loaded (so the guard is not vacuous). Checked with
`python -X importtime`, as tests/unit/test_startup_imports.py does; no timing is asserted.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.exec_cli import ExecHarness
from tests.support.mock_model import MockModelServer, message, response
from tests.unit.test_startup_imports import imported_modules

pytestmark = pytest.mark.e2e

OPTIONAL = ("opentelemetry", "grpc", "google.protobuf", "keyring", "pycodex.telemetry")


def imports_of_exec(harness: ExecHarness) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pycodex", "exec", "hello"],
        cwd=harness.workspace, env=harness.env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return imported_modules(result.stderr)


def loaded(modules: set[str], prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in modules)


def test_exec_without_an_exporter_imports_no_telemetry_or_keyring(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    harness.write_config(extra='\n[otel]\nenvironment = "dev"\nexporter = "none"\n')
    mock_model.enqueue(response(message("hi")))
    modules = imports_of_exec(harness)
    assert [p for p in OPTIONAL if loaded(modules, p)] == []


def test_exec_with_an_exporter_loads_the_sdk(
    harness: ExecHarness, mock_model: MockModelServer
) -> None:
    harness.write_config(
        extra='\n[otel]\nexporter = { otlp-http = { endpoint = "http://127.0.0.1:9/v1/logs" } }\n'
    )
    mock_model.enqueue(response(message("hi")))
    modules = imports_of_exec(harness)
    assert loaded(modules, "opentelemetry.sdk") and loaded(modules, "pycodex.telemetry")
    assert not loaded(modules, "keyring")
