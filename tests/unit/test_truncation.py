from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pycodex.process.truncation import HeadTailBuffer, truncate_middle


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
