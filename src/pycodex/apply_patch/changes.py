"""Verify a parsed patch against the file system and compute every new file in memory.

Nothing here writes. Hunks are evaluated in order against a virtual view of the tree
(disk plus the effect of earlier hunks), so a patch that adds then updates a file, or
deletes then re-adds one, behaves exactly as Codex's one-hunk-at-a-time application —
and the first error reported is the one Codex would report.
"""

from __future__ import annotations

import os
import stat

from pycodex.apply_patch.exact import update_exactly
from pycodex.apply_patch.parser import AddFile, DeleteFile, Patch, UpdateChunk, UpdateFile
from pycodex.apply_patch.seek import LineMatcher
from pycodex.apply_patch.text import Replacement, SourceText, git_lines

# Not typing.TYPE_CHECKING: the `apply_patch` program never imports typing or pathlib.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Final, Literal

    ChangeKind = Literal["add", "delete", "update"]


class PatchVerificationError(Exception):
    """The patch does not fit the files. `str()` is the message Codex prints."""


class FileChange:
    """One hunk's effect, fully computed. Paths are absolute; `display_*` are as written.

    Paths are kept as strings and given out as `Path`s on demand: the CLI never needs
    one, and importing pathlib would cost it more than applying a small patch.
    """

    __slots__ = (
        "_diff",
        "abs_move_path",
        "abs_path",
        "display_move_path",
        "display_path",
        "kind",
        "mode",
        "new_content",
        "old_content",
    )

    def __init__(
        self,
        kind: ChangeKind,
        path: str,
        display_path: str,
        old_content: str | None,
        new_content: str | None,
        move_path: str | None = None,
        display_move_path: str | None = None,
        mode: int | None = None,
    ) -> None:
        self.kind: Final = kind
        self.abs_path: Final = path
        self.display_path: Final = display_path
        self.old_content: Final = old_content
        self.new_content: Final = new_content
        self.abs_move_path: Final = move_path
        self.display_move_path: Final = display_move_path
        # Permission bits to give the written file (None: a new file, default mode).
        self.mode: Final = mode
        self._diff: str | None = None

    def __repr__(self) -> str:
        return f"FileChange({self.kind!r}, {self.abs_path!r} -> {self.abs_target!r})"

    @property
    def path(self) -> Path:
        from pathlib import Path

        return Path(self.abs_path)

    @property
    def move_path(self) -> Path | None:
        from pathlib import Path

        return Path(self.abs_move_path) if self.abs_move_path is not None else None

    @property
    def abs_target(self) -> str:
        """Where the file lives afterwards (the move destination for a rename)."""
        return self.abs_move_path if self.abs_move_path is not None else self.abs_path

    @property
    def target_path(self) -> Path:
        from pathlib import Path

        return Path(self.abs_target)

    @property
    def display_target(self) -> str:
        return self.display_move_path if self.display_move_path is not None else self.display_path

    @property
    def unified_diff(self) -> str:
        """Hunks of a unified diff (1 line of context, no file header), computed on demand."""
        if self._diff is None:
            self._diff = unified_diff(self.old_content or "", self.new_content or "")
        return self._diff


def unified_diff(old: str, new: str, context: int = 1) -> str:
    """The hunks of a unified diff from `old` to `new`, git-style, without file header."""
    import difflib  # only the agent's diff display needs it; keep CLI startup lean

    a = git_lines(old)
    b = git_lines(new)
    out: list[str] = []
    for i, line in enumerate(difflib.unified_diff(a, b, n=context, lineterm="")):
        if i < 2:  # the ---/+++ file header
            continue
        if line.startswith("@@"):
            out.append(line + "\n")
        elif line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def resolve(cwd: str | os.PathLike[str], path: str) -> str:
    """Absolute, lexically normalised path (Codex's AbsolutePathBuf does the same)."""
    return os.path.normpath(os.path.join(os.path.abspath(cwd), path))


def os_error_text(err: OSError) -> str:
    """An OSError the way Rust's io::Error prints it."""
    if err.errno is None:
        return str(err)
    return f"{err.strerror} (os error {err.errno})"


def utf8_error_text(err: UnicodeDecodeError) -> str:
    """A UTF-8 decoding error the way Rust's `Utf8Error` prints it. Both decoders report
    the same maximal invalid subsequence (the Unicode recommendation), so the length
    Python gives is the one Rust gives; only a sequence cut short by the end of the
    data has no length in Rust."""
    if err.reason == "unexpected end of data":
        return f"incomplete utf-8 byte sequence from index {err.start}"
    return f"invalid utf-8 sequence of {err.end - err.start} bytes from index {err.start}"


class _Entry:
    __slots__ = ("content", "mode")

    def __init__(self, content: str, mode: int | None) -> None:
        self.content = content
        self.mode = mode


class _Tree:
    """Disk seen through the hunks applied so far (abs path -> entry, None = deleted)."""

    def __init__(self) -> None:
        self.overlay: dict[str, _Entry | None] = {}

    def read_for_update(self, path: str) -> _Entry:
        if path in self.overlay:
            entry = self.overlay[path]
            if entry is None:
                raise PatchVerificationError(
                    f"Failed to read file to update {path}: No such file or directory (os error 2)"
                )
            return entry
        try:
            with open(path, "rb") as f:
                mode = stat.S_IMODE(os.fstat(f.fileno()).st_mode)
                data = f.read()
        except OSError as err:
            raise PatchVerificationError(
                f"Failed to read file to update {path}: {os_error_text(err)}"
            ) from err
        try:
            return _Entry(data.decode("utf-8"), mode)
        except UnicodeDecodeError as err:
            raise PatchVerificationError(
                f"Failed to read file to update {path}: {utf8_error_text(err)}"
            ) from err

    def take_for_delete(self, path: str) -> str:
        if path in self.overlay:
            entry = self.overlay[path]
            if entry is None:
                raise PatchVerificationError(f"Failed to delete file {path}")
            return entry.content
        try:
            st = os.lstat(path)
        except OSError as err:
            raise PatchVerificationError(f"Failed to delete file {path}") from err
        if stat.S_ISDIR(st.st_mode):  # unlink(2) refuses directories
            raise PatchVerificationError(f"Failed to delete file {path}")
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""  # unreadable but still deletable; the content is only informative

    def existing(self, path: str) -> _Entry | None:
        """The current file at `path`, if any, without failing (for add/move targets)."""
        if path in self.overlay:
            return self.overlay[path]
        try:
            return self.read_for_update(path)
        except PatchVerificationError:
            return None

    def check_writable(self, path: str) -> None:
        """Fail now, as Codex would fail later, when `path` cannot become a file.

        A file where a directory must go fails Codex's write itself (ENOTDIR: "Failed to
        write file"); only a dangling symlink there gets as far as creating the
        directories ("Failed to create parent directories")."""
        parent = os.path.dirname(path)
        while parent and parent != os.path.dirname(parent):
            if parent in self.overlay:
                if self.overlay[parent] is not None:
                    raise PatchVerificationError(f"Failed to write file {path}")
                break  # deleted earlier in this patch: the directory can be created
            if os.path.isdir(parent):
                break
            if os.path.islink(parent):
                raise PatchVerificationError(f"Failed to create parent directories for {path}")
            if os.path.lexists(parent):
                raise PatchVerificationError(f"Failed to write file {path}")
            parent = os.path.dirname(parent)
        if path not in self.overlay and os.path.isdir(path):
            raise PatchVerificationError(f"Failed to write file {path}")


def compute_changes(patch: Patch, cwd: str | os.PathLike[str]) -> list[FileChange]:
    """One FileChange per hunk, in patch order; raises PatchVerificationError."""
    if not patch.hunks:
        raise PatchVerificationError("No files were modified.")
    tree = _Tree()
    changes: list[FileChange] = []
    for hunk in patch.hunks:
        path = resolve(cwd, hunk.path)
        if isinstance(hunk, AddFile):
            tree.check_writable(path)
            before = tree.existing(path)
            tree.overlay[path] = _Entry(hunk.contents, before.mode if before else None)
            changes.append(
                FileChange(
                    "add",
                    path,
                    hunk.path,
                    before.content if before else None,
                    hunk.contents,
                    mode=before.mode if before else None,
                )
            )
        elif isinstance(hunk, DeleteFile):
            old = tree.take_for_delete(path)
            tree.overlay[path] = None
            changes.append(FileChange("delete", path, hunk.path, old, None))
        else:
            changes.append(_update(tree, cwd, path, hunk))
    return changes


def _update(tree: _Tree, cwd: str | os.PathLike[str], path: str, hunk: UpdateFile) -> FileChange:
    entry = tree.read_for_update(path)
    new_content = derive_new_content(entry.content, hunk.chunks, path)
    dest: str | None = None
    if hunk.move_path is not None:
        dest = resolve(cwd, hunk.move_path)
        if _same_file(dest, path):
            # Codex writes the destination and then deletes the source, which for a
            # self-move deletes the file it just wrote. We update it in place instead.
            dest_is_self = True
        else:
            dest_is_self = False
            tree.check_writable(dest)
        if not dest_is_self:
            tree.overlay[dest] = _Entry(new_content, entry.mode)
            tree.overlay[path] = None
        else:
            tree.overlay[path] = _Entry(new_content, entry.mode)
    else:
        tree.overlay[path] = _Entry(new_content, entry.mode)
    return FileChange(
        "update",
        path,
        hunk.path,
        entry.content,
        new_content,
        move_path=dest,
        display_move_path=hunk.move_path,
        mode=entry.mode,
    )


def _same_file(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def derive_new_content(original: str, chunks: tuple[UpdateChunk, ...], path: str) -> str:
    """Apply update chunks to `original` (Codex's matching rules); `path` is for errors."""
    exact = update_exactly(original, chunks)
    return exact if exact is not None else derive_by_lines(original, chunks, path)


def derive_by_lines(original: str, chunks: tuple[UpdateChunk, ...], path: str) -> str:
    """`derive_new_content` on the file cut into lines: every case, fuzzy ones included."""
    source = SourceText.parse(original)
    lines = source.lines
    matcher = LineMatcher(lines)
    replacements: list[Replacement] = []
    line_index = 0
    for chunk in chunks:
        if chunk.context is not None:
            found = matcher.seek((chunk.context,), line_index, False)
            if found is None:
                raise PatchVerificationError(f"Failed to find context '{chunk.context}' in {path}")
            line_index = found + 1
        if not chunk.old_lines:
            # Pure addition: appended at the very end (after a final blank line too);
            # the context header above only had to exist.
            end = len(lines)
            replacements.append((end, 0, chunk.new_lines, (None,) * len(chunk.new_lines)))
            continue
        pattern = chunk.old_lines
        found = matcher.seek(pattern, line_index, chunk.is_end_of_file)
        if found is None and pattern[-1] == "":
            # A trailing empty context line often stands for the file's final newline.
            pattern = pattern[:-1]
            found = matcher.seek(pattern, line_index, chunk.is_end_of_file)
        if found is None:
            raise PatchVerificationError(
                f"Failed to find expected lines in {path}:\n" + "\n".join(chunk.old_lines)
            )
        replacements.append(_replacement(source, chunk, found, len(pattern)))
        line_index = found + len(pattern)
    return source.render(replacements)


def _replacement(source: SourceText, chunk: UpdateChunk, found: int, matched: int) -> Replacement:
    """The lines replacing the `matched` lines at `found`. A context line keeps the file's
    own text and line break, however loosely the patch quoted it (as Codex does): only
    `-` and `+` lines change the file."""
    new = chunk.new_lines
    origin = chunk.from_old or (-1,) * len(new)
    if matched < len(chunk.old_lines) and new and new[-1] == "":
        # The trailing blank context line was dropped from the pattern: drop it here too.
        new, origin = new[:-1], origin[:-1]
    texts: list[str] = []
    endings: list[str | None] = []
    for line, old_index in zip(new, origin, strict=True):
        if 0 <= old_index < matched:
            texts.append(source.lines[found + old_index])
            endings.append(source.ending(found + old_index))
        else:
            texts.append(line)
            endings.append(None)
    return found, matched, tuple(texts), tuple(endings)
