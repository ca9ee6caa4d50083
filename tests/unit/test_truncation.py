from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycodex.process.truncation import HeadTailBuffer, truncate_middle, truncate_to_token_budget


def test_short_text_is_untouched() -> None:
    assert truncate_middle("hello\n", 100) == ("hello\n", 0)


def test_long_text_keeps_head_and_tail_and_says_how_much_was_cut() -> None:
    text = "".join(f"line {i}\n" for i in range(10_000))
    out, removed = truncate_middle(text, 1000)
    assert out.startswith("line 0\n")
    assert out.endswith("line 9999\n")
    assert f"[... {removed} bytes truncated ...]" in out
    assert removed > 0 and len(out.encode()) < 1200


@given(st.binary(max_size=5000), st.integers(1, 64), st.integers(0, 64))
def test_head_tail_buffer_keeps_exact_head_and_tail(data: bytes, head: int, tail: int) -> None:
    buf = HeadTailBuffer(head, tail)
    for i in range(0, len(data), 7):
        buf.write(data[i : i + 7])
    assert buf.total == len(data)
    kept_head = data[:head]
    kept_tail = data[head:][-tail:] if tail and len(data) > head else b""
    assert buf.omitted == len(data) - len(kept_head) - len(kept_tail)
    if buf.omitted == 0:
        assert buf.render() == (kept_head + kept_tail).decode("utf-8", errors="replace")


def _seq(n: int) -> str:
    return "".join(f"{i}\n" for i in range(1, n + 1))


def test_token_budget_cut_is_byte_identical_to_codex() -> None:
    # Codex 0.163's model output for `seq 1 100` with max_output_tokens=10.
    assert truncate_to_token_budget(_seq(100), 10) == (
        "Warning: truncated output (original token count: 73)\nTotal output lines: 100\n\n"
        "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\u202663 tokens truncated\u2026\n95\n96\n97\n98\n99\n100\n"
    )


@pytest.mark.parametrize(
    ("text", "max_tokens", "header", "removed", "head_bytes", "tail_bytes"),
    [
        # (input, budget) -> what Codex 0.163 sent for the same command output.
        (_seq(3000), 200, "original token count: 3474)\nTotal output lines: 3000", 3274, 400, 400),
        (_seq(12000), 10_000, "original token count: 15224)\nTotal output lines: 12000", 5224, 20000, 20000),
        # A tail that would start inside a two-byte character starts after it.
        ("\u00e9" * 30000 + "\n", 10_000, "original token count: 15001)\nTotal output lines: 1", 5001, 20000, 19999),
        ("x" * 50000 + "\n", 10_000, "original token count: 12501)\nTotal output lines: 1", 2501, 20000, 20000),
        (_seq(3000), 0, "original token count: 3474)\nTotal output lines: 3000", 3474, 0, 0),
    ],
)
def test_token_budget_cut_matches_codex_shape(
    text: str, max_tokens: int, header: str, removed: int, head_bytes: int, tail_bytes: int
) -> None:
    out = truncate_to_token_budget(text, max_tokens)
    first, kept = out.split("\n\n", 1)
    assert first == f"Warning: truncated output ({header}"
    head, tail = kept.split(f"\u2026{removed} tokens truncated\u2026")
    assert len(head.encode()) == head_bytes and text.startswith(head)
    assert len(tail.encode()) == tail_bytes and text.endswith(tail)


def test_token_budget_leaves_fitting_output_alone_and_names_dropped_bytes() -> None:
    assert truncate_to_token_budget("short\n", 10) == "short\n"
    out = truncate_to_token_budget("a" * 100, 5, total_bytes=1000, omitted_bytes=900)
    assert out.startswith(
        "Warning: truncated output (original token count: 250)\n... 900 bytes omitted ...\n\n"
    )
