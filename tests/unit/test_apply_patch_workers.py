"""Many files' system calls on a few threads (apply_patch/workers.py), and the applier
using them: a 40-file patch stages and cleans up concurrently, yet fails exactly as a
sequential one would — the first failure in patch order reported, nothing changed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pycodex.apply_patch import apply_patch_text
from pycodex.apply_patch.workers import THREADED_MIN, run_each


def test_many_calls_overlap_on_several_threads() -> None:
    # The first two calls wait for each other: only calls running at once get past.
    meet = threading.Barrier(2, timeout=10)
    threads: set[int] = set()

    def call(index: int) -> None:
        threads.add(threading.get_ident())
        if index < 2:
            meet.wait()

    assert run_each(call, list(range(THREADED_MIN * 2))) is None
    assert len(threads) >= 2 and threading.get_ident() not in threads


def test_a_few_calls_stay_on_the_calling_thread() -> None:
    threads: set[int] = set()
    assert run_each(lambda _: threads.add(threading.get_ident()), [1, 2, 3]) is None
    assert threads == {threading.get_ident()}


def test_the_earliest_failure_in_item_order_is_reported() -> None:
    later_failed = threading.Event()

    def call(index: int) -> None:
        if index == 5:
            later_failed.wait(10)  # fails only after item 30 has failed on another thread
            raise OSError(5, "first in order")
        if index == 30:
            later_failed.set()
            raise OSError(30, "first in time")

    failure = run_each(call, list(range(40)))
    assert failure is not None
    assert (failure[0], failure[1].errno) == (5, 5)


def test_a_bug_in_a_call_is_raised_on_the_caller() -> None:
    def call(index: int) -> None:
        if index == 20:
            raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        run_each(call, list(range(40)))


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def _many_updates(root: Path, names: list[str]) -> str:
    lines = ["*** Begin Patch"]
    for name in names:
        (root / name).write_text("old\n")
        lines += [f"*** Update File: {name}", "@@", "-old", "+new"]
    return "\n".join([*lines, "*** End Patch"])


def test_a_many_file_patch_lands_whole_and_leaves_no_kept_copies(tmp_path: Path) -> None:
    names = [f"f{i:02}.txt" for i in range(40)]
    code, out, err = apply_patch_text(_many_updates(tmp_path, names), tmp_path)
    assert (code, err) == (0, "") and out.startswith("Success.")
    assert _tree(tmp_path) == dict.fromkeys(names, "new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == names


def test_a_many_file_patch_failing_to_stage_changes_nothing(tmp_path: Path) -> None:
    # A name near NAME_MAX exists, but its staged sibling's longer name cannot be created
    # (even for root): file 25 of 40 fails while the others are being staged.
    names = [f"f{i:02}.txt" for i in range(40)]
    names[25] = "n" * 240
    patch = _many_updates(tmp_path, names)
    before = _tree(tmp_path)
    code, out, err = apply_patch_text(patch, tmp_path)
    assert (code, out) == (1, "")
    assert err.startswith(f"Failed to write file {tmp_path}/{'n' * 240}")
    assert _tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
