"""Identifiers: UUIDv7 (time-ordered) like Codex's thread and turn ids."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> str:
    """A random UUID whose first 48 bits are the Unix time in ms (RFC 9562 version 7).

    Time order means rollout files and index rows sort by creation for free.
    """
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a (12 bits)
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b
    return str(uuid.UUID(int=value))
