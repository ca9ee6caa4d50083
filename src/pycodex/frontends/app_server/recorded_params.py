"""Typed params of the recorded-thread methods: `thread/list`, `read`, `turns/list`,
`archive`, `unarchive`, `delete`, `name/set` (`codex_app_server_protocol.v2.schemas.json`:
Thread{List,Read,TurnsList,Archive,Unarchive,Delete,SetName}Params)."""

from __future__ import annotations

from typing import Literal

from pycodex.frontends.app_server.validation import Params

SortKey = Literal["created_at", "updated_at", "recency_at", "section_position"]
SortDirection = Literal["asc", "desc"]


class ThreadListParams(Params, kw_only=True):
    archived: bool | None = None
    cursor: str | None = None
    cwd: str | list[str] | None = None
    excluded_thread_ids: list[str] | None = None
    limit: int | None = None
    model_providers: list[str] | None = None
    originators: list[str] | None = None
    search_term: str | None = None
    section_id: str | None = None
    sort_direction: SortDirection | None = None
    sort_key: SortKey | None = None
    source_kinds: list[str] | None = None
    use_state_db_only: bool | None = None


class ThreadReadParams(Params, kw_only=True):
    thread_id: str
    include_turns: bool = False


class ThreadTurnsListParams(Params, kw_only=True):
    thread_id: str
    cursor: str | None = None
    items_view: Literal["notLoaded", "summary", "full"] | None = None
    limit: int | None = None
    sort_direction: SortDirection | None = None


class ThreadIdParams(Params, kw_only=True):
    """`thread/archive`, `thread/unarchive`, `thread/delete`."""

    thread_id: str


class ThreadSetNameParams(Params, kw_only=True):
    thread_id: str
    name: str
