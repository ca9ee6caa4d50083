"""How command results are shown to the model: exit code, wall time, bounded output."""

from __future__ import annotations

from pycodex.process.spawn import ExecResult
from pycodex.process.truncation import truncate_middle

# What the model gets of a command's output. Head and tail survive; the middle is cut
# with a note saying how much, so the model can re-run with a narrower command.
MODEL_OUTPUT_MAX_BYTES = 16 * 1024


def format_exec_output(result: ExecResult, timeout_ms: int | None) -> str:
    body, removed = truncate_middle(result.aggregated, MODEL_OUTPUT_MAX_BYTES)
    lines = [f"Exit code: {result.exit_code}", f"Wall time: {result.duration_s:.1f} seconds"]
    if removed or result.output_bytes > len(result.aggregated.encode("utf-8", "replace")):
        lines.append(f"Total output: {result.output_bytes} bytes (middle truncated)")
    prefix = ""
    if result.timed_out:
        prefix = f"command timed out after {timeout_ms} milliseconds\n"
    return "\n".join(lines) + "\nOutput:\n" + prefix + body
