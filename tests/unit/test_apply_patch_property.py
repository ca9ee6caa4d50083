"""Property tests: a patch made from a diff reproduces the target; a corrupted one fails
with Codex's message and touches nothing."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycodex.apply_patch import apply_patch_text

# Small alphabet so that repeats, blank lines and whitespace-only variants are common —
# exactly the cases where fuzzy matching could pick the wrong place.
LINE = st.sampled_from(
    ["", "a", "b", "  a", "a  ", "\tb", "c = 1", "c = 2", "}", "  ", "x\u2013y", "é"]
)
FILE = st.fixed_dictionaries(
    {
        "lines": st.lists(LINE, max_size=14),
        "ending": st.sampled_from(["\n", "\r\n"]),
        "final_newline": st.booleans(),
    }
)
# Modest by default to keep the suite fast; raise it for a deep run, e.g.
# PYCODEX_HYPOTHESIS_EXAMPLES=5000 pytest tests/unit/test_apply_patch_property.py
SETTINGS = settings(
    max_examples=int(os.environ.get("PYCODEX_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _render(lines: list[str], ending: str, final_newline: bool) -> str:
    if not lines:
        return ""
    # An unterminated empty last line is no line at all; keep the text faithful to `lines`.
    final_newline = final_newline or lines[-1] == ""
    return ending.join(lines) + (ending if final_newline else "")


def _first_exact(haystack: list[str], needle: list[str], start: int) -> int | None:
    for i in range(start, len(haystack) - len(needle) + 1):
        if haystack[i : i + len(needle)] == needle:
            return i
    return None


def _chunks(old: list[str], new: list[str]) -> list[list[str]]:
    """Patch chunks (lines after `@@`) turning `old` into `new`.

    Each chunk gets one line of context, widened backwards until its old lines occur
    first exactly where intended (so the engine's first match is the right one)."""
    chunks: list[list[str]] = []
    prev_end = 0
    groups = difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_grouped_opcodes(1)
    for group in groups:
        a_start, a_end = group[0][1], group[-1][2]
        b_start, b_end = group[0][3], group[-1][4]
        while a_start > prev_end and (
            a_start == a_end or _first_exact(old, old[a_start:a_end], prev_end) != a_start
        ):
            a_start -= 1
            b_start -= 1
        ops = difflib.SequenceMatcher(
            a=old[a_start:a_end], b=new[b_start:b_end], autojunk=False
        ).get_opcodes()
        body: list[str] = []
        for tag, i1, i2, j1, j2 in ops:
            if tag == "equal":
                body += [" " + line for line in old[a_start + i1 : a_start + i2]]
            else:
                body += ["-" + line for line in old[a_start + i1 : a_start + i2]]
                body += ["+" + line for line in new[b_start + j1 : b_start + j2]]
        chunks.append(body)
        prev_end = a_end
    return chunks


def _patch(files: dict[str, list[list[str]]]) -> str:
    out = ["*** Begin Patch"]
    for name, chunks in files.items():
        out.append(f"*** Update File: {name}")
        for body in chunks:
            out.append("@@")
            out += body
    out.append("*** End Patch")
    return "\n".join(out)


def _edit(data: st.DataObject, old: list[str]) -> list[str]:
    new = list(old)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert" or not new:
            at = data.draw(st.integers(0, len(new)))
            new[at:at] = data.draw(st.lists(LINE, min_size=1, max_size=3))
        else:
            at = data.draw(st.integers(0, len(new) - 1))
            if op == "delete":
                del new[at]
            else:
                new[at] = data.draw(LINE)
    return new


@SETTINGS
@given(file=FILE, data=st.data())
def test_patch_from_diff_reproduces_target(file: dict[str, object], data: st.DataObject) -> None:
    old = list(file["lines"])  # type: ignore[call-overload]
    ending = str(file["ending"])
    final = bool(file["final_newline"])
    new = _edit(data, old)
    if new == old:
        return
    original = _render(old, ending, final)
    # New and changed lines take the first line's ending (LF if there is none), and an
    # updated file always ends with a line break.
    has_break = len(old) > 1 or (len(old) == 1 and (final or old[0] == ""))
    expected = _render(new, ending if has_break else "\n", True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "f.txt")
        path.write_bytes(original.encode())
        code, out, err = apply_patch_text(_patch({"f.txt": _chunks(old, new)}), tmp)
        assert (code, err) == (0, ""), err
        assert out == "Success. Updated the following files:\nM f.txt\n"
        assert path.read_bytes() == expected.encode()


@SETTINGS
@given(first=FILE, second=FILE, data=st.data())
def test_corrupted_context_fails_and_changes_nothing(
    first: dict[str, object], second: dict[str, object], data: st.DataObject
) -> None:
    files = {"one.txt": first, "two.txt": second}
    olds = {name: list(f["lines"]) for name, f in files.items()}  # type: ignore[call-overload]
    if not olds["two.txt"]:
        olds["two.txt"] = ["only"]
    chunks = {name: _chunks(old, _edit(data, old)) for name, old in olds.items()}
    # Corrupt one old-side line (context or removed) of the second file's patch.
    candidates = [
        (ci, li)
        for ci, body in enumerate(chunks["two.txt"])
        for li, line in enumerate(body)
        if line[:1] in (" ", "-")
    ]
    if not candidates or not chunks["one.txt"]:
        return
    ci, li = data.draw(st.sampled_from(candidates))
    body = chunks["two.txt"][ci]
    body[li] = body[li][0] + "\u2603corrupt\u2603" + body[li][1:]
    expected_old = [line[1:] for line in body if line[:1] in (" ", "-")]

    with tempfile.TemporaryDirectory() as tmp:
        before: dict[str, tuple[bytes, int]] = {}
        for name, f in files.items():
            p = Path(tmp, name)
            p.write_bytes(_render(olds[name], str(f["ending"]), bool(f["final_newline"])).encode())
            os.utime(p, ns=(1_000_000_000, 1_000_000_000))
            before[name] = (p.read_bytes(), p.stat().st_mtime_ns)
        code, out, err = apply_patch_text(_patch(chunks), tmp)
        assert (code, out) == (1, "")
        # Earlier chunks of two.txt succeed, so the corrupted one is the first to fail.
        two = os.path.join(tmp, "two.txt")
        assert err == f"Failed to find expected lines in {two}:\n" + "\n".join(expected_old) + "\n"
        after = {n: (Path(tmp, n).read_bytes(), Path(tmp, n).stat().st_mtime_ns) for n in files}
        assert after == before
        assert sorted(os.listdir(tmp)) == ["one.txt", "two.txt"]  # no temp files left


# --- quoting loosely never rewrites what is only quoted ---------------------------------

# Lines that fuzzy matching can still find when a model quotes them loosely: leading or
# trailing blanks, curly quotes, dashes, no-break spaces. A serial number keeps every
# line unique, so the intended place is the only match.
CORE = st.sampled_from(["x = 1", "it\u2019s \u201cquoted\u201d", "a \u2013 b\u00a0c", "if (!f) {", ""])
EDGE = st.sampled_from(["", "  ", "\t", " \t"])
LOOSE = str.maketrans({"\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u00a0": " "})


@SETTINGS
@given(data=st.data())
def test_context_lines_keep_the_files_text(data: st.DataObject) -> None:
    n = data.draw(st.integers(3, 10))
    lines = [f"{data.draw(EDGE)}{k} {data.draw(CORE)}{data.draw(EDGE)}" for k in range(n)]
    ends = data.draw(st.lists(st.sampled_from(["\n", "\r\n"]), min_size=n, max_size=n))
    start = data.draw(st.integers(1, n - 2))
    stop = data.draw(st.integers(start, n - 1))
    loosen = data.draw(st.sampled_from([str.strip, str.rstrip, lambda s: s.translate(LOOSE).strip()]))
    body = [" " + loosen(lines[start - 1])]
    body += ["-" + line for line in lines[start:stop]]
    body += ["+new line", " " + loosen(lines[stop])]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "f.txt")
        path.write_bytes("".join(t + e for t, e in zip(lines, ends, strict=True)).encode())
        code, _, err = apply_patch_text(_patch({"f.txt": [body]}), tmp)
        assert (code, err) == (0, "")
        # Every line but the removed ones keeps its text and break; the new one takes
        # the first line's break.
        kept = list(zip(lines, ends, strict=True))
        expected = [*kept[:start], ("new line", ends[0]), *kept[stop:]]
        assert path.read_bytes() == "".join(t + e for t, e in expected).encode()
