"""Value semantics for the engine's small classes, at no import cost.

Every `apply_patch` call is a fresh process that must start fast (models call it all the
time). `@dataclass` was the obvious tool, but importing dataclasses (with inspect, ast,
dis and tokenize behind it) and defining a class with it cost ~25 ms and ~1 ms a class
— more than the interpreter's own start. A `Record` subclass lists its fields in
`__slots__`, assigns them in a plain `__init__` (so mypy checks every constructor call)
and gets equality, hashing and repr from the slots.
"""

from __future__ import annotations


class Record:
    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"
