"""`initialize`: who the client is, what it opted into, and who this server is."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pycodex.config.home import pycodex_home
from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.frontends.app_server.params import InitializeParams
from pycodex.frontends.app_server.user_agent import platform_family, platform_os, user_agent


class Initialize:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = os.environ if env is None else env

    async def __call__(self, ctx: RequestContext, params: InitializeParams) -> JsonValue:
        session = ctx.session
        info = params.client_info
        capabilities = params.capabilities
        session.client_name = info.name
        session.client_version = info.version
        session.experimental_api = bool(capabilities and capabilities.experimental_api)
        if capabilities and capabilities.opt_out_notification_methods:
            session.opted_out_notifications = frozenset(capabilities.opt_out_notification_methods)
        session.initialized = True
        return {
            "userAgent": user_agent(info.name, info.version, self._env),
            "codexHome": str(pycodex_home(self._env)),
            "platformFamily": platform_family(),
            "platformOs": platform_os(),
        }
