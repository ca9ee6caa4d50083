"""`config/read`, `config/value/write`, `config/batchWrite`: the effective config and its
layers as Codex renders them, and in-place edits of the user's `config.toml`.

Rendering: Codex's `Config` keys (snake_case, null when unset) with Codex's defaults where
Codex shows one, overlaid with every key pycodex's merged layers set. Layers come from
`Config.config_sources` (user, profile, trusted project files, `-c` overrides), highest
precedence first, each with Codex's version (sha256 of its table as sorted compact JSON).
Edits go to `$PYCODEX_HOME/config.toml` with tomlkit (comments and layout kept), are
validated as a config layer before anything is written, and are written atomically.
"""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from pycodex.config import Config, ConfigOverrides, load_config
from pycodex.config.edit import EditError, apply_edit, atomic_write, layer_version, parse_document
from pycodex.config.errors import ConfigError
from pycodex.config.home import codex_home, pycodex_home
from pycodex.config.keypath import parse_dotted_key
from pycodex.config.loader import CONFIG_FILENAME, overrides_layer, read_toml_file
from pycodex.config.validation import check_layer
from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.errors import RpcError, internal_error
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.frontends.app_server.params import (
    ConfigBatchWriteParams,
    ConfigEditParams,
    ConfigReadParams,
    ConfigValueWriteParams,
)

Json = dict[str, Any]

# Codex's `Config` keys that it shows as null when nothing sets them.
_NULL_KEYS = [
    "model",
    "review_model",
    "model_context_window",
    "model_auto_compact_token_limit",
    "model_auto_compact_token_limit_scope",
    "model_provider",
    "approval_policy",
    "approvals_reviewer",
    "sandbox_mode",
    "sandbox_workspace_write",
    "forced_chatgpt_workspace_id",
    "forced_login_method",
    "web_search",
    "tools",
    "instructions",
    "developer_instructions",
    "compact_prompt",
    "model_reasoning_effort",
    "model_reasoning_summary",
    "model_verbosity",
    "service_tier",
    "analytics",
    "apps",
    "browser_use",
    "computer_use",
    "desktop",
    "tool_suggest",
    "cloud",
    "memories",
    "experimental_compact_prompt_file",
    "default_permissions",
    "mcp_oauth_callback_url",
    "experimental_thread_store",
    "suppress_unstable_features_warning",
    "personality",
    "responses_api_metadata",
    "tui",
    "experimental_realtime_ws_model",
    "check_for_update_on_startup",
    "otel",
    "agents",
    "orchestrator",
    "sqlite_home",
    "model_catalog_json",
    "js_repl_node_module_dirs",
    "openai_base_url",
    "show_raw_agent_reasoning",
    "experimental_realtime_ws_backend_prompt",
    "goals",
    "realtime",
    "plan_mode_reasoning_effort",
    "experimental_use_unified_exec_tool",
    "js_repl_node_path",
    "auto_review",
    "experimental_realtime_webrtc_call_base_url",
    "model_post_turn_compact_threshold_percent",
    "mcp_optional_startup_grace_ms",
    "mcp_enterprise_managed_auth",
    "experimental_thread_store_endpoint",
    "disable_paste_burst",
    "thread_unload_delay_secs",
    "model_instructions_file",
    "feedback",
    "windows",
    "apps_mcp_product_sku",
    "experimental_realtime_start_instructions",
    "profile",
    "log_dir",
    "permissions",
    "audio",
    "mcp_oauth_callback_port",
    "projects",
    "daybreak",
    "notice",
    "notify",
    "experimental_realtime_ws_startup_context",
    "ghost_snapshot",
    "oss_provider",
    "skills",
    "tool_output_token_limit",
    "experimental_realtime_ws_base_url",
    "hooks",
    "allow_symlinked_codex_home",
]


def _codex_defaults() -> Json:
    """Codex's rendering of an empty config (reference/app-server session transcript)."""
    return {
        **dict.fromkeys(_NULL_KEYS),
        "history": {"persistence": "save-all", "max_bytes": None},
        "include_collaboration_mode_instructions": True,
        "mcp_servers": {},
        "cli_auth_credentials_store": "file",
        "include_permissions_instructions": True,
        "include_environment_context_time": True,
        "profiles": {},
        "mcp_oauth_credentials_store": "auto",
        "project_doc_max_bytes": 32768,
        "hide_agent_reasoning": False,
        "include_apps_instructions": True,
        "project_doc_fallback_filenames": [],
        "project_root_markers": [".git"],
        "marketplaces": {},
        "allow_login_shell": True,
        "plugins": {},
        "file_opener": "vscode",
        "chatgpt_base_url": "https://chatgpt.com/backend-api/",
        "background_terminal_max_timeout": 300000,
        "shell_environment_policy": {
            "inherit": None,
            "ignore_default_excludes": None,
            "exclude": None,
            "set": None,
            "include_only": None,
            "filters": None,
            "experimental_use_profile": None,
        },
        "include_environment_context": True,
        "features": {},
        "model_providers": {},
    }


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------


class _Layer(msgspec.Struct):
    name: Json
    data: Json
    version: str


def _layers(config: Config, overrides: Sequence[str]) -> list[_Layer]:
    """The layers that made `config`, lowest precedence first, as Codex names them."""
    layers: list[_Layer] = []
    user_file: str | None = None
    user_data: Json = {}
    for source in config.config_sources:
        data: Json = {}
        if source.kind == "user" and source.path is not None:
            loaded = read_toml_file(source.path)
            data = loaded[0] if loaded else {}
            user_file, user_data = str(source.path), data
            name: Json = {"type": "user", "file": user_file, "profile": None}
        elif source.kind == "profile":
            if source.path is None:
                profiles = user_data.get("profiles")
                table = profiles.get(config.profile) if isinstance(profiles, dict) else None
                data = table if isinstance(table, dict) else {}
                file = user_file or source.source
            else:
                loaded = read_toml_file(source.path)
                data = loaded[0] if loaded else {}
                file = str(source.path)
            name = {"type": "user", "file": file, "profile": config.profile}
        elif source.kind == "project" and source.path is not None:
            loaded = read_toml_file(source.path)
            data = loaded[0] if loaded else {}
            name = {"type": "project", "dotCodexFolder": str(source.path.parent)}
        else:
            cli = overrides_layer(overrides) if source.kind == "cli" else None
            data = cli.data if cli is not None else {}
            name = {"type": "sessionFlags"}
        data = _plain(data)
        layers.append(_Layer(name, data, layer_version(data)))
    return layers


def _plain(value: Any) -> Any:
    """TOML values as JSON: dates and times become strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _origins(layers: Sequence[_Layer]) -> Json:
    """Every leaf key path (`a.b`, arrays as `a.0`) -> the highest layer that set it."""
    origins: Json = {}

    def walk(prefix: str, value: Any, meta: Json) -> None:
        if isinstance(value, dict) and value:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner, meta)
        elif isinstance(value, list) and value:
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}", inner, meta)
        elif prefix:
            origins[prefix] = meta

    for layer in layers:
        walk("", layer.data, {"name": layer.name, "version": layer.version})
    return origins


def _render(config: Config, layers: Sequence[_Layer]) -> Json:
    rendered = _codex_defaults()
    merged = msgspec.to_builtins(config.config_toml)
    for key, value in merged.items():
        if value is not None:
            rendered[key] = _plain(value)
    # Built-in providers are seeded into the merged view; Codex lists only configured ones.
    configured: set[str] = set()
    for layer in layers:
        providers = layer.data.get("model_providers")
        if isinstance(providers, dict):
            configured.update(providers)
    rendered["model_providers"] = {
        pid: _plain(msgspec.to_builtins(info))
        for pid, info in (config.config_toml.model_providers or {}).items()
        if pid in configured
    }
    rendered["features"] = dict(sorted(config.features.items()))
    return rendered


# ---------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------


def _write_error(code: str, message: str) -> RpcError:
    return RpcError(-32600, message, {"config_write_error_code": code})


class ConfigRead:
    def __init__(self, env: Mapping[str, str], overrides: Sequence[str] = ()) -> None:
        self.env = env
        self.overrides = tuple(overrides)

    async def __call__(self, ctx: RequestContext, params: ConfigReadParams) -> JsonValue:
        return await asyncio.to_thread(self._read, params)

    def _read(self, params: ConfigReadParams) -> JsonValue:
        cwd = Path(params.cwd) if params.cwd else Path(self.env.get("HOME") or "/")
        try:
            config = load_config(
                ConfigOverrides(cwd=cwd, config_overrides=list(self.overrides)), env=self.env
            )
        except (ConfigError, ValueError, OSError) as exc:
            raise internal_error(str(exc)) from None
        layers = _layers(config, self.overrides)
        result: Json = {"config": _render(config, layers), "origins": _origins(layers)}
        if params.include_layers:
            result["layers"] = [
                {"name": layer.name, "version": layer.version, "config": layer.data}
                for layer in reversed(layers)
            ]
        return result


class _ConfigWriter:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self._lock = asyncio.Lock()

    def _path(self) -> Path:
        return pycodex_home(self.env) / CONFIG_FILENAME

    async def write(
        self, edits: Sequence[ConfigEditParams], file_path: str | None, expected: str | None
    ) -> JsonValue:
        async with self._lock:
            return await asyncio.to_thread(self._write, edits, file_path, expected)

    def _write(
        self, edits: Sequence[ConfigEditParams], file_path: str | None, expected: str | None
    ) -> JsonValue:
        path = self._path()
        if file_path is not None and Path(file_path).resolve() != path.resolve():
            raise _write_error(
                "configLayerReadonly",
                f"only the user config {path} can be written, not {file_path}",
            )
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            # pycodex's config starts as a copy of Codex's so no setting is dropped.
            borrowed = codex_home(self.env) / CONFIG_FILENAME
            text = borrowed.read_text(encoding="utf-8") if borrowed.is_file() else ""
        except (OSError, UnicodeDecodeError) as exc:
            raise internal_error(f"failed to read {path}: {exc}") from None
        try:
            doc = parse_document(text, path)
            before = _plain(tomllib.loads(text))
        except (ConfigError, tomllib.TOMLDecodeError) as exc:
            raise _write_error("configValidationError", str(exc)) from None
        if expected is not None and expected != layer_version(before):
            raise _write_error(
                "configVersionConflict",
                "Configuration was modified since last read. Fetch latest version and retry.",
            )
        key_paths: list[list[str]] = []
        for edit in edits:
            key_path = _key_path(edit.key_path)
            key_paths.append(key_path)
            if edit.merge_strategy not in ("replace", "upsert"):
                raise _write_error(
                    "configValidationError", f"unknown mergeStrategy `{edit.merge_strategy}`"
                )
            try:
                apply_edit(doc, key_path, edit.value, edit.merge_strategy)
            except EditError as exc:
                raise _write_error(exc.code, exc.message) from None
        new_text = doc.as_string()
        after = _validate(new_text, path, key_paths)
        atomic_write(path, new_text)
        return {
            "status": "ok",
            "version": layer_version(_plain(after)),
            "filePath": str(path.resolve()),
            "overriddenMetadata": None,
        }


def _key_path(text: str) -> list[str]:
    try:
        path, end = parse_dotted_key(text)
    except ValueError as exc:
        raise _write_error("configValidationError", f"invalid keyPath `{text}`: {exc}") from None
    if text[end:].strip() or not text.strip():
        raise _write_error("configValidationError", f"invalid keyPath `{text}`")
    return path


def _validate(text: str, path: Path, key_paths: Sequence[list[str]]) -> Json:
    """The edited file as data, or a -32600 error naming the bad key (nothing written)."""
    try:
        data = tomllib.loads(text)
        checked = check_layer(data, source=str(path), text=text)
    except tomllib.TOMLDecodeError as exc:
        raise _write_error("configValidationError", f"Invalid configuration: {exc}") from None
    except ConfigError as exc:
        raise _write_error("configValidationError", f"Invalid configuration: {exc}") from None
    for warning in checked.warnings:
        for key_path in key_paths:
            dotted = ".".join(key_path)
            if f"`{dotted}`" in warning or f"`{dotted}." in warning:
                raise _write_error("configSchemaUnknownKey", f"Invalid configuration: {warning}")
    return data


class ConfigValueWrite:
    def __init__(self, writer: _ConfigWriter) -> None:
        self.writer = writer

    async def __call__(self, ctx: RequestContext, params: ConfigValueWriteParams) -> JsonValue:
        edit = ConfigEditParams(
            key_path=params.key_path, value=params.value, merge_strategy=params.merge_strategy
        )
        return await self.writer.write([edit], params.file_path, params.expected_version)


class ConfigBatchWrite:
    def __init__(self, writer: _ConfigWriter) -> None:
        self.writer = writer

    async def __call__(self, ctx: RequestContext, params: ConfigBatchWriteParams) -> JsonValue:
        return await self.writer.write(params.edits, params.file_path, params.expected_version)


def config_handlers(
    env: Mapping[str, str], overrides: Sequence[str] = ()
) -> tuple[ConfigRead, ConfigValueWrite, ConfigBatchWrite]:
    writer = _ConfigWriter(env)
    return ConfigRead(env, overrides), ConfigValueWrite(writer), ConfigBatchWrite(writer)
