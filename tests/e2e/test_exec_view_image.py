"""`view_image`: the model asks to see an image file; the next request carries the image."""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import pytest

from tests.support.exec_cli import ExecHarness, call_outputs
from tests.support.mock_model import MockModelServer, function_call, message, response

pytestmark = pytest.mark.e2e


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(b"\x00\xff\x00\x00\xff\x00\x00" * 2)
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def view(harness: ExecHarness, mock: MockModelServer, args: dict[str, object]) -> object:
    mock.enqueue(response(function_call("view_image", args)), response(message("seen")))
    r = harness.run("--json", "look at it")
    assert r.rc == 0, r.stderr
    [(_, output)] = call_outputs(mock.model_requests()[-1])
    return output


def test_the_image_comes_back_as_an_input_image(harness: ExecHarness, mock_model: MockModelServer) -> None:
    png = tiny_png()
    (harness.workspace / "shot.png").write_bytes(png)
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()

    assert view(harness, mock_model, {"path": "shot.png"}) == [
        {"type": "input_image", "image_url": data_url, "detail": "high"}
    ]
    assert view(harness, mock_model, {"path": "shot.png", "detail": "original"}) == [
        {"type": "input_image", "image_url": data_url, "detail": "original"}
    ]


def test_problems_are_told_in_codex_words(harness: ExecHarness, mock_model: MockModelServer) -> None:
    ws: Path = harness.workspace
    (ws / "notes.txt").write_text("not a picture")
    assert view(harness, mock_model, {"path": "missing.png"}) == (
        f"unable to locate image at `{ws / 'missing.png'}`: No such file or directory (os error 2)"
    )
    assert view(harness, mock_model, {"path": "."}) == f"image path `{ws}` is not a file"
    assert view(harness, mock_model, {"path": "notes.txt"}) == (
        "unable to process image: invalid or unsupported image data"
    )


def test_bad_arguments_and_huge_files_are_refused(harness: ExecHarness, mock_model: MockModelServer) -> None:
    (harness.workspace / "shot.png").write_bytes(tiny_png())
    huge = harness.workspace / "huge.png"
    with huge.open("wb") as fh:  # sparse: 21 MB on paper, nothing on disk
        fh.write(tiny_png())
        fh.truncate(21 * 1024 * 1024)
    assert view(harness, mock_model, {"path": "shot.png", "detail": "low"}) == (
        "failed to parse function arguments: `detail` must be one of `high`, `original`"
    )
    assert view(harness, mock_model, {}) == (
        "failed to parse function arguments: `path` must be a non-empty string"
    )
    assert view(harness, mock_model, {"path": "huge.png"}) == (
        f"unable to process image: `{huge}` is {21 * 1024 * 1024} bytes, over the 20971520-byte limit"
    )


def test_offered_to_image_models_only(harness: ExecHarness, mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(message("a")), response(message("b")))
    assert harness.run("--json", "hi").rc == 0
    assert harness.run("--json", "-m", "qwen2.5-coder", "hi").rc == 0
    gpt, local = ([t.get("name") for t in r.body["tools"]] for r in mock_model.model_requests())
    assert "view_image" in gpt and gpt.index("view_image") == gpt.index("apply_patch") + 1
    assert "view_image" not in local
