"""Keeping rollouts bounded: oversized tool outputs are stored head + tail.

A command that prints 200 MB, or an MCP tool that returns a huge document, must not make
the rollout (and every later resume) that big. Only the *stored* copy is cut: the model
keeps seeing the full output for the rest of the session. A resumed session sees the cut
copy, which says how much was left out.

Only tool outputs are cut (`function_call_output`, `custom_tool_call_output`, and the
`output` of unknown `*_output` items): messages and calls are the conversation itself.
"""

from __future__ import annotations

from typing import Any

DEFAULT_MAX_ITEM_BYTES = 256 * 1024
_OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output"})


def truncation_notice(original_bytes: int, kept_bytes: int) -> str:
    return (
        f"\n\n[... {original_bytes - kept_bytes} of {original_bytes} bytes omitted from the "
        "stored rollout ...]\n\n"
    )


def cut_text(text: str, max_bytes: int) -> str:
    """`text` if its UTF-8 form fits `max_bytes`, else its head and tail with a notice."""
    if len(text) * 4 <= max_bytes:  # cheap upper bound: fits whatever the characters
        return text
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    half = max(max_bytes // 2, 1)
    head = data[:half].decode("utf-8", errors="ignore")
    tail = data[-half:].decode("utf-8", errors="ignore")
    kept = len(head.encode("utf-8")) + len(tail.encode("utf-8"))
    return head + truncation_notice(len(data), kept) + tail


def bound_output(output: Any, max_bytes: int) -> Any:
    if isinstance(output, str):
        return cut_text(output, max_bytes)
    if isinstance(output, list):
        budget = max_bytes
        parts: list[Any] = []
        for part in output:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                text = cut_text(part["text"], max(budget, 1024))
                budget -= len(text)
                parts.append({**part, "text": text})
            elif isinstance(part, dict) and isinstance(part.get("image_url"), str) and len(
                part["image_url"]
            ) > max_bytes:
                size = len(part["image_url"])
                parts.append({"type": "input_text", "text": f"[image of {size} bytes omitted from the stored rollout]"})
            else:
                parts.append(part)
        return parts
    return output


def bound_response_item(payload: dict[str, Any], max_bytes: int | None) -> dict[str, Any]:
    """The payload to store: tool outputs over `max_bytes` cut (a new dict; input untouched)."""
    if not max_bytes or max_bytes <= 0:
        return payload
    kind = payload.get("type")
    if kind not in _OUTPUT_TYPES and not (isinstance(kind, str) and kind.endswith("_output")):
        return payload
    output = payload.get("output")
    if output is None:
        return payload
    bounded = bound_output(output, max_bytes)
    if bounded is output:
        return payload
    return {**payload, "output": bounded}
