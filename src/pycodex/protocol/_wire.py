"""Serialization building blocks shared by every protocol module.

The protocol types are ``msgspec.Struct`` classes: defining one costs microseconds (a
pydantic model cost ~1–3 ms, ~250 ms of every start-up for the whole protocol), and
``msgspec.convert`` validates strictly in C. What msgspec does not do, this module adds:

* **Codex's per-field null handling.** Codex (Rust/serde) decides per field whether an
  absent value is written as ``null`` or left out (``skip_serializing_if``). Rollouts
  written by Codex depend on that difference, so fields annotated :data:`OmitNone` are left
  out when ``None`` (and :data:`OmitFalse` when ``False``); plain ``X | None`` fields are
  written as ``null``. :meth:`WireModel.to_wire` writes ``type`` first, as serde does for
  internally tagged enums.
* **Unknown keys survive.** A :class:`WireModel` read from a provider or a rollout keeps the
  keys it does not declare, at every nesting level, and writes them back verbatim (nulls
  included): pycodex never silently drops data a newer Codex or the model produced.
  :class:`StrictWireModel` (inputs pycodex builds itself) rejects them instead.
* **Open tagged unions.** msgspec's tagged unions fail on an unknown tag and hide the tag
  field; ours keep ``type`` an ordinary attribute and can fall back to a catch-all variant
  (``OtherItem``). :func:`wire_union` makes a union usable as a field type.

Validation errors are :class:`WireError` (a ``ValueError``) with one message naming the
offending path: ``Expected `str`, got `int` - at `$.content[0].text```.
"""

from __future__ import annotations

import abc
import inspect
import re
import typing
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, ClassVar, Self, TypeAlias, TypeVar

import msgspec

T = TypeVar("T")
M = TypeVar("M", bound="_WireBase")

_OMIT_NONE = msgspec.Meta(extra={"pycodex_omit": "none"})
_OMIT_FALSE = msgspec.Meta(extra={"pycodex_omit": "false"})

# `skip_serializing_if = "Option::is_none"`: left out of the JSON when None.
OmitNone: TypeAlias = Annotated[T | None, _OMIT_NONE]
# `skip_serializing_if = "std::ops::Not::not"`: left out of the JSON when False.
OmitFalse: TypeAlias = Annotated[bool, _OMIT_FALSE]

# Where a struct keeps the keys it does not declare (in its instance __dict__).
_EXTRA = "_wire_extra"
# Where it keeps the JSON it was read from (`WireUnion.parse_json`). Protocol values are
# never changed in place (copies are made with `replace`, which does not carry it), so that
# JSON stays its wire form: sent again verbatim, e.g. a resumed thread's whole history.
_RAW = "_wire_raw"


class WireError(ValueError):
    """Data that does not fit a protocol type; the message names the path."""


# --- the bases ------------------------------------------------------------------------------


class _WireBase(msgspec.Struct, kw_only=True):
    def to_wire(self) -> dict[str, Any]:
        """The JSON object for this value, with Codex's field-by-field null handling."""
        return _encode_struct(self)

    @classmethod
    def from_wire(cls, data: Any) -> Self:
        """Validate ``data`` (a decoded JSON object) into this type; raises :class:`WireError`."""
        return convert(data, cls)


class WireModel(_WireBase, kw_only=True, dict=True):
    """Lenient base: data written by a newer Codex must still load and survive a rewrite."""

    def wire_extra(self) -> dict[str, Any]:
        """The keys read from the wire that this type does not declare."""
        if _RAW in self.__dict__ and _EXTRA not in self.__dict__:
            keys = _plan(type(self)).wire_keys
            wire = _encode_struct(self)
            self.__dict__[_EXTRA] = {k: v for k, v in wire.items() if k not in keys}
        extra: dict[str, Any] = self.__dict__.get(_EXTRA) or {}
        return extra

    def wire_json(self) -> msgspec.Raw | dict[str, Any]:
        """The JSON this value was read from when known, else :meth:`to_wire`; both encode
        to the same JSON value (`msgspec.json.encode` writes a `Raw` as it is)."""
        raw: msgspec.Raw | None = self.__dict__.get(_RAW)
        return raw if raw is not None else _encode_struct(self)


class StrictWireModel(_WireBase, kw_only=True, forbid_unknown_fields=True):
    """For inputs pycodex builds itself: a misspelled key is a bug, not forward compatibility."""


class RustDuration(WireModel, kw_only=True):
    """A ``std::time::Duration`` as serde writes it: ``{"secs": u64, "nanos": u32}``."""

    secs: int
    nanos: int = 0

    @classmethod
    def from_seconds(cls, seconds: float) -> RustDuration:
        secs, nanos = divmod(round(seconds * 1_000_000_000), 1_000_000_000)
        return cls(secs=secs, nanos=nanos)

    def total_seconds(self) -> float:
        return self.secs + self.nanos / 1_000_000_000

    def total_ms(self) -> int:
        return self.secs * 1000 + self.nanos // 1_000_000


# --- open tagged unions ---------------------------------------------------------------------


class WireUnion(abc.ABC):
    """A union of wire models chosen by a tag key, usable as a msgspec field type.

    msgspec hands values of this (non-struct) type to :func:`_dec_hook`, which picks the
    variant by tag; every variant is registered as a virtual subclass so the result passes
    msgspec's type check. At type-checking time the module exposes the plain ``A | B``
    union under the same name instead (see ``models.ContentItem``).
    """

    label: ClassVar[str]
    tag_key: ClassVar[str]
    variants: ClassVar[Mapping[str, type[_WireBase]]]
    fallback: ClassVar[type[_WireBase] | None]

    @classmethod
    def parse_json(cls, raw: msgspec.Raw | bytes) -> Any:
        """Like :meth:`parse`, straight from JSON text: a known variant is decoded without
        building the intermediate dict and keeps `raw` as its wire form (its unknown keys
        live there). Raises :class:`WireError` for malformed JSON too."""
        try:
            if cls.tag_key == "type":
                kind = peek_type(raw)
            else:
                kind = msgspec.json.decode(raw).get(cls.tag_key)
        except msgspec.DecodeError as exc:
            raise WireError(str(exc)) from None
        variant = cls.variants.get(kind) if isinstance(kind, str) else None
        try:
            if variant is None or not issubclass(variant, WireModel):
                return cls.parse(msgspec.json.decode(raw))
            obj = _typed_decoder(variant).decode(raw)
        except msgspec.DecodeError as exc:  # invalid JSON, or valid but not this type
            raise WireError(_join_paths(str(exc))) from None
        # As a Raw: msgspec writes a Raw as it is (bytes would become base64).
        obj.__dict__[_RAW] = raw if isinstance(raw, msgspec.Raw) else msgspec.Raw(raw)
        return obj

    @classmethod
    def parse(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise WireError(f"Expected `object`, got `{_json_kind(data)}`")
        kind = data.get(cls.tag_key)
        variant = cls.variants.get(kind) if isinstance(kind, str) else None
        if variant is None:
            if cls.fallback is None or not isinstance(kind, str):
                raise WireError(f"unknown {cls.label} {cls.tag_key} {kind!r}")
            variant = cls.fallback
        return convert(data, variant)


def wire_union(
    label: str,
    variants: tuple[type[_WireBase], ...],
    *,
    fallback: type[_WireBase] | None = None,
    tag_key: str = "type",
    extra_tags: Mapping[str, type[_WireBase]] | None = None,
) -> type[WireUnion]:
    """The field type for a union of ``variants``, each chosen by its ``tag_key`` default.

    ``fallback`` receives unknown tags (kept verbatim); ``extra_tags`` maps aliases.
    """
    table: dict[str, type[_WireBase]] = {}
    for variant in variants:
        table[tag_of(variant, tag_key)] = variant
    table.update(extra_tags or {})

    class Union(WireUnion):
        pass

    Union.label, Union.tag_key, Union.variants, Union.fallback = label, tag_key, table, fallback
    Union.__name__ = Union.__qualname__ = f"{label.title().replace(' ', '')}Union"
    for variant in {*variants, *([fallback] if fallback else [])}:
        Union.register(variant)
    return Union


def tag_of(cls: type[_WireBase], key: str = "type") -> str:
    """The default (canonical) tag of a variant: ``MessageItem`` → ``"message"``.

    Read from the struct's defaults rather than its type hints: resolving hints costs
    ~0.1 ms a class, and the unions are built at import time.
    """
    fields, defaults = cls.__struct_fields__, cls.__struct_defaults__
    for name, default in zip(fields[len(fields) - len(defaults) :], defaults, strict=True):
        if name == key and isinstance(default, str):
            return default
    raise TypeError(f"{cls.__name__}.{key} has no default tag")


# --- decoding -------------------------------------------------------------------------------


class _Head(msgspec.Struct):
    """Only the `type` key of an object whose tag does not come first (see peek_type)."""

    type: Any = None


_head_decoder = msgspec.json.Decoder(_Head)
# `{"type": "message", ...`: serde and pycodex both write an object's tag first.
_LEADING_TYPE = re.compile(rb'\{\s*"type"\s*:\s*"([A-Za-z0-9_.\-]*)"')


def peek_type(raw: msgspec.Raw | bytes) -> Any:
    """The `type` of a JSON object: read off its start when it comes first (no scan of
    the rest, which may be megabytes of tool output), else decoded. Raises
    `msgspec.DecodeError` when the text is not a JSON object."""
    match = _LEADING_TYPE.match(bytes(memoryview(raw)[:96]))
    if match is not None:
        return match.group(1).decode("ascii")
    return _head_decoder.decode(raw).type
_TYPED_DECODERS: dict[type, msgspec.json.Decoder[Any]] = {}


def _typed_decoder(cls: type[M]) -> msgspec.json.Decoder[M]:
    decoder = _TYPED_DECODERS.get(cls)
    if decoder is None:
        decoder = _TYPED_DECODERS[cls] = msgspec.json.Decoder(cls, dec_hook=_dec_hook)
    return decoder


def convert(data: Any, cls: type[M]) -> M:
    """``data`` validated into ``cls`` (strict: no str→int coercion), unknown keys kept."""
    if not isinstance(data, dict):
        raise WireError(f"Expected `object`, got `{_json_kind(data)}`")
    try:
        obj = msgspec.convert(data, cls, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        raise WireError(_join_paths(str(exc))) from None
    _attach_extras(obj, data)
    return obj


def _dec_hook(tp: type, obj: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, WireUnion):
        # msgspec adds this element's path to a ValueError raised here; the nested path
        # (inside the variant) is kept in the message and merged by _join_paths.
        return tp.parse(obj)
    raise NotImplementedError(f"no decoder for {tp!r}")


_PATH = re.compile(r" - at `\$([^`]*)`")


def _join_paths(message: str) -> str:
    """'X - at `$.a` - at `$.items[0]`' (inner first) → 'X - at `$.items[0].a`'."""
    parts = _PATH.findall(message)
    if len(parts) < 2:
        return message
    head = _PATH.split(message)[0]
    return f"{head} - at `${''.join(reversed(parts))}`"


def _attach_extras(obj: _WireBase, data: dict[str, Any]) -> None:
    plan = _plan(type(obj))
    if plan.lenient and not data.keys() <= plan.wire_keys:
        obj.__dict__[_EXTRA] = {k: v for k, v in data.items() if k not in plan.wire_keys}
    for attr, key in plan.nested:
        raw = data.get(key)
        value = getattr(obj, attr)
        if isinstance(value, _WireBase):
            if isinstance(raw, dict):
                _attach_extras(value, raw)
        elif isinstance(value, list) and isinstance(raw, list):
            for item, raw_item in zip(value, raw, strict=False):
                if isinstance(item, _WireBase) and isinstance(raw_item, dict):
                    _attach_extras(item, raw_item)
        elif isinstance(value, dict) and isinstance(raw, dict):
            for name, item in value.items():
                raw_item = raw.get(name)
                if isinstance(item, _WireBase) and isinstance(raw_item, dict):
                    _attach_extras(item, raw_item)


def _json_kind(value: Any) -> str:
    kinds = {dict: "object", list: "array", str: "str", int: "int", float: "float", bool: "bool"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


# --- encoding -------------------------------------------------------------------------------


def _encode_struct(obj: _WireBase) -> dict[str, Any]:
    if isinstance(obj, WireModel) and _RAW in obj.__dict__:
        # Read from JSON and never changed since: that JSON is its wire form.
        wire: dict[str, Any] = msgspec.json.decode(obj.__dict__[_RAW])
        return wire
    plan = _plan(type(obj))
    out: dict[str, Any] = {}
    for attr, key, omit, plain in plan.fields:
        value = getattr(obj, attr)
        if (omit == 1 and value is None) or (omit == 2 and value is False):
            continue
        out[key] = value if plain else _encode_value(value)
    extra = obj.__dict__.get(_EXTRA) if plan.lenient else None
    if extra:
        for key, value in extra.items():
            out.setdefault(key, value)
    return out


def _encode_value(value: Any) -> Any:
    if isinstance(value, _WireBase):
        return _encode_struct(value)
    if isinstance(value, list | tuple):
        return [_encode_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode_value(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value


def replace(obj: M, **changes: Any) -> M:
    """A copy of ``obj`` with ``changes`` applied; unknown wire keys are carried over."""
    copy = msgspec.structs.replace(obj, **changes)
    extra = obj.__dict__.get(_EXTRA) if isinstance(obj, WireModel) else None
    if extra:
        copy.__dict__[_EXTRA] = dict(extra)
    return copy


# --- per-class plans (built on first use of a class, then cached) ----------------------------


class _Plan:
    """How to encode (and, built on first decode, how to walk) one struct class.

    The encoding half reads the annotation *text* (the protocol modules use postponed
    annotations): resolving type hints costs ~1 ms a class, which a short `exec` run would
    pay for every event type it writes. Decoding resolves them, once, when first needed.
    """

    __slots__ = ("_nested", "cls", "fields", "lenient", "names", "wire_keys")

    def __init__(self, cls: type[_WireBase]) -> None:
        self.cls = cls
        names = list(zip(cls.__struct_fields__, cls.__struct_encode_fields__, strict=True))
        # serde writes an internally tagged enum's tag first.
        names.sort(key=lambda pair: pair[1] != "type")
        self.names = tuple(names)
        annotations = _raw_annotations(cls)
        self.fields = tuple(
            (attr, key, *_encoding_of(annotations[attr], cls, attr)) for attr, key in names
        )
        self.wire_keys = frozenset(key for _, key in names)
        self.lenient = issubclass(cls, WireModel)
        self._nested: tuple[tuple[str, str], ...] | None = None

    @property
    def nested(self) -> tuple[tuple[str, str], ...]:
        """Fields holding structs that msgspec decodes natively (their unknown keys are
        attached by walking them); resolved from the type hints on first decode."""
        if self._nested is None:
            hints = typing.get_type_hints(self.cls, include_extras=True)
            self._nested = tuple(
                (attr, key) for attr, key in self.names if _holds_struct(hints[attr])
            )
        return self._nested


def _raw_annotations(cls: type) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        merged.update(inspect.get_annotations(klass))  # unevaluated: strings here
    return merged


_PLAIN_NAMES = frozenset(
    {"str", "int", "float", "bool", "None", "list", "dict", "tuple", "Literal", "OmitNone",
     "OmitFalse"}
)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NAME = re.compile(r"[A-Za-z_][\w.]*")


def _encoding_of(annotation: Any, cls: type, attr: str) -> tuple[int, bool]:
    """(omit mode, plain) from an annotation: 1 = left out when None, 2 = when False;
    plain = JSON-ready as it is (no struct or enum inside), so encoding copies nothing."""
    if not isinstance(annotation, str):
        hint = typing.get_type_hints(cls, include_extras=True)[attr]
        return _omit_mode(hint), _is_plain(hint)
    text = annotation.strip()
    omit = 1 if text.startswith("OmitNone[") else 2 if text.startswith("OmitFalse") else 0
    names = set(_NAME.findall(_QUOTED.sub("", text)))
    return omit, names <= _PLAIN_NAMES


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type[_WireBase]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


def _omit_mode(hint: Any) -> int:
    if typing.get_origin(hint) is Annotated:
        for meta in typing.get_args(hint)[1:]:
            if isinstance(meta, msgspec.Meta) and meta.extra:
                return {"none": 1, "false": 2}.get(meta.extra.get("pycodex_omit", ""), 0)
    return 0


def _type_leaves(hint: Any) -> list[Any]:
    """Every concrete type mentioned by a hint (through unions, containers, Annotated)."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return [str]
    if origin is None:
        return [hint]
    leaves: list[Any] = []
    args = typing.get_args(hint)
    for arg in args[:1] if origin is Annotated else args:
        leaves.extend(_type_leaves(arg))
    return leaves


def _is_plain(hint: Any) -> bool:
    """Values of this type are JSON-ready as they are (no struct or enum inside)."""
    return all(
        leaf in (str, int, float, bool, type(None)) for leaf in _type_leaves(hint)
    )


def _holds_struct(hint: Any) -> bool:
    """A field whose value holds structs decoded natively by msgspec (not via a WireUnion,
    whose hook attaches extras itself)."""
    return any(
        isinstance(leaf, type) and issubclass(leaf, _WireBase) for leaf in _type_leaves(hint)
    )
