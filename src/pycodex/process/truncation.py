"""Bounded output: keep the head and the tail, say how much was cut.

A command's output goes to the model, whose context is precious, and to memory, which is
finite. Both want the start (what the command was doing) and the end (how it finished);
the middle of a 10 MB log is rarely worth its tokens.
"""

from __future__ import annotations


class HeadTailBuffer:
    """Accumulates bytes keeping at most `head_cap` first and `tail_cap` last bytes.

    Memory stays bounded however much is written; `omitted` counts what fell out.
    """

    def __init__(self, head_cap: int, tail_cap: int) -> None:
        self.head_cap = head_cap
        self.tail_cap = tail_cap
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def write(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_cap - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if not data or self.tail_cap <= 0:
            return
        self._tail += data
        if len(self._tail) > self.tail_cap:
            del self._tail[: len(self._tail) - self.tail_cap]

    @property
    def omitted(self) -> int:
        return self.total - len(self._head) - len(self._tail)

    def render(self) -> str:
        """The kept text, with a marker where bytes were dropped."""
        head = self._head.decode("utf-8", errors="replace")
        if not self._tail:
            return head
        tail = self._tail.decode("utf-8", errors="replace")
        if self.omitted == 0:
            return (bytes(self._head) + bytes(self._tail)).decode("utf-8", errors="replace")
        return f"{head}\n... {self.omitted} bytes omitted ...\n{tail}"


BYTES_PER_TOKEN = 4


def approx_tokens(n_bytes: int) -> int:
    """Codex's token estimate: 4 bytes a token, rounded up."""
    return (n_bytes + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN


def _line_count(text: str) -> int:
    # Rust's `str::lines().count()`: a final newline does not start another line.
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def truncate_to_token_budget(
    text: str, max_tokens: int, *, total_bytes: int | None = None, omitted_bytes: int = 0
) -> str:
    """Codex's cut of a process's output for the model (`exec_command`, `write_stdin`).

    Within `max_tokens` (estimated at 4 bytes each) the text is unchanged. Otherwise the
    first and last `2 * max_tokens` bytes stay (never splitting a character), joined by
    `…N tokens truncated…`, under a header giving the original size and the line count
    (or, when the process buffer already dropped bytes, how many). Models trained on
    Codex read this exact shape, so it is kept byte for byte.
    """
    raw = text.encode("utf-8")
    tokens = approx_tokens(len(raw))
    budget = max(max_tokens, 0)
    if tokens <= budget:
        return text
    original = approx_tokens(total_bytes if total_bytes is not None else len(raw))
    second = (
        f"... {omitted_bytes} bytes omitted ..."
        if omitted_bytes
        else f"Total output lines: {_line_count(text)}"
    )
    keep = budget * BYTES_PER_TOKEN // 2
    head = raw[:keep].decode("utf-8", errors="ignore")
    tail = raw[len(raw) - keep :].decode("utf-8", errors="ignore") if keep else ""
    return (
        f"Warning: truncated output (original token count: {original})\n{second}\n\n"
        f"{head}\u2026{tokens - budget} tokens truncated\u2026{tail}"
    )


def truncate_middle(text: str, max_bytes: int) -> tuple[str, int]:
    """`text` cut to about `max_bytes` UTF-8 bytes, keeping head and tail on line breaks.

    Returns the text and the number of bytes removed (0 when it fit). Cuts prefer line
    boundaries so the model never sees half a line presented as whole.
    """
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text, 0
    half = max(max_bytes // 2, 1)
    head = raw[:half]
    tail = raw[len(raw) - half :]
    nl = head.rfind(b"\n")
    if nl > half // 2:
        head = head[: nl + 1]
    nl = tail.find(b"\n")
    if 0 <= nl < half // 2:
        tail = tail[nl + 1 :]
    removed = len(raw) - len(head) - len(tail)
    marker = f"\n[... {removed} bytes truncated ...]\n"
    return (
        head.decode("utf-8", errors="ignore") + marker + tail.decode("utf-8", errors="ignore"),
        removed,
    )
