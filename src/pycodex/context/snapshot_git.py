"""Ghost commits: a snapshot of a git working tree that the user never sees.

`take` copies the repository's index to a temporary file (so git's stat cache makes it
fast) and points ``GIT_INDEX_FILE`` at the copy: ``git add -u`` and an explicit list of
untracked, not-ignored files (each under :data:`~.snapshot.MAX_FILE_BYTES`) update the copy
only, ``write-tree`` and ``commit-tree`` make a commit whose parent is HEAD, and
``update-ref refs/pycodex/snapshots/<label>`` keeps it from garbage collection. The
user's index, HEAD, branches and stash are left exactly as they were.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .snapshot import MAX_FILE_BYTES, MODE_SYMLINK, Entry, SnapshotError, read_link_or_file

REF_PREFIX = "refs/pycodex/snapshots/"
GIT_TIMEOUT_S = 120.0
_IDENTITY = {
    "GIT_AUTHOR_NAME": "pycodex", "GIT_AUTHOR_EMAIL": "snapshot@pycodex.invalid",
    "GIT_COMMITTER_NAME": "pycodex", "GIT_COMMITTER_EMAIL": "snapshot@pycodex.invalid",
}


class GitSnapshotter:
    kind = "git"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _env(self, env: dict[str, str] | None) -> dict[str, str]:
        return {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", **_IDENTITY, **(env or {})}

    def _start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(
                ["git", *args], cwd=self.root, env=self._env(env), stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise SnapshotError(f"git {args[0]}: {exc}") from exc

    def _finish(
        self, proc: subprocess.Popen[bytes], args: tuple[str, ...], stdin: bytes | None = None,
        ok: tuple[int, ...] = (0,),
    ) -> bytes:
        try:
            out, err = proc.communicate(stdin, timeout=GIT_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.communicate()
            raise SnapshotError(f"git {args[0]}: {exc}") from exc
        if proc.returncode not in ok:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            raise SnapshotError(f"git {' '.join(args[:2])}: {lines[-1] if lines else 'failed'}")
        return out

    def _git(self, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> bytes:
        return self._finish(self._start(*args, env=env), args, stdin)

    def take(self, label: str) -> str:
        # Every git process costs a few milliseconds, twice per turn that runs tools: the
        # index path and HEAD come from one `rev-parse`, and the untracked files are listed
        # while `add -u` updates the copied index (they read different indexes).
        real, head = self._index_and_head()
        with tempfile.TemporaryDirectory(prefix="pycodex-snapshot-") as tmp:
            index = Path(tmp) / "index"
            if real.is_file():
                shutil.copyfile(real, index)
            env = {"GIT_INDEX_FILE": str(index)}
            add_args = ("add", "-u", "--", ".")
            list_args = ("ls-files", "--others", "--exclude-standard", "-z")
            adding = self._start(*add_args, env=env)
            try:
                listing = self._start(*list_args)
            except SnapshotError:
                adding.kill()
                adding.communicate()
                raise
            self._finish(adding, add_args)
            untracked = self._small_untracked(self._finish(listing, list_args))
            if untracked:
                self._git("add", "--pathspec-from-file=-", "--pathspec-file-nul", env=env,
                          stdin=b"\0".join(p.encode() for p in untracked))
            tree = self._git("write-tree", env=env).decode().strip()
        parents = ["-p", head] if head else []
        commit = self._git("commit-tree", tree, *parents, "-m", f"pycodex snapshot {label}").decode().strip()
        self._git("update-ref", REF_PREFIX + label, commit)
        return commit

    def _index_and_head(self) -> tuple[Path, str | None]:
        """The index file's path, and HEAD's commit (None in a repository without one)."""
        args = ("rev-parse", "--git-path", "index", "--verify", "-q", "HEAD^{commit}")
        lines = self._finish(self._start(*args), args, ok=(0, 1)).decode().splitlines()
        if not lines:
            raise SnapshotError("git rev-parse: no index path")
        return self.root / lines[0], (lines[1] if len(lines) > 1 else None)

    def _small_untracked(self, listed_raw: bytes) -> list[str]:
        listed = listed_raw.decode("utf-8", "surrogateescape")
        keep: list[str] = []
        for path in filter(None, listed.split("\0")):
            try:
                if (self.root / path).lstat().st_size <= MAX_FILE_BYTES:
                    keep.append(path)
            except OSError:
                continue  # gone since it was listed
        return keep

    def entries(self, snapshot: str) -> dict[str, Entry]:
        listed = self._git("ls-tree", "-r", "-z", "--full-tree", snapshot).decode("utf-8", "surrogateescape")
        out: dict[str, Entry] = {}
        for record in filter(None, listed.split("\0")):
            meta, path = record.split("\t", 1)
            mode, kind, sha = meta.split()
            if kind == "blob":  # submodules ("commit") are not ours to restore
                out[path] = Entry(sha, int(mode, 8))
        return out

    def read(self, snapshot: str, path: str, entry: Entry) -> bytes:
        return self._git("cat-file", "blob", entry.digest)

    def digest_file(self, path: Path) -> str | None:
        data = read_link_or_file(path)
        if data is None:
            return None
        return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


__all__ = ["MODE_SYMLINK", "REF_PREFIX", "GitSnapshotter"]
