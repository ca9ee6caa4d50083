"""Edge cases of the apply_patch engine: parser, matching, line endings, writing."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from pycodex.apply_patch import (
    AddFile,
    DeleteFile,
    InvalidHunkError,
    InvalidPatchError,
    PatchParseError,
    PatchVerificationError,
    UpdateChunk,
    UpdateFile,
    apply_changes,
    apply_patch_text,
    compute_changes,
    derive_new_content,
    maybe_parse_apply_patch_invocation,
    parse_patch,
)
from pycodex.apply_patch.seek import LineMatcher
from pycodex.apply_patch.text import SourceText, rust_lines, rust_trim


def envelope(*body: str) -> str:
    return "\n".join(["*** Begin Patch", *body, "*** End Patch"])


def update(original: str, *chunk_lines: str) -> str:
    patch = parse_patch(envelope("*** Update File: f", *chunk_lines))
    hunk = patch.hunks[0]
    assert isinstance(hunk, UpdateFile)
    return derive_new_content(original, hunk.chunks, "/abs/f")


# --- parser -----------------------------------------------------------------------------


def test_parses_all_hunk_kinds() -> None:
    patch = parse_patch(
        envelope(
            "*** Add File: a/new.txt",
            "+one",
            "+",
            "*** Delete File: gone.txt",
            "*** Update File: src.py",
            "*** Move to: dst.py",
            "@@ def f():",
            "-    pass",
            "+    return 1",
            "@@",
            " tail",
            "+more",
            "*** End of File",
        )
    )
    assert patch.hunks == (
        AddFile("a/new.txt", "one\n\n"),
        DeleteFile("gone.txt"),
        UpdateFile(
            "src.py",
            "dst.py",
            (
                UpdateChunk("def f():", ("    pass",), ("    return 1",), from_old=(-1,)),
                UpdateChunk(None, ("tail",), ("tail", "more"), True, from_old=(0, -1)),
            ),
        ),
    )


@pytest.mark.parametrize("opener", ["<<EOF", "<<'EOF'", '<<"EOF"'])
def test_heredoc_wrappers_are_unwrapped(opener: str) -> None:
    text = f"{opener}\n*** Begin Patch\n*** Delete File: x\n*** End Patch\nEOF\n"
    patch = parse_patch(text)
    assert patch.hunks == (DeleteFile("x"),)
    assert patch.text == "*** Begin Patch\n*** Delete File: x\n*** End Patch"


@pytest.mark.parametrize("opener", ["<<-EOF", "<<PATCH", "cat <<EOF"])
def test_other_heredoc_openers_are_rejected(opener: str) -> None:
    with pytest.raises(InvalidPatchError, match="first line of the patch"):
        parse_patch(f"{opener}\n*** Begin Patch\n*** Delete File: x\n*** End Patch\nEOF")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Invalid patch: The last line of the patch must be '*** End Patch'"),
        ("  \n\t", "Invalid patch: The last line of the patch must be '*** End Patch'"),
        ("*** Begin Patch", "Invalid patch: The last line of the patch must be '*** End Patch'"),
        (
            "hello\n*** End Patch",
            "Invalid patch: The first line of the patch must be '*** Begin Patch'",
        ),
        (
            envelope("", "*** Delete File: x"),
            "Invalid patch hunk on line 2: '' is not a valid hunk header. Valid hunk headers: "
            "'*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'",
        ),
        (
            envelope("*** Delete File: x", "", "*** Delete File: y"),
            "Invalid patch hunk on line 3: '' is not a valid hunk header. Valid hunk headers: "
            "'*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'",
        ),
        (
            envelope("*** Update File: f", "@@", "oops"),
            "Invalid patch hunk on line 4: Unexpected line found in update hunk: 'oops'. Every "
            "line should start with ' ' (context line), '+' (added line), or '-' (removed line)",
        ),
        (
            envelope("*** Update File: f", "@@", "-a", "oops"),
            "Invalid patch hunk on line 5: Expected update hunk to start with a @@ context "
            "marker, got: 'oops'",
        ),
        (
            envelope("*** Update File: f", "@@", "*** End of File"),
            "Invalid patch hunk on line 4: Update hunk does not contain any lines",
        ),
        (
            envelope("*** Update File: f", "*** Move to: g"),
            "Invalid patch hunk on line 2: Update file hunk for path 'f' is empty",
        ),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(PatchParseError) as info:
        parse_patch(text)
    assert str(info.value) == message


def test_heredoc_does_not_renumber_lines() -> None:
    # Codex counts the first hunk as line 2 even inside a heredoc wrapper.
    with pytest.raises(InvalidHunkError) as info:
        parse_patch("<<'EOF'\n*** Begin Patch\n*** Bogus\n*** End Patch\nEOF")
    assert info.value.line_number == 2


def test_blank_lines_in_update_hunk_are_empty_context() -> None:
    patch = parse_patch(envelope("*** Update File: f", "@@", " a", "", "-b", "", "@@", "+c"))
    hunk = patch.hunks[0]
    assert isinstance(hunk, UpdateFile)
    assert hunk.chunks[0] == UpdateChunk(
        None, ("a", "", "b", ""), ("a", "", ""), from_old=(0, 1, 3)
    )
    assert hunk.chunks[1] == UpdateChunk(None, (), ("c",), from_old=(-1,))


def test_padded_header_only_where_a_header_is_expected() -> None:
    patch = parse_patch(envelope("  *** Update File: f", "@@", "-a", "  *** Add File: x"))
    hunk = patch.hunks[0]
    assert isinstance(hunk, UpdateFile)
    assert hunk.chunks[0].old_lines == ("a", " *** Add File: x")


def test_patch_lines_keep_crlf_tolerance() -> None:
    patch = parse_patch("*** Begin Patch\r\n*** Add File: a\r\n+x\r\n*** End Patch\r\n")
    assert patch.hunks == (AddFile("a", "x\n"),)


def test_rust_whitespace_rules() -> None:
    assert rust_trim("\x1c a \x1f") == "\x1c a \x1f"  # not whitespace in Rust
    assert rust_trim("\u200b a \ufeff") == "\u200b a \ufeff"
    assert rust_trim("\u3000\xa0a\x85") == "a"
    assert rust_lines("a\r\nb\n\nc\r") == ["a", "b", "", "c"]


# --- matching ---------------------------------------------------------------------------


def test_exact_match_further_down_beats_fuzzy_match_above() -> None:
    assert update("x  \nq\nx\n", "@@", "-x", "+y") == "x  \nq\ny\n"


def test_fuzzy_passes() -> None:
    assert update("foo   \n", "@@", "-foo", "+a") == "a\n"  # trailing whitespace
    assert update("   foo\n", "@@", "-foo", "+a") == "a\n"  # surrounding whitespace
    text = "\u201cq\u201d \u2014 it\u2019s\xa0ok\n"
    assert update(text, "@@", '-"q" - it\'s ok', "+a") == "a\n"


@pytest.mark.parametrize(("line", "pattern"), [("foo\tx", "foo x"), ("a\u2026", "a...")])
def test_no_tab_or_ellipsis_folding(line: str, pattern: str) -> None:
    with pytest.raises(PatchVerificationError):
        update(f"{line}\n", "@@", f"-{pattern}", "+x")


def test_context_header_narrows_search() -> None:
    original = "def f():\n    return 1\ndef g():\n    return 1\n"
    assert update(original, "@@ def g():", "-    return 1", "+    return 2") == (
        "def f():\n    return 1\ndef g():\n    return 2\n"
    )


def test_missing_context_header_message() -> None:
    with pytest.raises(PatchVerificationError) as info:
        update("a\n", "@@ nowhere", "-a", "+b")
    assert str(info.value) == "Failed to find context 'nowhere' in /abs/f"


def test_pure_addition_appends_at_end_even_with_context() -> None:
    assert update("a\nb\nc\n", "@@ a", "+new") == "a\nb\nc\nnew\n"


def test_end_of_file_anchors_to_last_lines() -> None:
    assert update("b\nx\nb\n", "@@", "-b", "+B", "*** End of File") == "b\nx\nB\n"
    with pytest.raises(PatchVerificationError):
        update("b\nx\n", "@@", "-b", "+B", "*** End of File")


def test_chunks_apply_in_order() -> None:
    assert update("a\nb\na\nb\n", "@@", "-b", "+1", "@@", "-b", "+2") == "a\n1\na\n2\n"


def test_end_of_file_chunk_never_reaches_back_over_an_earlier_chunk() -> None:
    chunks = ("@@", "-b", "+B", "@@", " b", " c", "+d", "*** End of File")
    with pytest.raises(PatchVerificationError) as info:
        update("a\nb\nc\n", *chunks)
    assert str(info.value) == "Failed to find expected lines in /abs/f:\nb\nc"


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("a\n\n", "a\n\nz\n"),
        ("a\r\n\r\n", "a\r\n\r\nz\r\n"),
        ("\n", "\nz\n"),
        ("a", "a\nz\n"),
        ("", "z\n"),
    ],
)
def test_pure_addition_goes_after_everything(original: str, expected: str) -> None:
    # Even after a final blank line (older Codex versions inserted before it).
    assert update(original, "@@", "+z") == expected


def test_trailing_empty_context_stands_for_final_newline() -> None:
    assert update("a\nb\n", "@@", " b", "+c", "") == "a\nb\nc\n"
    # Without a trailing empty new line the blank is kept as an added line.
    assert update("a\nb\n", "@@", " b", "", "+c") == "a\nb\n\nc\n"


def test_matcher_handles_large_files_linearly() -> None:
    lines = [f"line {i}" for i in range(200_000)]
    matcher = LineMatcher(lines)
    assert matcher.seek(["line 199998", "line 199999"], 0, False) == 199_998
    assert matcher.seek(["  line 5  "], 0, False) == 5
    assert matcher.seek(["line 1"], 0, True) is None


# --- line endings -----------------------------------------------------------------------


def test_crlf_file_stays_crlf_and_gains_final_newline() -> None:
    assert update("a\r\nb", "@@", " a", "-b", "+c", "+d") == "a\r\nc\r\nd\r\n"


def test_untouched_lines_keep_their_endings() -> None:
    # Lone CR is a line break; new lines take the first line's ending; context lines,
    # like untouched ones, keep theirs.
    assert update("a\nb\r\nc\rd\n", "@@ c", "-d", "+e") == "a\nb\r\nc\re\n"
    assert update("a\nb\r\nc\rd\n", "@@", " c", "-d", "+e") == "a\nb\r\nc\re\n"


def _lines_by_regex(text: str) -> tuple[list[str], list[str]]:
    """The reference split: every CRLF, LF or lone CR ends a line."""
    pieces = re.split(r"(\r\n|\n|\r)", text)
    lines, breaks = pieces[0::2], pieces[1::2]
    if lines[-1] == "":
        lines.pop()
    return lines, breaks


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a",
        "a\n",
        "\n",
        "\n\n",
        "a\nb",
        "a\r\nb\r\n",
        "a\r\nb",
        "\r\n",
        "a\rb\r",
        "a\rb",
        "\r",
        "a\r\nb\nc",  # mixed from here on
        "a\nb\r\n",
        "a\r\nb\rc\r\n",
        "a\r\r\nb\n",
        "a\n\rb",
        "\r\n\n",
    ],
)
def test_line_split_fast_path_agrees_with_the_general_split(text: str) -> None:
    source = SourceText.parse(text)
    lines, breaks = _lines_by_regex(text)
    assert source.lines == lines
    uniform = len(set(breaks)) <= 1
    # Single-style files skip the per-line endings (the fast path); mixed ones keep them.
    assert (source.endings is None) == uniform
    assert source.preferred_ending == (breaks[0] if breaks else "\n")
    if not uniform:
        assert source.endings is not None
        assert [e for e in source.endings if e is not None] == breaks
    # With nothing replaced, every line keeps its break and the last one gains one.
    expected = "".join(line + end for line, end in zip(lines, [*breaks, source.preferred_ending], strict=False))
    assert source.render([]) == expected


def test_form_feed_and_nel_are_not_line_breaks() -> None:
    assert SourceText.parse("a\x0cb\x85c\u2028d\n").lines == ["a\x0cb\x85c\u2028d"]


def test_removing_every_line_leaves_empty_file() -> None:
    assert update("a\nb", "@@", "-a", "-b") == ""


def test_bom_belongs_to_first_line() -> None:
    assert update("\ufeffa\nb\n", "@@", "-b", "+c") == "\ufeffa\nc\n"
    with pytest.raises(PatchVerificationError):
        update("\ufeffa\n", "@@", "-a", "+c")


# --- applying ---------------------------------------------------------------------------


def run(tmp: Path, *body: str) -> tuple[int, str, str]:
    return apply_patch_text(envelope(*body), tmp)


def test_atomic_when_a_later_file_fails(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    os.utime(tmp_path / "a.txt", ns=(10**9, 10**9))
    code, out, err = run(
        tmp_path,
        "*** Update File: a.txt",
        "@@",
        "-a",
        "+A",
        "*** Add File: new/b.txt",
        "+b",
        "*** Update File: missing.txt",
        "@@",
        "-x",
        "+y",
    )
    assert (code, out) == (1, "")
    assert err == (
        f"Failed to read file to update {tmp_path}/missing.txt: "
        "No such file or directory (os error 2)\n"
    )
    assert (tmp_path / "a.txt").read_text() == "a\n"
    assert (tmp_path / "a.txt").stat().st_mtime_ns == 10**9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_mode_is_preserved(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("echo hi\n")
    script.chmod(0o751)
    assert run(tmp_path, "*** Update File: run.sh", "@@", "-echo hi", "+echo bye")[0] == 0
    assert stat.S_IMODE(script.stat().st_mode) == 0o751
    assert script.read_text() == "echo bye\n"


def test_new_files_get_umask_default_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        assert run(tmp_path, "*** Add File: n.txt", "+n")[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "n.txt").stat().st_mode) == 0o644


def test_move_to_self_updates_in_place(tmp_path: Path) -> None:
    (tmp_path / "same.txt").write_text("old\n")
    code, out, _ = run(
        tmp_path, "*** Update File: same.txt", "*** Move to: ./same.txt", "@@", "-old", "+new"
    )
    assert (code, out) == (0, "Success. Updated the following files:\nM ./same.txt\n")
    assert (tmp_path / "same.txt").read_text() == "new\n"


def test_move_creates_dirs_and_removes_source(tmp_path: Path) -> None:
    (tmp_path / "src.txt").write_text("x\n")
    (tmp_path / "src.txt").chmod(0o600)
    assert run(tmp_path, "*** Update File: src.txt", "*** Move to: d/e/dst.txt", "@@", "+y")[0] == 0
    assert not (tmp_path / "src.txt").exists()
    dst = tmp_path / "d" / "e" / "dst.txt"
    assert dst.read_text() == "x\ny\n"
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600


def test_update_writes_through_symlink(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("a\n")
    (tmp_path / "link.txt").symlink_to("real.txt")
    assert run(tmp_path, "*** Update File: link.txt", "@@", "-a", "+b")[0] == 0
    assert (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "real.txt").read_text() == "b\n"


def test_hunks_see_earlier_hunks(tmp_path: Path) -> None:
    code, out, _ = run(
        tmp_path,
        "*** Add File: f.txt",
        "+one",
        "*** Update File: f.txt",
        "@@",
        "-one",
        "+two",
        "*** Delete File: f.txt",
        "*** Add File: f.txt",
        "+three",
    )
    assert code == 0
    assert out == "Success. Updated the following files:\nA f.txt\nA f.txt\nM f.txt\nD f.txt\n"
    assert (tmp_path / "f.txt").read_text() == "three\n"


def test_update_after_delete_fails_like_missing_file(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("a\n")
    code, _, err = run(tmp_path, "*** Delete File: f.txt", "*** Update File: f.txt", "@@", "+b")
    assert code == 1
    assert "No such file or directory (os error 2)" in err
    assert (tmp_path / "f.txt").read_text() == "a\n"


@pytest.mark.parametrize("target", ["plain/sub.txt", "plain/a/b.txt", "made/sub.txt"])
def test_add_under_a_file_fails_before_writing(tmp_path: Path, target: str) -> None:
    # The write itself fails there (ENOTDIR), so Codex says "write", not "create parent
    # directories" -- also under a file added earlier in the same patch.
    (tmp_path / "plain").write_text("p\n")
    code, _, err = run(
        tmp_path, "*** Add File: ok.txt", "+x", "*** Add File: made", "+m", f"*** Add File: {target}", "+y"
    )
    assert code == 1
    assert err == f"Failed to write file {tmp_path}/{target}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]


def test_add_under_a_dangling_symlink_fails_creating_directories(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to("nowhere")
    code, _, err = run(tmp_path, "*** Add File: link/x.txt", "+x")
    assert (code, err) == (1, f"Failed to create parent directories for {tmp_path}/link/x.txt\n")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"ab\xff\nq\n", "invalid utf-8 sequence of 1 bytes from index 2"),
        (b"ab\xe2\x82\nq\n", "invalid utf-8 sequence of 2 bytes from index 2"),
        (b"ab\xed\xa0\x80\n", "invalid utf-8 sequence of 1 bytes from index 2"),
        (b"q\nab\xf0\x9f\x98", "incomplete utf-8 byte sequence from index 4"),
    ],
)
def test_update_non_utf8_file(tmp_path: Path, data: bytes, reason: str) -> None:
    # Rust's Utf8Error wording, which Codex prints (recorded from Codex 0.163).
    (tmp_path / "bin").write_bytes(data)
    code, _, err = run(tmp_path, "*** Update File: bin", "@@", "+x")
    assert code == 1
    assert err == f"Failed to read file to update {tmp_path}/bin: {reason}\n"


def test_compute_changes_reports_diffs_without_writing(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\ntwo\nthree\n")
    patch = parse_patch(envelope("*** Update File: a.txt", "@@", " one", "-two", "+TWO"))
    [change] = compute_changes(patch, tmp_path)
    assert (tmp_path / "a.txt").read_text() == "one\ntwo\nthree\n"
    assert change.kind == "update"
    assert change.path == tmp_path / "a.txt"
    assert change.new_content == "one\nTWO\nthree\n"
    assert change.unified_diff == "@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n"
    result = apply_changes([change])
    assert result.modified == ["a.txt"]
    assert result.affected_paths == [tmp_path / "a.txt"]


def test_empty_patch(tmp_path: Path) -> None:
    assert run(tmp_path) == (1, "", "No files were modified.\n")


# --- recognising shell invocations ------------------------------------------------------

PATCH = "*** Begin Patch\n*** Delete File: x\n*** End Patch"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["apply_patch", PATCH], (PATCH, None)),
        (["applypatch", PATCH], (PATCH, None)),
        (["bash", "-lc", f"apply_patch <<'EOF'\n{PATCH}\nEOF\n"], (PATCH, None)),
        (["/bin/zsh", "-c", f"applypatch <<EOF\n{PATCH}\nEOF"], (PATCH, None)),
        (["sh", "-lc", f'apply_patch <<"PATCH"\n{PATCH}\nPATCH\n'], (PATCH, None)),
        (["bash", "-lc", f"cd sub/dir && apply_patch <<'EOF'\n{PATCH}\nEOF\n"], (PATCH, "sub/dir")),
        (["bash", "-lc", f"cd 'my dir' && apply_patch <<'EOF'\n{PATCH}\nEOF"], (PATCH, "my dir")),
        (["pwsh", "-NoProfile", "-Command", f"apply_patch <<'EOF'\n{PATCH}\nEOF"], (PATCH, None)),
        (["bash", "-lc", f"echo hi; apply_patch <<'EOF'\n{PATCH}\nEOF"], None),
        (["bash", "-lc", f"apply_patch <<'EOF'\n{PATCH}\nEOF\necho done"], None),
        (["bash", "-lc", f"cd a b && apply_patch <<'EOF'\n{PATCH}\nEOF"], None),
        (["bash", "-lc", "ls -la"], None),
        (["fish", "-c", f"apply_patch <<'EOF'\n{PATCH}\nEOF"], None),
        (["apply_patch"], None),
        (["ls", PATCH], None),
    ],
)
def test_maybe_parse_apply_patch_invocation(
    argv: list[str], expected: tuple[str, str | None] | None
) -> None:
    found = maybe_parse_apply_patch_invocation(argv)
    assert (None if found is None else tuple(found)) == expected
    if found is not None:
        assert parse_patch(found.patch).hunks == (DeleteFile("x"),)


def test_change_diff_splits_lines_only_at_newlines(tmp_path: Path) -> None:
    """A form feed or a Unicode line separator inside a line is content, as for git: the
    hunk keeps the line whole instead of splitting it (str.splitlines would)."""
    (tmp_path / "a.txt").write_text("page\x0cbreak\nold\u2028line\nlast\n", encoding="utf-8")
    patch = parse_patch(
        envelope("*** Update File: a.txt", "@@", " page\x0cbreak", "-old\u2028line", "+new")
    )
    [change] = compute_changes(patch, tmp_path)
    assert change.unified_diff == "@@ -1,3 +1,3 @@\n page\x0cbreak\n-old\u2028line\n+new\n last\n"


def test_parsed_values_compare_by_every_field() -> None:
    # The parser's classes are plain slotted records (no dataclasses: start-up cost);
    # equality must still see every field, and equal values must hash alike.
    chunk = UpdateChunk("ctx", ("a",), ("b",))
    assert chunk == UpdateChunk("ctx", ("a",), ("b",), is_end_of_file=False)
    assert hash(chunk) == hash(UpdateChunk("ctx", ("a",), ("b",)))
    for other in (
        UpdateChunk(None, ("a",), ("b",)),
        UpdateChunk("ctx", ("x",), ("b",)),
        UpdateChunk("ctx", ("a",), ("x",)),
        UpdateChunk("ctx", ("a",), ("b",), is_end_of_file=True),
    ):
        assert chunk != other
    assert AddFile("p", "") != DeleteFile("p")
    assert UpdateFile("p", None, (chunk,)) != UpdateFile("p", "q", (chunk,))
    assert "old_lines=('a',)" in repr(chunk)
