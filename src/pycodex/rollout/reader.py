"""Reading rollout files back: whole lines only, unknown kinds kept for the caller to skip.

A rollout is append-only JSONL written one complete line per `write()`; a crash (kill -9,
power loss) can leave at most one partial last line. The reader stops at the last newline
and reports how many bytes are whole (`valid_bytes`) so the recorder can cut the partial
tail off before it appends again. A line that is not a JSON object is skipped and counted,
never fatal: one damaged line must not make a whole thread unreadable.

Standard library and msgspec only: `pycodex threads list` and the index rebuild use it on the cold
path; typed views of the payloads are built in `pycodex.core.resume`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from pycodex.protocol._wire import peek_type

# `rollout-2026-11-21T16-12-03-<uuid>.jsonl`
ROLLOUT_NAME_RE = re.compile(
    r"^rollout-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-(?P<id>[0-9a-fA-F-]{36})\.jsonl$"
)


class RolloutRecord(msgspec.Struct):
    """One line: `{"timestamp", "ordinal", "type", "payload"}`.

    The payload is kept as the line's raw JSON and decoded on first access: resuming a big
    thread needs the response items and a few markers, not every event's payload.
    """

    ordinal: int
    type: str
    raw_payload: msgspec.Raw
    timestamp: str = ""
    decoded: dict[str, Any] | None = None

    @classmethod
    def of(cls, ordinal: int, kind: str, payload: dict[str, Any], timestamp: str = "") -> RolloutRecord:
        return cls(ordinal, kind, msgspec.Raw(b""), timestamp, payload)

    @property
    def payload(self) -> dict[str, Any]:
        if self.decoded is None:
            self.decoded = _object_decoder.decode(self.raw_payload)
        return self.decoded

    @property
    def payload_type(self) -> str | None:
        """The payload's `type` (an event's kind), without building the whole payload."""
        if self.decoded is not None:
            kind = self.decoded.get("type")
            return kind if isinstance(kind, str) else None
        try:
            kind = peek_type(self.raw_payload)
        except msgspec.DecodeError:
            return None
        return kind if isinstance(kind, str) else None


class _Line(msgspec.Struct):
    """A well-formed line, payload left undecoded."""

    type: str
    payload: msgspec.Raw
    timestamp: str = ""
    ordinal: int | None = None


_line_decoder = msgspec.json.Decoder(_Line)
_object_decoder = msgspec.json.Decoder(dict[str, Any])


class RolloutFile(msgspec.Struct):
    path: Path
    records: list[RolloutRecord] = msgspec.field(default_factory=list)
    # Length of the prefix made of whole lines; bytes after it are a crash's partial line.
    valid_bytes: int = 0
    partial_tail: bool = False
    # Whole lines that were not JSON objects (skipped).
    skipped: int = 0
    # Whether the text mentions a rollback marker at all (False: no record can be one; a
    # 100 MB thread need not peek at 40k events to find none).
    may_have_rollbacks: bool = True

    @property
    def meta(self) -> dict[str, Any] | None:
        for record in self.records:
            if record.type == "session_meta":
                return record.payload
        return None

    @property
    def next_ordinal(self) -> int:
        """The ordinal the next appended line must carry."""
        last = -1
        for record in self.records:
            last = max(last, record.ordinal)
        return last + 1


def parse_rollout_name(name: str) -> tuple[dt.datetime, str] | None:
    """(local start time, thread id) from a rollout file name, or None."""
    m = ROLLOUT_NAME_RE.match(name)
    if m is None:
        return None
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    try:
        when = dt.datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None
    return when, m.group("id").lower()


def timestamp_ms(value: str) -> int | None:
    """`2026-11-21T16:12:03.976Z` → Unix milliseconds (None when unparsable)."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def whole_lines(data: bytes) -> tuple[bytes, bool]:
    """The prefix of `data` that ends with a newline, and whether bytes followed it."""
    end = data.rfind(b"\n") + 1
    return data[:end], end < len(data)


def parse_line(line: bytes | str, fallback_ordinal: int) -> RolloutRecord | None:
    """One line → record; None for blank or malformed lines."""
    try:
        parsed = _line_decoder.decode(line)
    except msgspec.DecodeError:
        return _parse_odd_line(line, fallback_ordinal)
    if bytes(memoryview(parsed.payload)[:1]) != b"{":  # a record's payload is an object
        return None
    ordinal = parsed.ordinal if parsed.ordinal is not None else fallback_ordinal
    return RolloutRecord(ordinal, parsed.type, parsed.payload, parsed.timestamp)


def _parse_odd_line(line: bytes | str, fallback_ordinal: int) -> RolloutRecord | None:
    """A line the strict shape refused: keep it if it is a record with odd extras (a
    timestamp that is not a string, say), as the lenient reader always did."""
    try:
        obj = msgspec.json.decode(line)
    except msgspec.DecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    kind, payload = obj.get("type"), obj.get("payload")
    if not isinstance(kind, str) or not isinstance(payload, dict):
        return None
    ordinal, ts = obj.get("ordinal"), obj.get("timestamp")
    return RolloutRecord.of(
        ordinal if isinstance(ordinal, int) and not isinstance(ordinal, bool) else fallback_ordinal,
        kind,
        payload,
        ts if isinstance(ts, str) else "",
    )


def iter_records(data: bytes) -> Iterator[RolloutRecord | None]:
    """Records of whole lines (None for a malformed line). Ordinals missing from old files
    are numbered by position."""
    prev = -1
    for line in data.split(b"\n"):
        if not line:
            continue
        record = parse_line(line, prev + 1)
        if record is not None:
            prev = record.ordinal
        yield record


def read_rollout(path: Path) -> RolloutFile:
    """Every whole line of a rollout. Raises `OSError` if the file cannot be read."""
    with open(path, "rb") as fh:
        data = fh.read()
    whole, partial = whole_lines(data)
    result = RolloutFile(path=path, valid_bytes=len(whole), partial_tail=partial)
    result.may_have_rollbacks = b"thread_rolled_back" in whole
    del data
    fast = _all_records(whole)
    if fast is not None:
        result.records = fast
        return result
    records = result.records
    for record in iter_records(whole):
        if record is None:
            result.skipped += 1
        else:
            records.append(record)
    return result


def _all_records(whole: bytes) -> list[RolloutRecord] | None:
    """Every line in one decoder call (~85k lines of a big thread cost more in per-line
    calls than in decoding). None when a line is malformed: the line-by-line reader then
    skips just that line."""
    try:
        lines = _line_decoder.decode_lines(whole)
    except msgspec.DecodeError:
        return None
    records: list[RolloutRecord] = []
    prev = -1
    for line in lines:
        if bytes(memoryview(line.payload)[:1]) != b"{":
            return None
        ordinal = line.ordinal if line.ordinal is not None else prev + 1
        records.append(RolloutRecord(ordinal, line.type, line.payload, line.timestamp))
        prev = ordinal
    return records


def read_session_meta(path: Path, max_bytes: int = 1 << 20) -> dict[str, Any] | None:
    """The `session_meta` payload from the first line only (cheap for listings)."""
    try:
        with open(path, "rb") as fh:
            head = fh.readline(max_bytes)
    except OSError:
        return None
    if not head.endswith(b"\n"):
        return None
    record = parse_line(head, 0)
    if record is None or record.type != "session_meta":
        return None
    return record.payload


def valid_length(fd: int) -> tuple[int, int]:
    """(size, length of the whole-line prefix) of an open file, reading only its tail."""
    size = os.fstat(fd).st_size
    pos = size
    chunk = 64 * 1024
    while pos > 0:
        start = max(0, pos - chunk)
        block = os.pread(fd, pos - start, start)
        idx = block.rfind(b"\n")
        if idx >= 0:
            return size, start + idx + 1
        pos = start
    return size, 0
