"""When apply_patch's writes reach stable storage, for as few syncs as that takes.

The applier writes every new file body to a temporary file beside its destination and
renames it into place. That leaves no half-written file after a crash only if each
temporary file's data is on disk before its rename can be: file systems may persist a
rename before the data it points to (ext4 without `auto_da_alloc`, XFS, btrfs in some
modes), and the file then comes back empty or torn. So there are two barriers:

1. before the first rename: the data of every staged file;
2. after the last rename or unlink: the directory entries, so that a reported success
   survives a power cut (Codex writes in place and never syncs, so it promises neither).

`fsync` on each file meets barrier 1, but every call commits the journal and flushes the
device cache on its own: ~0.5 ms a file here, 658 ms of a 1,000-file patch. `syncfs(2)`
on a file system writes all its dirty data and metadata, commits the journal once and
flushes the cache once, and returns when that is done (Linux >= 2.6.39), which meets
barrier 1 for any number of files at the price of one. A second `syncfs` after the
renames meets barrier 2. Its cost is the one trade-off: it also flushes whatever other
programs left dirty on that file system. For a handful of files a few `fsync`s (each temp
file, then each directory whose entries changed) never pay for strangers' data, so below
`FSYNC_EACH_MAX` files that is what we do, and where `syncfs` does not exist (macOS and
other non-Linux systems).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: see record.py on what imports cost here
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

# Up to this many written or deleted files, fsync each one (and each touched directory);
# beyond it one syncfs per file system is cheaper than a journal commit per file.
FSYNC_EACH_MAX = 8


class SyncError(OSError):
    """A barrier failed; `directory` is where (a path on the failing file system)."""

    def __init__(self, directory: str, err: OSError) -> None:
        super().__init__(err.errno, err.strerror)
        self.directory = directory


def load_syncfs() -> Callable[[int], None] | None:
    """libc's `syncfs(fd)` as a function raising OSError, or None where there is none."""
    if not _loaded:
        _loaded.append(_find_syncfs())
    return _loaded[0]


_loaded: list[Callable[[int], None] | None] = []  # load_syncfs's answer, once known


def _find_syncfs() -> Callable[[int], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # ~5 ms: only patches that write many files get here

    try:
        native = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    native.argtypes = [ctypes.c_int]
    native.restype = ctypes.c_int

    def syncfs(fd: int) -> None:
        if native(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno))

    return syncfs


class SyncPlan:
    """How one patch's writes are made durable: per file, or per file system."""

    def __init__(self, file_count: int) -> None:
        self.syncfs = load_syncfs() if file_count > FSYNC_EACH_MAX else None

    @property
    def per_file(self) -> bool:
        """True when each staged file must be fsynced as it is written."""
        return self.syncfs is None

    def barrier(self, directories: Iterable[str]) -> None:
        """Barrier 1: the staged files in `directories` are on disk (raises SyncError)."""
        if self.syncfs is not None:
            self._syncfs_each_fs(directories)
        # Per file: every staged file was fsynced when written; nothing left to do.

    def settle(self, directories: Iterable[str]) -> None:
        """Barrier 2: the entries renamed, created or removed in `directories` are on disk."""
        if self.syncfs is not None:
            self._syncfs_each_fs(directories)
            return
        for directory in dict.fromkeys(directories):
            _sync_path(directory, os.fsync)

    def _syncfs_each_fs(self, directories: Iterable[str]) -> None:
        assert self.syncfs is not None
        by_device: dict[int, str] = {}
        for directory in dict.fromkeys(directories):
            try:
                by_device.setdefault(os.stat(directory).st_dev, directory)
            except OSError as err:
                raise SyncError(directory, err) from err
        for directory in by_device.values():
            _sync_path(directory, self.syncfs)


def _sync_path(directory: str, sync: Callable[[int], None]) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            sync(fd)
        finally:
            os.close(fd)
    except OSError as err:
        raise SyncError(directory, err) from err
