"""The method table: which handler answers which method.

Engine-backed methods (`thread/*`, `turn/*`, …) plug in here as more :class:`MethodSpec`
entries; methods Codex has and pycodex does not are answered "not supported" by the
dispatcher from :mod:`.methods`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycodex.frontends.app_server.dispatcher import Dispatcher, Log, MethodSpec
from pycodex.frontends.app_server.handlers.handshake import Initialize
from pycodex.frontends.app_server.params import InitializeParams, ThreadStartParams

# Params of methods whose handlers come with the engine API: validated (and gated) already.
DECLARED_PARAMS: dict[str, type[Any]] = {"thread/start": ThreadStartParams}


def build_dispatcher(env: Mapping[str, str], log: Log) -> Dispatcher:
    methods: list[MethodSpec[Any]] = [
        MethodSpec("initialize", InitializeParams, Initialize(env)),
    ]
    return Dispatcher(methods, log=log, declared_params=DECLARED_PARAMS)
