"""What a user submits in a turn (``Op.user_input.items``, ``UserMessage`` turn items).

Tagged by ``type`` in snake_case: ``text``, ``image`` (a URL, usually a data: URL),
``local_image`` (a path, turned into a data URL when the request is built) and ``skill``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from pycodex.protocol._wire import OmitNone, WireModel


class ByteRange(WireModel):
    """UTF-8 byte offsets into the parent text: start inclusive, end exclusive."""

    start: int
    end: int


class TextElement(WireModel):
    """A UI span inside the text (e.g. an image placeholder) that survives resume."""

    byte_range: ByteRange
    placeholder: OmitNone[str] = None


class TextInput(WireModel):
    type: Literal["text"] = "text"
    text: str
    # Codex always writes the list, empty or not (rollout `UserMessage` items).
    text_elements: list[TextElement] = Field(default_factory=list)


class ImageInput(WireModel):
    type: Literal["image"] = "image"
    image_url: str


class LocalImageInput(WireModel):
    type: Literal["local_image"] = "local_image"
    path: str


class SkillInput(WireModel):
    type: Literal["skill"] = "skill"
    name: str
    path: str


UserInput = Annotated[
    TextInput | ImageInput | LocalImageInput | SkillInput, Field(discriminator="type")
]


def text_input(text: str) -> TextInput:
    return TextInput(text=text)
