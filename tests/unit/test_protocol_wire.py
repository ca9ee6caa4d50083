"""The serialization layer under every protocol type (`pycodex.protocol._wire`)."""

from __future__ import annotations

import typing

import pytest

import pycodex.protocol.events
import pycodex.protocol.models
import pycodex.protocol.ops  # defines the op structs walked below
from pycodex.protocol import _wire


def _all_structs() -> list[type[_wire._WireBase]]:
    seen: list[type[_wire._WireBase]] = []
    stack = list(_wire._WireBase.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls not in seen and cls.__module__.startswith("pycodex.protocol"):
            seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


STRUCTS = _all_structs()


def test_the_walk_found_the_protocol() -> None:
    names = {cls.__name__ for cls in STRUCTS}
    assert {"MessageItem", "SessionConfiguredEvent", "UserTurnOp", "TokenUsage"} <= names
    assert len(STRUCTS) > 100


@pytest.mark.parametrize("cls", STRUCTS, ids=lambda cls: cls.__name__)
def test_encoding_read_from_annotation_text_matches_the_resolved_types(
    cls: type[_wire._WireBase],
) -> None:
    """Encoding plans are read from the annotation text (cheap). The omission rule must be
    exactly the resolved types' one; "plain" (copied as is) may only be claimed where the
    resolved type has no struct or enum inside, or one would be written as a Python object
    instead of JSON (the text reading may be more cautious: an alias is just walked)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    for attr, _key, omit, plain in _wire._plan(cls).fields:
        assert omit == _wire._omit_mode(hints[attr]), attr
        assert not plain or _wire._is_plain(hints[attr]), attr


def test_text_reading_sees_structs_and_omission() -> None:
    assert _wire._encoding_of("OmitNone[str]", object, "x") == (1, True)
    assert _wire._encoding_of("OmitFalse", object, "x") == (2, True)
    assert _wire._encoding_of("list[ContentItem]", object, "x") == (0, False)
    assert _wire._encoding_of("Literal['a', 'b']", object, "x") == (0, True)
    assert _wire._encoding_of("dict[str, Any]", object, "x") == (0, False)


def test_unknown_keys_nested_in_a_plain_struct_survive() -> None:
    wire = {"type": "reasoning", "summary": [{"type": "summary_text", "text": "t", "new": 1}]}
    item = pycodex.protocol.models.parse_response_item(wire)
    assert item.to_wire() == wire


def test_nested_error_paths_are_joined() -> None:
    with pytest.raises(_wire.WireError) as err:
        pycodex.protocol.events.parse_event_msg(
            {"type": "item_completed", "thread_id": "t", "turn_id": "u",
             "item": {"type": "UserMessage", "id": "i", "content": [{"type": "text", "text": 3}]}}
        )
    assert str(err.value) == "Expected `str`, got `int` - at `$.item.content[0].text`"


# --- decoding straight from JSON text (resume) ------------------------------------------------


RAW_ITEMS = [
    {"type": "message", "role": "assistant", "status": "completed",
     "content": [{"type": "output_text", "text": "a", "annotations": []}, {"type": "refusal", "refusal": "no"}]},
    {"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "c1", "status": "done"},
    {"type": "function_call_output", "call_id": "c1", "output": [{"type": "input_text", "text": "x", "new": 1}]},
    {"type": "reasoning", "summary": [], "encrypted_content": "e"},
    {"type": "compaction_summary", "encrypted_content": "z"},
    {"type": "future_item", "x": None},
]


@pytest.mark.parametrize("wire", RAW_ITEMS, ids=lambda w: w["type"])
def test_an_item_read_from_json_equals_one_read_from_a_dict(wire: dict[str, object]) -> None:
    import json

    import msgspec

    from pycodex.protocol.models import parse_response_item, parse_response_item_json

    text = json.dumps(wire).encode()
    from_json = parse_response_item_json(text)
    from_dict = parse_response_item(wire)
    assert from_json == from_dict
    assert type(from_json) is type(from_dict)
    assert from_json.to_wire() == wire == from_dict.to_wire()
    assert from_json.wire_extra() == from_dict.wire_extra()
    # Sent again as read: the encoded request carries the same JSON value.
    assert json.loads(msgspec.json.encode(from_json.wire_json())) == wire


def test_a_copy_of_an_item_read_from_json_is_encoded_afresh() -> None:
    from pycodex.protocol.models import parse_response_item_json

    item = parse_response_item_json(b'{"type":"function_call","name":"a","arguments":"{}","call_id":"c"}')
    changed = _wire.replace(item, name="b")
    assert changed.to_wire()["name"] == "b"
    assert isinstance(changed.wire_json(), dict)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"type":"function_call","name":"x"}', "Object missing required field `arguments`"),
        (b'{"type":"message","role":"user","content":[{"type":"input_text","text":3}]}',
         "Expected `str`, got `int` - at `$.content[0].text`"),
        (b'{"type":"message"', "truncated"),
        (b'[1]', "Expected `object`, got `array`"),
        (b'{"type":"from_the_future","x":', "truncated"),
    ],
)
def test_bad_json_items_fail_like_bad_dicts(text: bytes, message: str) -> None:
    from pycodex.protocol.models import parse_response_item_json

    with pytest.raises(_wire.WireError, match=message.replace("$", r"\$").replace("[", r"\[")):
        parse_response_item_json(text)
