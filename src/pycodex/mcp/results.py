"""An MCP `CallToolResult` as the model is shown it (Codex's mapping).

`result` is the JSON-RPC result object as the server sent it (`content`,
`structuredContent`, `isError`, `_meta`). The output starts with a `Wall time: … seconds
/ Output:` header; then `structuredContent` (when present) as compact JSON text, else the
content blocks one by one: text as text, images as images (or a note for a model that
cannot see them), and anything else — resource links, embedded resources, audio — as the
block's own JSON, so the model loses nothing it could use.
"""

from __future__ import annotations

import json
from typing import Any

from pycodex.protocol.models import ContentItem, InputImage, InputText

IMAGE_OMITTED = "<image content omitted because you do not support image input>"
_DETAILS = frozenset({"auto", "low", "high", "original"})
_DEFAULT_DETAIL = "high"
# A server may ask for a detail level per image (Codex's `_meta` key).
_DETAIL_META_KEY = "codex/imageDetail"


def error_result(message: str) -> dict[str, Any]:
    """What a call that never got a result (timeout, crash, refusal) answers."""
    return {"content": [{"type": "text", "text": message}], "isError": True}


def is_error(result: dict[str, Any]) -> bool:
    return result.get("isError") is True


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def model_output(
    result: dict[str, Any], *, wall_time_sec: float, supports_images: bool
) -> str | list[ContentItem]:
    header = f"Wall time: {wall_time_sec:.4f} seconds\nOutput:"
    structured = result.get("structuredContent")
    if structured is not None:
        return f"{header}\n{compact_json(structured)}"
    blocks = result.get("content")
    items: list[ContentItem] = [InputText(text=header)]
    for block in blocks if isinstance(blocks, list) else []:
        items.append(_content_item(block, supports_images))
    return items


def _content_item(block: Any, supports_images: bool) -> ContentItem:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text" and isinstance(block.get("text"), str):
        return InputText(text=block["text"])
    if kind == "image" and isinstance(block.get("data"), str):
        if not supports_images:
            return InputText(text=IMAGE_OMITTED)
        return InputImage(image_url=_data_url(block), detail=_detail(block))
    return InputText(text=compact_json(block))


def _data_url(block: dict[str, Any]) -> str:
    data: str = block["data"]
    if data.startswith("data:"):
        return data
    mime = block.get("mimeType") or "application/octet-stream"
    return f"data:{mime};base64,{data}"


def _detail(block: dict[str, Any]) -> str:
    meta = block.get("_meta")
    wanted = meta.get(_DETAIL_META_KEY) if isinstance(meta, dict) else None
    return wanted if wanted in _DETAILS else _DEFAULT_DETAIL


def text_summary(output: str | list[ContentItem]) -> str:
    """The output as one string, for logs and for `ToolOutput.text`."""
    if isinstance(output, str):
        return output
    parts: list[str] = []
    for item in output:
        if isinstance(item, InputText):
            parts.append(item.text)
        elif isinstance(item, InputImage):
            parts.append("<image>")
    return "\n".join(parts)
