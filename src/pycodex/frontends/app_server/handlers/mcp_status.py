"""`mcpServerStatus/list`: the MCP servers, their state, tools and resources; and
`config/mcpServer/reload`: every loaded thread restarts its MCP servers from the config as
it is now (a server added, removed or changed in config.toml takes effect for later turns).

With a `threadId`, that loaded thread's own connections as they are (a server still
starting says so); without one, the configured servers are started just to look at them
and stopped again, as Codex does. `detail: "toolsAndAuthOnly"` skips the resource listings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pycodex.core import probe_mcp_servers
from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.errors import invalid_request
from pycodex.frontends.app_server.handlers.threads import thread_not_found
from pycodex.frontends.app_server.loaded_threads import LoadedThreads
from pycodex.frontends.app_server.mcp_params import ListMcpServerStatusParams
from pycodex.frontends.app_server.params import EmptyParams
from pycodex.frontends.app_server.thread_config import load_thread_config

Json = dict[str, Any]
# The fields Codex's schema gives each MCP object; anything newer an SDK adds is left out.
_TOOL_KEYS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations", "icons", "_meta")
_RESOURCE_KEYS = ("uri", "name", "title", "description", "mimeType", "size", "annotations", "icons", "_meta")
_TEMPLATE_KEYS = ("uriTemplate", "name", "title", "description", "mimeType", "annotations")
_INFO_KEYS = ("name", "version", "title", "description", "icons", "websiteUrl")
_RUNTIME = {"starting": "starting", "connected": "connected", "failed": "failed"}


class McpServerStatusList:
    def __init__(self, threads: LoadedThreads, env: Mapping[str, str]) -> None:
        self.threads = threads
        self.env = env

    async def __call__(self, ctx: RequestContext, params: ListMcpServerStatusParams) -> Json:
        with_resources = params.detail != "toolsAndAuthOnly"
        if params.thread_id is not None:
            loaded = self.threads.get(params.thread_id)
            if loaded is None:
                raise thread_not_found(params.thread_id)
            states = await loaded.thread.mcp_server_states(with_resources=with_resources)
        else:
            config = await load_thread_config(self.env, base_overrides=self.threads.config_overrides)
            states = await probe_mcp_servers(config, self.env, with_resources=with_resources)
        if params.server_name is not None:
            states = [s for s in states if s.name == params.server_name]
        start = _offset(params.cursor)
        end = len(states) if not params.limit else start + params.limit
        page = [server_status(s) for s in states[start:end]]
        return {"data": page, "nextCursor": str(end) if end < len(states) else None}


class McpServerReload:
    def __init__(self, threads: LoadedThreads, env: Mapping[str, str]) -> None:
        self.threads = threads
        self.env = env

    async def __call__(self, ctx: RequestContext, params: EmptyParams) -> Json:
        for thread_id in self.threads.ids():
            loaded = self.threads.get(thread_id)
            if loaded is None:  # closed meanwhile
                continue
            config = await load_thread_config(
                self.env, cwd=loaded.settings.cwd, base_overrides=self.threads.config_overrides
            )
            await loaded.thread.reload_mcp_servers(config, self.env)
        return {}


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise invalid_request(f"invalid cursor: {cursor!r}")
    return int(cursor)


def _pick(obj: Json, keys: tuple[str, ...]) -> Json:
    return {k: obj[k] for k in keys if k in obj}


def server_status(state: Any) -> Json:
    """One `McpServerStatus` from the engine's `McpServerState`."""
    if state.http_url is None:
        auth = "unsupported"
    else:
        auth = "bearerToken" if state.bearer_token else "unknown"
    origin = None
    if state.http_url is not None:
        parts = urlsplit(state.http_url)
        origin = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return {
        "name": state.name,
        "authStatus": auth,
        "httpOrigin": origin,
        "pluginId": None,
        "runtimeStatus": _RUNTIME[state.state],
        "serverInfo": _pick(state.server_info, _INFO_KEYS) if state.server_info else None,
        "serverCapabilities": state.capabilities,
        "tools": {t["name"]: _pick(t, _TOOL_KEYS) for t in state.tools},
        "toolsError": state.error,
        "resources": [_pick(r, _RESOURCE_KEYS) for r in state.resources],
        "resourceTemplates": [_pick(r, _TEMPLATE_KEYS) for r in state.resource_templates],
    }
