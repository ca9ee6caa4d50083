"""Config lockfiles with the installed `pycodex exec`: a root thread exports its effective
config; replaying the lockfile passes when nothing changed and fails before any model
request, with a per-key diff and exit 1, when a key, a default or the version changed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pycodex import __version__
from tests.support.exec_cli import ExecHarness, Result
from tests.support.mock_model import message, response

pytestmark = pytest.mark.e2e


def export(harness: ExecHarness, locks: Path) -> Path:
    harness.mock.enqueue(response(message("hi")))
    result = harness.run("--json", "-c", f'debug.config_lockfile.export_dir="{locks}"', "hello")
    assert result.rc == 0, result.stderr
    thread_id = result.of_type("thread.started")[0]["thread_id"]
    path = locks / f"{thread_id}.config.lock.toml"
    assert path.is_file()
    return path


def replay(harness: ExecHarness, lock: Path, *extra: str) -> Result:
    return harness.run("-c", f'debug.config_lockfile.load_path="{lock}"', *extra, "hello")


def edit(lock: Path, old: str, new: str) -> None:
    text = lock.read_text()
    assert old in text
    lock.write_text(text.replace(old, new, 1))


def test_export_writes_the_effective_config(harness: ExecHarness, tmp_path: Path) -> None:
    lock = export(harness, tmp_path / "locks")
    data = tomllib.loads(lock.read_text())
    assert (data["version"], data["pycodex_version"]) == (1, __version__)
    config = data["config"]
    assert (config["model"], config["model_provider"]) == ("gpt-5.5", "mock")
    assert config["approval_policy"] and config["sandbox_mode"]  # defaults materialised
    assert isinstance(config["features"], dict) and config["features"]
    assert isinstance(config["model_context_window"], int)  # from the model catalog
    assert "debug" not in config and "profile" not in config


def test_replay_without_drift_runs(harness: ExecHarness, tmp_path: Path) -> None:
    lock = export(harness, tmp_path / "locks")
    harness.mock.enqueue(response(message("again")))
    result = replay(harness, lock)
    assert result.rc == 0, result.stderr
    assert len(harness.mock.requests) == 2


def test_a_changed_key_fails_with_the_diff(harness: ExecHarness, tmp_path: Path) -> None:
    lock = export(harness, tmp_path / "locks")
    result = replay(harness, lock, "-c", 'model_reasoning_effort="high"')
    assert result.rc == 1
    assert f"config drifted from lockfile {lock}" in result.stderr
    assert '+ model_reasoning_effort = "high"' in result.stderr
    assert len(harness.mock.requests) == 1  # the replay made no model request


def test_a_changed_model_default_fails_with_the_diff(harness: ExecHarness, tmp_path: Path) -> None:
    # The lockfile was written when the default model was another one: the config that
    # names no model now resolves to a different one.
    config = harness.home / "config.toml"
    config.write_text(config.read_text().replace('model = "gpt-5.5"\n', ""))
    lock = export(harness, tmp_path / "locks")
    edit(lock, 'model = "gpt-5.5"', 'model = "gpt-5"')
    result = replay(harness, lock)
    assert result.rc == 1
    assert '- model = "gpt-5"' in result.stderr and '+ model = "gpt-5.5"' in result.stderr


def test_a_changed_version_fails_unless_allowed(harness: ExecHarness, tmp_path: Path) -> None:
    lock = export(harness, tmp_path / "locks")
    edit(lock, f'pycodex_version = "{__version__}"', 'pycodex_version = "0.0.1"')
    result = replay(harness, lock)
    assert result.rc == 1
    assert '- pycodex_version = "0.0.1"' in result.stderr

    allow = ("-c", "debug.config_lockfile.allow_codex_version_mismatch=true")
    harness.mock.enqueue(response(message("allowed")))
    assert replay(harness, lock, *allow).rc == 0

    # Only the version line is tolerated.
    drifted = replay(harness, lock, *allow, "-c", 'model_reasoning_summary="detailed"')
    assert drifted.rc == 1
    assert "pycodex_version" not in drifted.stderr
    assert '+ model_reasoning_summary = "detailed"' in drifted.stderr
