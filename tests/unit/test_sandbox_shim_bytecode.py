"""The shim's cached bytecode (`launcher._shim_bytecode`): an interpreter that runs the shim
(inside bwrap, `pycodex sandbox`) loads it instead of compiling _shim.py every time."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pycodex.process import zygote
from pycodex.protocol.policies import ReadOnlyPolicy
from pycodex.sandbox import capabilities, launcher

PYTHON = os.path.realpath(sys.executable)


@pytest.fixture
def shim_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The launcher pointed at a copy of the shim in a directory of the test's own."""
    copy = tmp_path / "sandbox" / "_shim.py"
    copy.parent.mkdir()
    shutil.copyfile(capabilities.SHIM_PATH, copy)
    monkeypatch.setattr(capabilities, "SHIM_PATH", copy)
    launcher._shim_bytes.cache_clear()
    launcher._shim_bytecode.cache_clear()
    yield copy
    launcher._shim_bytes.cache_clear()
    launcher._shim_bytecode.cache_clear()


def _runs_the_shim(path: Path) -> None:
    done = subprocess.run([PYTHON, "-I", "-S", str(path), "--net", "off"], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 125
    assert done.stderr == "pycodex-sandbox: no command (missing `--`)\n"


def test_bytecode_is_written_beside_the_shim_and_runs(shim_copy: Path) -> None:
    path = launcher._shim_bytecode()
    assert path == launcher.bytecode_path(shim_copy.read_bytes())
    assert path.parent == shim_copy.parent / "__pycache__"
    header = path.read_bytes()[:16]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert header[8:] == importlib.util.source_hash(shim_copy.read_bytes())
    _runs_the_shim(path)


def test_a_cached_file_from_other_source_is_replaced(shim_copy: Path) -> None:
    path = launcher.bytecode_path(shim_copy.read_bytes())
    path.parent.mkdir()
    path.write_bytes(b"not the shim")
    assert launcher._shim_bytecode() == path
    _runs_the_shim(path)


def test_without_a_writable_cache_the_source_runs(shim_copy: Path) -> None:
    (shim_copy.parent / "__pycache__").write_text("a file where the cache directory goes")
    assert launcher._shim_bytecode() is None
    cmd = launcher.prepare_command(["true"], policy=ReadOnlyPolicy(), cwd=Path("/"),
                                   env={}, backend=_any_backend())
    assert str(shim_copy) in cmd.argv


def test_the_zygote_recognises_the_launchers_invocation() -> None:
    cmd = launcher.prepare_command(["true"], policy=ReadOnlyPolicy(), cwd=Path("/"), env={},
                                   backend=_any_backend())
    assert cmd.argv[3].endswith(".pyc")  # the real package directory is writable here
    assert zygote._shim_args(cmd.argv) == cmd.argv[4:]


def _any_backend() -> str:
    for backend in ("userns", "landlock"):
        if launcher.preflight(backend) is None:
            return backend
    pytest.skip("no shim-based sandbox backend works here")
