"""The incremental SSE decoder: chunk boundaries, comments, multi-line data, line endings."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pycodex.client.sse import SseDecoder, SseEvent

STREAM = (
    "\ufeff: hello comment\n"
    "event: response.created\n"
    'data: {"type": "response.created", "text": "h\u00e9llo \u2603"}\n'
    "\n"
    ": keepalive\n"
    "\n"
    "id: 7\n"
    "retry: 1500\n"
    "data: line one\n"
    "data:line two\n"
    "data\n"
    "\n"
    "event: ignored-without-data\n"
    "\n"
    "data: last\n"
    "\n"
).encode()

EXPECTED = [
    SseEvent("response.created", '{"type": "response.created", "text": "h\u00e9llo \u2603"}'),
    SseEvent("message", "line one\nline two\n", id="7", retry_ms=1500),
    SseEvent("message", "last", id="7", retry_ms=1500),
]


def _decode(chunks: list[bytes]) -> list[SseEvent]:
    decoder = SseDecoder()
    out: list[SseEvent] = []
    for chunk in chunks:
        out += decoder.feed(chunk)
    return out + decoder.close()


def test_whole_stream() -> None:
    assert _decode([STREAM]) == EXPECTED


def test_every_single_split_point_and_bytewise() -> None:
    for cut in range(len(STREAM) + 1):
        assert _decode([STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut
    assert _decode([bytes([b]) for b in STREAM]) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12), st.sampled_from(["\n", "\r\n", "\r"]))
def test_arbitrary_chunking_and_line_endings(cuts: list[int], newline: str) -> None:
    data = STREAM.replace(b"\n", newline.encode())
    points = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert _decode(chunks) == EXPECTED


def test_crlf_split_between_cr_and_lf_is_one_line_ending() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r") == []
    assert decoder.feed(b"\n") == [SseEvent("message", "a")]


def test_close_drops_incomplete_line_but_keeps_complete_event() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: [DONE]\n") == []
    assert decoder.close() == [SseEvent("message", "[DONE]")]
    decoder = SseDecoder()
    decoder.feed(b"data: trunc")
    assert decoder.close() == []
