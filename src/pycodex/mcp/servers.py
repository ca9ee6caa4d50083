"""What starting one `[mcp_servers.<name>]` server takes, resolved from config.toml.

Pure data and stdlib: the session decides from these whether any server runs at all
before the `mcp` SDK is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import msgspec

from pycodex.config.schema import McpServerToml

DEFAULT_STARTUP_TIMEOUT_SEC = 10.0
DEFAULT_TOOL_TIMEOUT_SEC = 60.0

# What a stdio server inherits from our environment unless `env_vars` names more (as
# Codex: enough to find programs and a home, never our API keys).
DEFAULT_ENV_VARS = (
    "HOME", "LOGNAME", "PATH", "SHELL", "USER", "__CF_USER_TEXT_ENCODING",
    "LANG", "LC_ALL", "TERM", "TMPDIR", "TZ",
)


class StdioTransport(msgspec.Struct, frozen=True, kw_only=True):
    command: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = msgspec.field(default_factory=dict)
    cwd: Path | None = None


class HttpTransport(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    # Set when `bearer_token_env_var` names a variable that is unset or empty: the server
    # then fails to start with this message instead of connecting without credentials.
    problem: str | None = None
    # Where `pycodex mcp login` may have stored OAuth credentials for this server (None
    # when the config authorizes it itself: a bearer token or an Authorization header).
    oauth_home: Path | None = None


class McpServerSettings(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    transport: StdioTransport | HttpTransport
    required: bool = False
    startup_timeout_sec: float = DEFAULT_STARTUP_TIMEOUT_SEC
    tool_timeout_sec: float = DEFAULT_TOOL_TIMEOUT_SEC
    enabled_tools: frozenset[str] | None = None
    disabled_tools: frozenset[str] = frozenset()
    # `default_tools_approval_mode`: "auto" (annotations and policy decide), "prompt"
    # (always ask), "approve" (never ask).
    approval_mode: str = "auto"

    def allows(self, tool: str) -> bool:
        """`enabled_tools` is an allow-list when set; `disabled_tools` always wins."""
        if self.enabled_tools is not None and tool not in self.enabled_tools:
            return False
        return tool not in self.disabled_tools


def enabled_servers(
    servers: Mapping[str, McpServerToml], base_env: Mapping[str, str], cwd: Path
) -> list[McpServerSettings]:
    """The servers to start, in config order (`enabled = false` ones left out)."""
    return [
        resolve(name, toml, base_env, cwd)
        for name, toml in servers.items()
        if toml.enabled is not False
    ]


def resolve(
    name: str, toml: McpServerToml, base_env: Mapping[str, str], cwd: Path
) -> McpServerSettings:
    transport: StdioTransport | HttpTransport
    if toml.command is not None:
        transport = _stdio(toml, base_env, cwd)
    else:
        transport = _http(name, toml, base_env)
    startup = toml.startup_timeout_sec
    if startup is None and toml.startup_timeout_ms is not None:
        startup = toml.startup_timeout_ms / 1000
    return McpServerSettings(
        name=name,
        transport=transport,
        required=bool(toml.required),
        startup_timeout_sec=startup if startup is not None else DEFAULT_STARTUP_TIMEOUT_SEC,
        tool_timeout_sec=(
            toml.tool_timeout_sec if toml.tool_timeout_sec is not None else DEFAULT_TOOL_TIMEOUT_SEC
        ),
        enabled_tools=frozenset(toml.enabled_tools) if toml.enabled_tools is not None else None,
        disabled_tools=frozenset(toml.disabled_tools or ()),
        approval_mode=toml.default_tools_approval_mode or "auto",
    )


def _stdio(toml: McpServerToml, base_env: Mapping[str, str], cwd: Path) -> StdioTransport:
    assert toml.command is not None
    names = (*DEFAULT_ENV_VARS, *(toml.env_vars or ()))
    env = {key: base_env[key] for key in names if key in base_env}
    env.update(toml.env or {})
    server_cwd = None
    if toml.cwd:
        server_cwd = Path(toml.cwd).expanduser()
        server_cwd = server_cwd if server_cwd.is_absolute() else cwd / server_cwd
    return StdioTransport(command=toml.command, args=tuple(toml.args or ()), env=env, cwd=server_cwd)


def _http(name: str, toml: McpServerToml, base_env: Mapping[str, str]) -> HttpTransport:
    assert toml.url is not None
    headers = dict(toml.http_headers or {})
    for header, name_of_var in (toml.env_http_headers or {}).items():
        # As Codex: a header whose variable is unset or empty is simply not sent.
        if value := base_env.get(name_of_var):
            headers[header] = value
    problem = None
    if var := toml.bearer_token_env_var:
        token = base_env.get(var)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        else:
            state = "is empty" if token == "" else "is not set"
            problem = f"Environment variable {var} for MCP server '{name}' {state}"
    oauth_home = None
    if not any(header.lower() == "authorization" for header in headers) and problem is None:
        from pycodex.config.home import pycodex_home

        oauth_home = pycodex_home(base_env)
    return HttpTransport(url=toml.url, headers=headers, problem=problem, oauth_home=oauth_home)
