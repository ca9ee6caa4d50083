"""When apply_patch syncs: all data on disk before the first rename, all names after the
last; one syncfs per file system for many files instead of one fsync per file.

The patch is really applied (each test also checks the resulting tree); only the syncs
are recorded instead of done (fd -> path through /proc), so that the tests neither wait
on a busy disk nor depend on its speed.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pycodex.apply_patch import apply_patch_text, durable
from pycodex.apply_patch.durable import FSYNC_EACH_MAX

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/self/fd to name synced files"
)

Event = tuple[str, str]


def _fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Event]]:
    """Every fsync, syncfs, rename and unlink, in order, with the path concerned."""
    log: list[Event] = []
    real_replace, real_unlink = os.replace, os.unlink

    def fsync(fd: int) -> None:
        log.append(("fsync", _fd_path(fd)))

    def replace(src: str, dst: str) -> None:
        log.append(("replace", str(dst)))
        real_replace(src, dst)

    def unlink(path: str) -> None:
        # Cleanup of temp files and of the kept copies of replaced files is not an event.
        if ".apply_patch.tmp" not in str(path) and ".apply_patch.keep" not in str(path):
            log.append(("unlink", str(path)))
        real_unlink(path)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "unlink", unlink)
    monkeypatch.setattr(durable, "load_syncfs", lambda: _recording_syncfs(log))
    yield log


def _recording_syncfs(log: list[Event]) -> Callable[[int], None]:
    def syncfs(fd: int) -> None:
        log.append(("syncfs", _fd_path(fd)))

    return syncfs


def _tree(root: Path, count: int, dirs: int) -> str:
    lines = ["*** Begin Patch"]
    for i in range(count):
        path = root / f"d{i % dirs}" / f"f{i}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"keep {i}\nold {i}\n")
        lines += [f"*** Update File: d{i % dirs}/f{i}.txt", "@@", f" keep {i}", f"-old {i}"]
        lines.append(f"+new {i}")
    return "\n".join([*lines, "*** End Patch"])


def _kinds(log: list[Event]) -> list[str]:
    return [kind for kind, _ in log]


def test_many_files_one_syncfs_before_renames_and_one_after(
    tmp_path: Path, events: list[Event]
) -> None:
    count = FSYNC_EACH_MAX + 4
    patch = _tree(tmp_path, count, dirs=3)
    assert apply_patch_text(patch, tmp_path)[0] == 0
    # No per-file fsync at all: one barrier for the data, renames, one for the names.
    assert _kinds(events) == ["syncfs"] + ["replace"] * count + ["syncfs"]
    assert all((tmp_path / f"d{i % 3}/f{i}.txt").read_text() == f"keep {i}\nnew {i}\n" for i in range(count))


def test_few_files_fsync_each_file_then_each_directory(tmp_path: Path, events: list[Event]) -> None:
    patch = _tree(tmp_path, 2, dirs=2)
    assert apply_patch_text(patch, tmp_path)[0] == 0
    kinds = _kinds(events)
    # Both files' data is on disk before the first rename; each directory synced once after.
    assert kinds == ["fsync", "fsync", "replace", "replace", "fsync", "fsync"]
    assert [Path(p).name.endswith(".apply_patch.tmp") for _, p in events[:2]] == [True, True]
    assert {p for _, p in events[4:]} == {str(tmp_path / "d0"), str(tmp_path / "d1")}


def test_without_syncfs_many_files_fall_back_to_fsync_each(
    tmp_path: Path, events: list[Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(durable, "load_syncfs", lambda: None)  # e.g. macOS
    count = FSYNC_EACH_MAX + 1
    patch = _tree(tmp_path, count, dirs=1)
    assert apply_patch_text(patch, tmp_path)[0] == 0
    assert _kinds(events) == ["fsync"] * count + ["replace"] * count + ["fsync"]


def test_new_directories_are_synced_where_their_entries_live(
    tmp_path: Path, events: list[Event]
) -> None:
    patch = "*** Begin Patch\n*** Add File: a/b/new.txt\n+x\n*** End Patch"
    assert apply_patch_text(patch, tmp_path)[0] == 0
    synced_after = [p for kind, p in events[2:] if kind == "fsync"]
    assert sorted(synced_after) == sorted(str(tmp_path / d) for d in ("a/b", "a", ""))
    assert (tmp_path / "a/b/new.txt").read_text() == "x\n"


def test_file_staged_after_a_delete_is_fsynced_before_its_rename(
    tmp_path: Path, events: list[Event]
) -> None:
    # `d` must be deleted before `d/x.txt` can exist, so that file is written after the
    # barrier and needs its own fsync even when everything else shares one syncfs.
    patch = _tree(tmp_path, FSYNC_EACH_MAX + 1, dirs=1)
    (tmp_path / "d").write_text("a file in the way\n")
    patch = patch.replace(
        "*** End Patch", "*** Delete File: d\n*** Add File: d/x.txt\n+x\n*** End Patch"
    )
    assert apply_patch_text(patch, tmp_path)[0] == 0
    tail = events[-4:]
    assert tail[0] == ("unlink", str(tmp_path / "d"))
    assert tail[1][0] == "fsync" and tail[1][1].startswith(str(tmp_path / "d" / ".x.txt."))
    assert tail[2:] == [("replace", str(tmp_path / "d" / "x.txt")), tail[3]]
    assert tail[3][0] == "syncfs"
    assert (tmp_path / "d" / "x.txt").read_text() == "x\n"


def test_failed_barrier_changes_nothing(
    tmp_path: Path, events: list[Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(durable, "load_syncfs", lambda: failing)
    patch = _tree(tmp_path, FSYNC_EACH_MAX + 1, dirs=2)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    patch = patch.replace("*** End Patch", "*** Add File: new/deep/n.txt\n+n\n*** End Patch")
    code, out, err = apply_patch_text(patch, tmp_path)
    assert (code, out, err) == (1, "", f"Failed to write file {tmp_path}/d0/f0.txt\n")
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # no temp file left, nothing renamed
    assert not (tmp_path / "new").exists()  # directories made for staging are gone
    assert "replace" not in _kinds(events)


def test_real_syncfs_is_found_on_linux(tmp_path: Path) -> None:
    syncfs = durable.load_syncfs()
    assert syncfs is not None
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        syncfs(fd)
    finally:
        os.close(fd)
    with pytest.raises(OSError) as info:
        syncfs(-1)
    assert info.value.errno == errno.EBADF
