"""Typed params of `fuzzyFileSearch` (`reference/app-server-schema/stable/FuzzyFileSearchParams.json`)."""

from __future__ import annotations

from pycodex.frontends.app_server.validation import Params


class FuzzyFileSearchParams(Params, kw_only=True):
    query: str
    roots: list[str]
    cancellation_token: str | None = None
