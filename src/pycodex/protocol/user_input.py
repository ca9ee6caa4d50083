"""What a user submits in a turn (``Op.user_input.items``, ``UserMessage`` turn items).

Tagged by ``type`` in snake_case: ``text``, ``image`` (a URL, usually a data: URL),
``local_image`` (a path, turned into a data URL when the request is built) and ``skill``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import msgspec

from pycodex.protocol._wire import OmitNone, WireModel, wire_union


class ByteRange(WireModel, kw_only=True):
    """UTF-8 byte offsets into the parent text: start inclusive, end exclusive."""

    start: int
    end: int


class TextElement(WireModel, kw_only=True):
    """A UI span inside the text (e.g. an image placeholder) that survives resume."""

    byte_range: ByteRange
    placeholder: OmitNone[str] = None


class TextInput(WireModel, kw_only=True):
    type: Literal["text"] = "text"
    text: str
    # Codex always writes the list, empty or not (rollout `UserMessage` items).
    text_elements: list[TextElement] = msgspec.field(default_factory=list)


class ImageInput(WireModel, kw_only=True):
    type: Literal["image"] = "image"
    image_url: str


class LocalImageInput(WireModel, kw_only=True):
    type: Literal["local_image"] = "local_image"
    path: str


class SkillInput(WireModel, kw_only=True):
    type: Literal["skill"] = "skill"
    name: str
    path: str


USER_INPUT_UNION = wire_union("user input", (TextInput, ImageInput, LocalImageInput, SkillInput))
if TYPE_CHECKING:
    UserInput = TextInput | ImageInput | LocalImageInput | SkillInput
else:
    UserInput = USER_INPUT_UNION


def text_input(text: str) -> TextInput:
    return TextInput(text=text)
