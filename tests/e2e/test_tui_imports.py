"""The TUI's libraries (prompt_toolkit, rich) load only when the TUI runs: `exec` never
pays for them. Checked through `python -X importtime`; no timing is asserted."""

from __future__ import annotations

import pytest

from tests.e2e.test_exec_lazy_imports import loaded, run_importtime
from tests.support.exec_cli import ExecHarness
from tests.support.mock_model import MockModelServer, message, response

pytestmark = pytest.mark.e2e


def test_exec_does_not_import_the_tui(harness: ExecHarness, mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("Just text.")))
    modules = run_importtime(harness, "[[text]] just answer")
    assert loaded(modules, "prompt_toolkit", "rich", "pycodex.frontends.tui") == []
