"""The whole-text fast path (exact.py) against the line-based path it short-cuts: whenever
it answers, it must answer exactly what the line-based path does; otherwise it steps
aside."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycodex.apply_patch import PatchVerificationError, UpdateChunk
from pycodex.apply_patch.changes import derive_by_lines
from pycodex.apply_patch.exact import update_exactly

# Few distinct lines so that repeats, blank lines and near-misses are common.
LINE = st.sampled_from(["", "a", "b", "a ", " a", "c = 1", "}", "x\u2013y", "\t"])
BREAK = st.sampled_from(["\n", "\r\n", "\r"])
SETTINGS = settings(
    max_examples=int(os.environ.get("PYCODEX_HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def files(draw: st.DrawFn) -> tuple[str, list[str]]:
    lines = draw(st.lists(LINE, max_size=10))
    if draw(st.integers(0, 9)) == 0:  # now and then a file with mixed line breaks
        ends = draw(st.lists(BREAK, min_size=len(lines), max_size=len(lines)))
    else:
        ends = [draw(BREAK)] * len(lines)
    if lines and draw(st.booleans()) and lines[-1] != "":
        ends[-1] = ""  # no final line break
    return "".join(line + end for line, end in zip(lines, ends, strict=True)), lines


@st.composite
def chunks(draw: st.DrawFn, lines: list[str]) -> tuple[UpdateChunk, ...]:
    out: list[UpdateChunk] = []
    for _ in range(draw(st.integers(1, 3))):
        context = draw(st.one_of(st.none(), st.sampled_from(lines) if lines else LINE))
        if lines and draw(st.integers(0, 4)) > 0:
            start = draw(st.integers(0, len(lines) - 1))
            old = lines[start : draw(st.integers(start, len(lines)))]
        else:
            old = draw(st.lists(LINE, max_size=2))
        if old and draw(st.integers(0, 5)) == 0:
            old = [*old, ""]  # the trailing blank context line models often add
        new = draw(st.lists(LINE, max_size=3))
        out.append(UpdateChunk(context, tuple(old), tuple(new), draw(st.booleans())))
    return tuple(out)


def _by_lines(contents: str, patch: tuple[UpdateChunk, ...]) -> str | None:
    try:
        return derive_by_lines(contents, patch, "f")
    except PatchVerificationError:
        return None


@SETTINGS
@given(data=st.data())
def test_fast_path_agrees_with_the_line_path(data: st.DataObject) -> None:
    contents, lines = data.draw(files())
    patch = data.draw(chunks(lines))
    fast = update_exactly(contents, patch)
    if fast is not None:
        assert fast == _by_lines(contents, patch)


@pytest.mark.parametrize(
    ("contents", "patch", "expected"),
    [
        ("a\nb\nc\n", [UpdateChunk(None, ("b",), ("B",))], "a\nB\nc\n"),
        ("a\r\nb", [UpdateChunk(None, ("b",), ("B", "C"))], "a\r\nB\r\nC\r\n"),
        ("a\rb\r", [UpdateChunk("a", ("b",), ())], "a\r"),
        ("a\nb", [UpdateChunk(None, (), ("z",))], "a\nb\nz\n"),  # unterminated, then added
        ("a\n\n", [UpdateChunk(None, (), ("z",))], "a\n\nz\n"),  # after the final blank
        ("b\na\nb\n", [UpdateChunk("a", ("b",), ("B",))], "b\na\nB\n"),  # after the header
        ("ab\nb\n", [UpdateChunk(None, ("b",), ("B",))], "ab\nB\n"),  # whole lines only
        ("a\nb\n", [UpdateChunk(None, ("b",), ("x",), True)], "a\nx\n"),  # end of file
        ("a\nb\n", [UpdateChunk(None, ("a", "b"), ())], ""),
        ("x\na\nb\na", [UpdateChunk(None, ("a",), ("A",))], "x\nA\nb\na\n"),  # first of two
        ("a\nb", [UpdateChunk(None, ("b",), ("B",)), UpdateChunk(None, (), ("z",))], "a\nB\nz\n"),
        ("a\nb\n", [UpdateChunk(None, (), ("z",)), UpdateChunk(None, ("a",), ("A",))], "A\nb\nz\n"),
    ],
)
def test_fast_path_answers_the_common_cases(
    contents: str, patch: list[UpdateChunk], expected: str
) -> None:
    assert update_exactly(contents, tuple(patch)) == expected
    assert _by_lines(contents, tuple(patch)) == expected


@pytest.mark.parametrize(
    ("contents", "patch"),
    [
        ("a  \n", [UpdateChunk(None, ("a",), ("b",))]),  # fuzzy match
        ("a\r\nb\n", [UpdateChunk(None, ("b",), ("B",))]),  # mixed line breaks
        ("a\rb\r", [UpdateChunk(None, ("a\rb",), ("x",))]),  # a break inside a quoted line
        ("ab\n", [UpdateChunk(None, ("b",), ("x",), True)]),  # end of file, but mid-line
        ("a\nb\n", [UpdateChunk(None, ("b", ""), ("x", ""))]),  # retry without the blank
        ("", [UpdateChunk(None, (), ("x",))]),
        # `*** End of File` never reaches back over an earlier chunk: no match at all
        ("a\nb\n", [UpdateChunk(None, ("b",), ("x",)), UpdateChunk(None, ("a", "b"), (), True)]),
    ],
)
def test_fast_path_steps_aside(contents: str, patch: list[UpdateChunk]) -> None:
    assert update_exactly(contents, tuple(patch)) is None
