"""Typed params of `fuzzyFileSearch` (`reference/app-server-schema/stable/FuzzyFileSearchParams.json`)
and of its experimental sessions (`fuzzyFileSearch/sessionStart`, `sessionUpdate`, `sessionStop`)."""

from __future__ import annotations

from pycodex.frontends.app_server.validation import Params


class FuzzyFileSearchParams(Params, kw_only=True):
    query: str
    roots: list[str]
    cancellation_token: str | None = None


class FuzzyFileSearchSessionStartParams(Params, kw_only=True):
    session_id: str
    roots: list[str]


class FuzzyFileSearchSessionUpdateParams(Params, kw_only=True):
    session_id: str
    query: str


class FuzzyFileSearchSessionStopParams(Params, kw_only=True):
    session_id: str
