"""`view_image`: the model looks at an image file in the workspace (a screenshot, a plot).

The file is read and sent back as an `input_image` part of the call's output, so the next
request shows the model the picture itself. Errors use Codex's wording (models trained on
Codex know it): a missing file, a directory, data that is not an image.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from pycodex.protocol.event_payloads import ViewImageToolCallEvent
from pycodex.protocol.models import InputImage
from pycodex.tools.base import RespondToModel, ToolCall, ToolContext, ToolOutput, json_arguments

# Larger files are refused rather than sent: a request that big would fail anyway.
MAX_IMAGE_BYTES = 20 * 1024 * 1024
DETAILS = ("high", "original")

VIEW_IMAGE_SPEC: dict[str, Any] = {
    "type": "function",
    "name": "view_image",
    "description": (
        "Look at an image file from the workspace (PNG, JPEG, GIF or WebP), for example a "
        "screenshot or a rendered chart. The image is attached to the result."
    ),
    "strict": False,
    "parameters": {
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "description": "Path of the image, absolute or relative to the working directory.",
            },
            "detail": {
                "type": "string",
                "enum": list(DETAILS),
                "description": "`original` keeps full resolution; default `high`.",
            },
        },
        "required": ["path"],
        "additionalProperties": False,
    },
}

# Leading bytes of the formats the Responses API accepts.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_mime(data: bytes) -> str | None:
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class ViewImageHandler:
    name = "view_image"

    def spec(self) -> dict[str, Any]:
        return VIEW_IMAGE_SPEC

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        args = json_arguments(call)
        raw_path, detail = args.get("path"), args.get("detail", "high")
        if not isinstance(raw_path, str) or not raw_path:
            raise RespondToModel("failed to parse function arguments: `path` must be a non-empty string")
        if detail not in DETAILS:
            raise RespondToModel(
                "failed to parse function arguments: `detail` must be one of `high`, `original`"
            )
        path = ctx.resolve_path(raw_path)
        data = _read_image(path)
        mime = image_mime(data)
        if mime is None:
            raise RespondToModel("unable to process image: invalid or unsupported image data")
        url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
        ctx.emit(ViewImageToolCallEvent(call_id=call.call_id, path=str(path)))
        return ToolOutput(
            text=f"image {path} ({len(data)} bytes)", content=(InputImage(image_url=url, detail=detail),)
        )


def _read_image(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise RespondToModel(f"image path `{path}` is not a file")
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise RespondToModel(
                f"unable to process image: `{path}` is {size} bytes, over the {MAX_IMAGE_BYTES}-byte limit"
            )
        return path.read_bytes()
    except OSError as exc:
        raise RespondToModel(
            f"unable to locate image at `{path}`: {exc.strerror} (os error {exc.errno})"
        ) from None
