"""Parse the apply_patch envelope into hunks.

Grammar (as Codex accepts it, lenient variant):

    *** Begin Patch
    *** Add File: <path>        followed by `+line` lines
    *** Delete File: <path>
    *** Update File: <path>     optionally `*** Move to: <path>`, then chunks:
        @@ [context]            (optional for the first chunk)
        ' '/'+'/'-' lines, blank lines (= empty context), optional `*** End of File`
    *** End Patch

The quirks below are deliberate: they reproduce what the Codex binary (0.163) accepts
and the exact error text and line numbers it reports, which models and clients rely on.
Among them: hunk headers may be indented, but inside an update hunk only a header at the
start of a line ends it; `@@`, `*** Move to:`, `*** End of File` and the end marker
there ignore trailing blanks; a blank line is empty context even before the first chunk,
and blank lines are skipped only after `*** End of File` (end-of-file markers only before
the first chunk); a second `*** End Patch` may close the patch early if only blank lines
and the final one follow it.
"""

from __future__ import annotations

from pycodex.apply_patch.record import Record
from pycodex.apply_patch.text import rust_lines, rust_trim, rust_trim_end

# Not typing.TYPE_CHECKING: importing typing costs more than this whole module.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

BEGIN_PATCH = "*** Begin Patch"
END_PATCH = "*** End Patch"
ADD_FILE = "*** Add File: "
DELETE_FILE = "*** Delete File: "
UPDATE_FILE = "*** Update File: "
MOVE_TO = "*** Move to: "
END_OF_FILE = "*** End of File"
CONTEXT_PREFIX = "@@ "
EMPTY_CONTEXT = "@@"

# Only these heredoc openers are unwrapped, exactly as Codex does (no `<<-EOF`, no
# other delimiters): anything else is more likely a model mistake than a patch.
_HEREDOC_OPENERS = ("<<EOF", "<<'EOF'", '<<"EOF"')

_VALID_HEADERS = (
    "Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', "
    "'*** Update File: {path}'"
)


class PatchParseError(ValueError):
    """The patch text is not a well-formed patch. `str()` is the message Codex prints."""


class InvalidPatchError(PatchParseError):
    """The envelope itself is wrong (missing begin/end markers)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Invalid patch: {detail}")
        self.detail = detail


class InvalidHunkError(PatchParseError):
    """A hunk is malformed; `line_number` counts lines of the trimmed patch from 1."""

    def __init__(self, detail: str, line_number: int) -> None:
        super().__init__(f"Invalid patch hunk on line {line_number}: {detail}")
        self.detail = detail
        self.line_number = line_number


class UpdateChunk(Record):
    """One `@@` section: replace `old_lines` (found after `context`) by `new_lines`.

    `from_old[j]` is the index in `old_lines` of `new_lines[j]` when that line is a
    context line (written once, in both), -1 when it is an added line; empty when not
    known (a chunk built by hand), which treats every new line as added. Context lines
    keep the file's own text when the chunk is applied: only `-` and `+` lines change it.
    """

    __slots__ = ("context", "from_old", "is_end_of_file", "new_lines", "old_lines")

    def __init__(
        self,
        context: str | None,
        old_lines: tuple[str, ...],
        new_lines: tuple[str, ...],
        is_end_of_file: bool = False,
        from_old: tuple[int, ...] = (),
    ) -> None:
        self.context: Final = context
        self.old_lines: Final = old_lines
        self.new_lines: Final = new_lines
        self.is_end_of_file: Final = is_end_of_file
        self.from_old: Final = from_old


class AddFile(Record):
    __slots__ = ("contents", "path")

    def __init__(self, path: str, contents: str) -> None:
        self.path: Final = path
        self.contents: Final = contents

    @property
    def target(self) -> str:
        return self.path


class DeleteFile(Record):
    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path: Final = path

    @property
    def target(self) -> str:
        return self.path


class UpdateFile(Record):
    __slots__ = ("chunks", "move_path", "path")

    def __init__(self, path: str, move_path: str | None, chunks: tuple[UpdateChunk, ...]) -> None:
        self.path: Final = path
        self.move_path: Final = move_path
        self.chunks: Final = chunks

    @property
    def target(self) -> str:
        """The path the file ends up at (the move destination for renames)."""
        return self.move_path if self.move_path is not None else self.path


Hunk = AddFile | DeleteFile | UpdateFile


class Patch(Record):
    __slots__ = ("hunks", "text")

    def __init__(self, hunks: tuple[Hunk, ...], text: str = "") -> None:
        self.hunks: Final = hunks
        # The patch without any heredoc wrapper: what `apply_patch PATCH` would receive.
        self.text: Final = text


def parse_patch(text: str) -> Patch:
    """Parse patch text (optionally heredoc-wrapped); raise PatchParseError if invalid."""
    lines = rust_lines(rust_trim(text))
    envelope, body = _check_boundaries_lenient(lines)
    hunks: list[Hunk] = []
    # Codex numbers the first hunk line 2 even when a heredoc wrapper shifted it to line 3.
    line_number = 2
    index = 0
    while index < len(body):
        hunk, consumed = _parse_hunk(body, index, line_number)
        if hunk is None:
            break
        hunks.append(hunk)
        index += consumed
        line_number += consumed
    return Patch(hunks=tuple(hunks), text="\n".join(envelope))


def _check_boundaries_strict(lines: list[str]) -> tuple[list[str], list[str]]:
    first = rust_trim(lines[0]) if lines else None
    last = rust_trim(lines[-1]) if lines else None
    if first == BEGIN_PATCH and last == END_PATCH:
        return lines, lines[1:-1]
    if first is not None and first != BEGIN_PATCH:
        raise InvalidPatchError("The first line of the patch must be '*** Begin Patch'")
    raise InvalidPatchError("The last line of the patch must be '*** End Patch'")


def _check_boundaries_lenient(lines: list[str]) -> tuple[list[str], list[str]]:
    try:
        return _check_boundaries_strict(lines)
    except InvalidPatchError:
        # A heredoc wrapper needs its two marker lines plus at least two patch lines.
        if len(lines) >= 4 and lines[0] in _HEREDOC_OPENERS and lines[-1].endswith("EOF"):
            return _check_boundaries_strict(lines[1:-1])
        raise


def _parse_hunk(lines: list[str], start: int, line_number: int) -> tuple[Hunk | None, int]:
    """The hunk at `lines[start]` and the lines it spans; None for an `*** End Patch`
    that ends the body (Codex stops there)."""
    header = rust_trim(lines[start])
    if header.startswith(ADD_FILE):
        contents: list[str] = []
        consumed = 1
        for line in lines[start + 1 :]:
            if not line.startswith("+"):
                break
            contents.append(line[1:] + "\n")
            consumed += 1
        return AddFile(header[len(ADD_FILE) :], "".join(contents)), consumed
    if header.startswith(DELETE_FILE):
        return DeleteFile(header[len(DELETE_FILE) :]), 1
    if header.startswith(UPDATE_FILE):
        return _parse_update(lines, start, line_number, header[len(UPDATE_FILE) :])
    if header == END_PATCH:
        # A second end marker may close the patch early, if only blank lines follow.
        if all(rust_trim(line) == "" for line in lines[start + 1 :]):
            return None, 1
        raise InvalidPatchError("The last line of the patch must be '*** End Patch'")
    raise InvalidHunkError(f"'{header}' is not a valid hunk header. {_VALID_HEADERS}", line_number)


def _ends_update(line: str) -> bool:
    """Whether `line` ends an update hunk: another hunk's header or the end marker,
    at the start of the line (unlike hunk headers, which may be indented)."""
    bare = rust_trim_end(line)
    return bare == END_PATCH or bare.startswith((ADD_FILE, DELETE_FILE, UPDATE_FILE))


def _parse_update(
    lines: list[str], start: int, line_number: int, path: str
) -> tuple[UpdateFile, int]:
    index = start + 1
    move_path: str | None = None
    # The move line is matched at the start of the line (unlike hunk headers).
    if index < len(lines) and rust_trim_end(lines[index]).startswith(MOVE_TO):
        move_path = rust_trim_end(lines[index])[len(MOVE_TO) :]
        index += 1
    chunks: list[UpdateChunk] = []
    # No blank lines are skipped here: a blank line is an empty context line, even
    # before the first chunk (a chunk may start without `@@`).
    while index < len(lines) and not _ends_update(lines[index]):
        if not chunks and rust_trim_end(lines[index]) == END_OF_FILE:
            index += 1  # Codex ignores end-of-file markers before the first chunk
            continue
        if not chunks and move_path is None and rust_trim_end(lines[index]).startswith(MOVE_TO):
            # ...and still takes the move line after them (fuzzer seed 62240187).
            move_path = rust_trim_end(lines[index])[len(MOVE_TO) :]
            index += 1
            continue
        chunk, consumed = _parse_chunk(
            lines, index, line_number + (index - start), allow_missing_context=not chunks
        )
        chunks.append(chunk)
        index += consumed
    if not chunks:
        raise InvalidHunkError(f"Update file hunk for path '{path}' is empty", line_number)
    return UpdateFile(path, move_path, tuple(chunks)), index - start


def _chunk_header(
    line: str, line_number: int, allow_missing_context: bool
) -> tuple[bool, str | None]:
    """(whether `line` is a `@@` line, its context); raises if one was required."""
    bare = rust_trim_end(line)
    if bare == EMPTY_CONTEXT:
        return True, None
    if bare.startswith(CONTEXT_PREFIX):
        return True, bare[len(CONTEXT_PREFIX) :]
    if allow_missing_context:
        return False, None
    raise InvalidHunkError(
        f"Expected update hunk to start with a @@ context marker, got: '{line}'", line_number
    )


def _parse_chunk(
    lines: list[str], start: int, line_number: int, *, allow_missing_context: bool
) -> tuple[UpdateChunk, int]:
    has_header, context = _chunk_header(lines[start], line_number, allow_missing_context)
    body_start = start + 1 if has_header else start
    body_line_number = line_number + (body_start - start)
    # An end marker here ends the body as the end of the patch would.
    if body_start >= len(lines) or rust_trim_end(lines[body_start]) == END_PATCH:
        raise InvalidHunkError("Update hunk does not contain any lines", body_line_number)
    old: list[str] = []
    new: list[str] = []
    from_old: list[int] = []
    is_eof = False
    index = body_start
    while index < len(lines):
        line = lines[index]
        if rust_trim_end(line) == END_OF_FILE:
            if index == body_start:
                raise InvalidHunkError("Update hunk does not contain any lines", body_line_number)
            is_eof = True
            index += 1
            # Codex lets blank lines follow the marker before the next `@@`.
            while index < len(lines) and rust_trim(lines[index]) == "":
                index += 1
            break
        marker = line[:1]
        if marker in ("", " "):
            from_old.append(len(old))
            old.append(line[1:])
            new.append(line[1:])
        elif marker == "+":
            from_old.append(-1)
            new.append(line[1:])
        elif marker == "-":
            old.append(line[1:])
        elif index == body_start:
            raise InvalidHunkError(
                f"Unexpected line found in update hunk: '{line}'. Every line should "
                "start with ' ' (context line), '+' (added line), or '-' (removed line)",
                body_line_number,
            )
        else:
            break  # the start of the next chunk or hunk
        index += 1
    chunk = UpdateChunk(context, tuple(old), tuple(new), is_eof, tuple(from_old))
    return chunk, index - start
