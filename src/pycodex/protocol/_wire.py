"""Serialization building blocks shared by every protocol module.

Codex (Rust/serde) decides per field whether an absent value is written as ``null`` or left
out (``skip_serializing_if = "Option::is_none"``). Rollouts written by Codex depend on that
difference, so a single global ``exclude_none`` cannot reproduce them: fields annotated
:data:`OmitNone` are left out when ``None``; plain ``X | None`` fields are written as
``null``. Unknown keys are kept (``extra="allow"``) and written back verbatim, nulls included.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


def _is_none(value: Any) -> bool:
    return value is None


def _is_false(value: Any) -> bool:
    return value is False


# `skip_serializing_if = "Option::is_none"`: left out of the JSON when None.
OmitNone: TypeAlias = Annotated[T | None, Field(exclude_if=_is_none)]
# `skip_serializing_if = "std::ops::Not::not"`: left out of the JSON when False.
OmitFalse: TypeAlias = Annotated[bool, Field(exclude_if=_is_false)]


class WireModel(BaseModel):
    """Lenient base: data written by a newer Codex must still load and survive a rewrite."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

    def to_wire(self) -> dict[str, Any]:
        """The JSON object for this model, with Codex's field-by-field null handling."""
        return self.model_dump(mode="json")


class StrictWireModel(WireModel):
    """For inputs pycodex builds itself: a misspelled key is a bug, not forward compatibility."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class RustDuration(WireModel):
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
