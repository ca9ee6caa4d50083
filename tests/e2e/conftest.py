"""Fixtures for end-to-end tests of the installed CLI (see tests/support/exec_cli.py).

* `harness` — an isolated world: git workspace with a committed `existing.txt`, a
  `PYCODEX_HOME` whose config.toml selects the mock provider (retries 0; raise them per
  test with `-c model_providers.mock.request_max_retries=N`), a scrubbed environment.
* `run_exec(*args, stdin=None, timeout=...)` — `harness.run`: runs `pycodex exec ARGS` in
  the workspace and returns `Result(rc, stdout, stderr, events)`, `--json` lines
  schema-validated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.exec_cli import ExecHarness, Result
from tests.support.mock_model import MockModelServer
from tests.support.otlp_receiver import EXPORTERS, OtlpReceiver


@pytest.fixture
def harness(tmp_path: Path, mock_model: MockModelServer) -> Iterator[ExecHarness]:
    h = ExecHarness(tmp_path, mock_model)
    try:
        yield h
    finally:
        h.close()


@pytest.fixture
def workspace(harness: ExecHarness) -> Path:
    return harness.workspace


@pytest.fixture
def pycodex_home(harness: ExecHarness) -> Path:
    return harness.home


@pytest.fixture
def exec_env(harness: ExecHarness) -> dict[str, str]:
    return harness.env


@pytest.fixture
def run_exec(harness: ExecHarness) -> Callable[..., Result]:
    return harness.run


@pytest.fixture(params=sorted(EXPORTERS))
def exporter(request: pytest.FixtureRequest) -> str:
    """Each OTLP exporter kind of `[otel]` in turn (the telemetry tests)."""
    return str(request.param)


@pytest.fixture
def receiver(exporter: str) -> Iterator[OtlpReceiver]:
    """A local OTLP receiver speaking `exporter`'s transport."""
    with OtlpReceiver(EXPORTERS[exporter][0]) as rx:
        yield rx
