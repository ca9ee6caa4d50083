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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

# `rollout-2026-11-21T16-12-03-<uuid>.jsonl`
ROLLOUT_NAME_RE = re.compile(
    r"^rollout-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-(?P<id>[0-9a-fA-F-]{36})\.jsonl$"
)


class RolloutRecord(msgspec.Struct):
    """One line: `{"timestamp", "ordinal", "type", "payload"}`."""

    ordinal: int
    type: str
    payload: dict[str, Any]
    timestamp: str = ""


class RolloutFile(msgspec.Struct):
    path: Path
    records: list[RolloutRecord] = msgspec.field(default_factory=list)
    # Length of the prefix made of whole lines; bytes after it are a crash's partial line.
    valid_bytes: int = 0
    partial_tail: bool = False
    # Whole lines that were not JSON objects (skipped).
    skipped: int = 0

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


def _json_loads() -> Callable[[bytes | str], Any]:
    """msgspec's JSON parser (several times faster than the stdlib's on big rollouts),
    imported on first use only. Strict JSON: NaN/Infinity are refused, as by Codex."""
    import msgspec

    decoder = msgspec.json.Decoder()

    def loads(data: bytes | str) -> Any:
        try:
            return decoder.decode(data)
        except msgspec.DecodeError as exc:  # callers treat ValueError as "not a record"
            raise ValueError(str(exc)) from None

    return loads


_loads: Callable[[bytes | str], Any] | None = None


def parse_line(line: bytes | str, fallback_ordinal: int) -> RolloutRecord | None:
    """One line → record; None for blank or malformed lines."""
    global _loads
    if not line.strip():
        return None
    if _loads is None:
        _loads = _json_loads()
    try:
        obj = _loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    kind = obj.get("type")
    payload = obj.get("payload")
    if not isinstance(kind, str) or not isinstance(payload, dict):
        return None
    ordinal = obj.get("ordinal")
    ts = obj.get("timestamp")
    return RolloutRecord(
        ordinal=ordinal if isinstance(ordinal, int) else fallback_ordinal,
        type=kind,
        payload=payload,
        timestamp=ts if isinstance(ts, str) else "",
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
    records = result.records
    for record in iter_records(whole):
        if record is None:
            result.skipped += 1
        else:
            records.append(record)
    return result


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
