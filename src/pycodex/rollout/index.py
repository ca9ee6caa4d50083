"""The thread store's public names, in one place for the callers that import them here.

The store is split by concept:
* :mod:`.rows` — `ThreadRow` and the fold that derives it from rollout lines;
* :mod:`.discovery` — rollout files under the home, and the thread names file;
* :mod:`.thread_index` — the SQLite index (`state.sqlite`): opening, repair, listing;
* :mod:`.stale` — marks for rows known to be behind their rollout;
* :mod:`.indexer` — `ThreadIndexer`, which keeps a live thread's row current.
New code imports from those modules; this one only re-exports them.
"""

from __future__ import annotations

from .discovery import (
    ARCHIVED_DIR,
    NAMES_FILE,
    SESSIONS_DIR,
    append_name,
    iter_rollout_files,
    read_names,
    thread_id_from_path,
)
from .indexer import ThreadIndexer
from .rows import TEXT_MAX_CHARS, RowBuilder, ThreadRow, row_from_rollout
from .thread_index import (
    BUSY_TIMEOUT_MS,
    INDEX_FILE,
    SCHEMA_VERSION,
    SortKey,
    ThreadIndex,
    ThreadIndexError,
    ThreadPage,
    decode_cursor,
    encode_cursor,
)

__all__ = [
    "ARCHIVED_DIR",
    "BUSY_TIMEOUT_MS",
    "INDEX_FILE",
    "NAMES_FILE",
    "SCHEMA_VERSION",
    "SESSIONS_DIR",
    "TEXT_MAX_CHARS",
    "RowBuilder",
    "SortKey",
    "ThreadIndex",
    "ThreadIndexError",
    "ThreadIndexer",
    "ThreadPage",
    "ThreadRow",
    "append_name",
    "decode_cursor",
    "encode_cursor",
    "iter_rollout_files",
    "read_names",
    "row_from_rollout",
    "thread_id_from_path",
]
