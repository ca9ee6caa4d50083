"""`ConfigToml`: the shape of `config.toml` (and of every other config layer).

Every field is optional: a layer says only what it changes. Validation runs in pydantic
strict mode so TOML types are never coerced (`model_provider = 123` is an error, not
"123"). Keys Codex knows but pycodex does not use yet are typed `Any` so that a Codex
user's config loads without warnings; they are kept for `config/read` and lockfiles.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from pycodex.config.errors import ConfigError
from pycodex.config.features import is_known_feature
from pycodex.config.keypath import KeyPath, format_key_path, locate_key
from pycodex.config.providers import ModelProviderInfo

# Plain strings rather than pycodex.protocol enums: protocol/policies.py is still being
# written and config must not block on it. The wire spellings are the same.
ApprovalPolicy = Literal["untrusted", "on-failure", "on-request", "never"]
SandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]
HistoryPersistence = Literal["save-all", "none"]
ShellEnvironmentInherit = Literal["all", "core", "none"]
TrustLevel = Literal["trusted", "untrusted"]
ShellType = Literal["shell", "unified_exec", "local_shell"]
WebSearchMode = Literal["disabled", "cached", "live"]
FileOpener = Literal["vscode", "vscode-insiders", "windsurf", "cursor", "none"]

APPROVAL_POLICIES: tuple[str, ...] = get_args(ApprovalPolicy)
SANDBOX_MODES: tuple[str, ...] = get_args(SandboxMode)
# Passed to the provider as-is; unknown values only warn because providers add new ones
# faster than pycodex releases.
REASONING_EFFORTS: tuple[str, ...] = ("none", "minimal", "low", "medium", "high", "xhigh")
REASONING_SUMMARIES: tuple[str, ...] = ("auto", "concise", "detailed", "none")
VERBOSITIES: tuple[str, ...] = ("low", "medium", "high")


class _Table(BaseModel):
    # `forbid` is how unknown keys are detected; the loader turns those errors into
    # warnings (or errors with --strict-config) and strips the keys.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class SandboxWorkspaceWriteToml(_Table):
    writable_roots: list[str] | None = None
    network_access: bool | None = None
    exclude_tmpdir_env_var: bool | None = None
    exclude_slash_tmp: bool | None = None


class ShellEnvironmentPolicyToml(_Table):
    inherit: ShellEnvironmentInherit | None = None
    ignore_default_excludes: bool | None = None
    exclude: list[str] | None = None
    include_only: list[str] | None = None
    set: dict[str, str] | None = None
    experimental_use_profile: bool | None = None


class HistoryToml(_Table):
    persistence: HistoryPersistence | None = None
    max_bytes: int | None = Field(default=None, ge=0)


class RolloutToml(_Table):
    """pycodex-only: how session records are stored."""

    # Tool outputs larger than this are stored head + tail in the rollout (0 = no cap).
    max_item_bytes: int | None = Field(default=None, ge=0)


class UpdatePlanToolToml(_Table):
    enabled: bool | None = None


class ToolsToml(_Table):
    # Codex accepts a boolean or a table (context size, allowed domains...) here.
    web_search: bool | dict[str, Any] | None = None
    view_image: bool | None = None
    update_plan: UpdatePlanToolToml | None = None
    experimental_request_user_input: dict[str, Any] | None = None
    # pycodex: force the shell tool offered to the model (default: by model family).
    shell_type: ShellType | None = None


class McpServerToml(_Table):
    """One `[mcp_servers.<name>]` entry. The transport (command xor url) is checked when
    the effective config is built, because one layer may only toggle `enabled`."""

    command: str | None = None
    args: list[str] | None = None
    env: dict[str, str] | None = None
    env_vars: list[str] | None = None
    cwd: str | None = None
    url: str | None = None
    bearer_token_env_var: str | None = None
    http_headers: dict[str, str] | None = None
    env_http_headers: dict[str, str] | None = None
    enabled: bool | None = None
    required: bool | None = None
    startup_timeout_sec: float | None = Field(default=None, ge=0)
    startup_timeout_ms: int | None = Field(default=None, ge=0)
    tool_timeout_sec: float | None = Field(default=None, ge=0)
    enabled_tools: list[str] | None = None
    disabled_tools: list[str] | None = None
    scopes: list[str] | None = None
    oauth_resource: str | None = None
    default_tools_approval_mode: str | None = None
    tools: dict[str, Any] | None = None


class ProjectToml(_Table):
    trust_level: TrustLevel | None = None


class _ConfigFields(_Table):
    """Keys allowed both at top level and inside a profile."""

    model: str | None = None
    review_model: str | None = None
    model_provider: str | None = None
    model_providers: dict[str, ModelProviderInfo] | None = None
    model_reasoning_effort: str | None = None
    model_reasoning_summary: str | None = None
    model_verbosity: str | None = None
    model_context_window: int | None = Field(default=None, gt=0)
    model_auto_compact_token_limit: int | None = None
    model_max_output_tokens: int | None = Field(default=None, gt=0)
    approval_policy: ApprovalPolicy | None = None
    sandbox_mode: SandboxMode | None = None
    sandbox_workspace_write: SandboxWorkspaceWriteToml | None = None
    shell_environment_policy: ShellEnvironmentPolicyToml | None = None
    notify: list[str] | None = None
    history: HistoryToml | None = None
    rollout: RolloutToml | None = None
    tools: ToolsToml | None = None
    features: dict[str, bool] | None = None
    model_instructions_file: str | None = None
    developer_instructions: str | None = None
    instructions: str | None = None
    base_instructions: str | None = None
    mcp_servers: dict[str, McpServerToml] | None = None
    otel: dict[str, Any] | None = None
    file_opener: FileOpener | None = None
    hide_agent_reasoning: bool | None = None
    show_raw_agent_reasoning: bool | None = None
    project_doc_max_bytes: int | None = Field(default=None, ge=0)
    project_doc_fallback_filenames: list[str] | None = None
    oss_provider: str | None = None
    tui: dict[str, Any] | None = None
    disable_response_storage: bool | None = None
    chatgpt_base_url: str | None = None
    preferred_auth_method: str | None = None
    cli_auth_credentials_store: str | None = None
    mcp_oauth_credentials_store: str | None = None
    windows: dict[str, Any] | None = None
    web_search: WebSearchMode | None = None
    service_tier: str | None = None
    personality: str | None = None
    compact_prompt: str | None = None
    experimental_compact_prompt_file: str | None = None
    forced_chatgpt_workspace_id: str | None = None
    forced_login_method: str | None = None
    openai_base_url: str | None = None
    check_for_update_on_startup: bool | None = None
    # Known to Codex 0.163 (`config/read`); accepted verbatim until pycodex uses them.
    model_auto_compact_token_limit_scope: Any = None
    approvals_reviewer: Any = None
    analytics: Any = None
    apps: Any = None
    browser_use: Any = None
    computer_use: Any = None
    desktop: Any = None
    include_collaboration_mode_instructions: Any = None
    tool_suggest: Any = None
    cloud: Any = None
    memories: Any = None
    default_permissions: Any = None
    mcp_oauth_callback_url: Any = None
    mcp_oauth_callback_port: Any = None
    experimental_thread_store: Any = None
    experimental_thread_store_endpoint: Any = None
    suppress_unstable_features_warning: Any = None
    include_permissions_instructions: Any = None
    responses_api_metadata: Any = None
    include_environment_context_time: Any = None
    include_environment_context: Any = None
    include_apps_instructions: Any = None
    experimental_realtime_ws_model: Any = None
    experimental_realtime_ws_backend_prompt: Any = None
    experimental_realtime_ws_startup_context: Any = None
    experimental_realtime_ws_base_url: Any = None
    experimental_realtime_webrtc_call_base_url: Any = None
    experimental_realtime_start_instructions: Any = None
    experimental_use_unified_exec_tool: Any = None
    agents: Any = None
    orchestrator: Any = None
    sqlite_home: Any = None
    model_catalog_json: Any = None
    js_repl_node_module_dirs: Any = None
    js_repl_node_path: Any = None
    goals: Any = None
    realtime: Any = None
    plan_mode_reasoning_effort: Any = None
    auto_review: Any = None
    model_post_turn_compact_threshold_percent: Any = None
    mcp_optional_startup_grace_ms: Any = None
    mcp_enterprise_managed_auth: Any = None
    project_root_markers: Any = None
    disable_paste_burst: Any = None
    thread_unload_delay_secs: Any = None
    feedback: Any = None
    apps_mcp_product_sku: Any = None
    marketplaces: Any = None
    log_dir: Any = None
    permissions: Any = None
    audio: Any = None
    allow_login_shell: Any = None
    plugins: Any = None
    daybreak: Any = None
    notice: Any = None
    background_terminal_max_timeout: Any = None
    ghost_snapshot: Any = None
    skills: Any = None
    tool_output_token_limit: Any = None
    hooks: Any = None
    allow_symlinked_codex_home: Any = None
    debug: Any = None


class ProfileToml(_ConfigFields):
    """`[profiles.<name>]`: any top-level key except profile selection and trust."""


class ConfigToml(_ConfigFields):
    profile: str | None = None
    profiles: dict[str, ProfileToml] | None = None
    projects: dict[str, ProjectToml] | None = None


# ---------------------------------------------------------------------------
# Turning pydantic errors into one-line messages
# ---------------------------------------------------------------------------

_EXPECTED_BY_ERROR_TYPE: dict[str, str] = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "list_type": "an array",
    "tuple_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}

# Extra help where the mistake is a known Codex pitfall.
_HINTS: dict[str, str] = {
    "tools.update_plan": " (write `[tools.update_plan]` with `enabled = true` or `false`)",
}


def describe_value(value: Any) -> str:
    """`integer 123`, `string "x"`, `boolean true`: how a TOML value is shown to users."""
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"float {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f'string "{shown}"'
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {value}"


def _clean_loc(loc: tuple[str | int, ...]) -> list[str | int]:
    # Unions add the member type to `loc` (e.g. `bool` or `dict[str,any]`); drop those.
    cleaned: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and ("[" in part or part in {"bool", "str", "int", "float"}):
            continue
        cleaned.append(part)
    return cleaned


def _where(source: str, text: str | None, path: KeyPath) -> str:
    if text is not None:
        position = locate_key(text, path)
        if position is not None:
            return f"{source}:{position[0]}:{position[1]}"
    return source


def format_error(error: ErrorDetails, source: str, text: str | None) -> str:
    """One line: `<source>[:line:col]: <what is wrong with which key>`."""
    path = _clean_loc(tuple(error["loc"]))
    key = format_key_path(path)
    where = _where(source, text, path)
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return f"{where}: missing required field `{key}`"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        choices = ", ".join(f"`{choice}`" for choice in expected)
        return f"{where}: invalid value for `{key}`: expected one of {choices}, got {describe_value(value)}"
    expected_text = _EXPECTED_BY_ERROR_TYPE.get(kind)
    if kind == "union_type":
        expected_text = str(error.get("ctx", {}).get("expected"))
    if expected_text is not None:
        hint = _HINTS.get(key, "")
        return (
            f"{where}: invalid type for `{key}`: expected {expected_text}, "
            f"got {describe_value(value)}{hint}"
        )
    message = error["msg"]
    message = message[:1].lower() + message[1:]
    return f"{where}: invalid value for `{key}`: {message}, got {describe_value(value)}"


def _union_errors_collapsed(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """A value failing `bool | table` yields one error per union member; merge them into
    one error whose message lists what each member would have accepted."""
    merged: dict[tuple[str | int, ...], ErrorDetails] = {}
    expected: dict[tuple[str | int, ...], list[str]] = {}
    for error in errors:
        loc = tuple(_clean_loc(tuple(error["loc"])))
        if len(loc) == len(error["loc"]):
            merged.setdefault(loc, error)
            continue
        member = _EXPECTED_BY_ERROR_TYPE.get(error["type"])
        choices = expected.setdefault(loc, [])
        if member is not None and member not in choices:
            choices.append(member)
        merged.setdefault(loc, error)
    out: list[ErrorDetails] = []
    for loc, error in merged.items():
        if loc in expected:
            ctx = {"expected": " or ".join(expected[loc]) or "a supported value"}
            error = {**error, "type": "union_type", "ctx": ctx}
        out.append(error)
    return out


# ---------------------------------------------------------------------------
# Layer and effective-config validation
# ---------------------------------------------------------------------------


@dataclass
class LayerCheck:
    """A layer's data with unknown keys removed, and the warnings that removal produced."""

    data: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def unknown_field_message(path: KeyPath, source: str) -> str:
    return f"unknown configuration field `{format_key_path(path)}` in {source}"


def _unknown_feature_paths(data: dict[str, Any]) -> list[list[str | int]]:
    paths: list[list[str | int]] = []

    def scan(table: Any, prefix: list[str | int]) -> None:
        if isinstance(table, dict):
            paths.extend([*prefix, name] for name in table if not is_known_feature(name))

    scan(data.get("features"), ["features"])
    profiles = data.get("profiles")
    if isinstance(profiles, dict):
        for name, profile in profiles.items():
            if isinstance(profile, dict):
                scan(profile.get("features"), ["profiles", name, "features"])
    return paths


def _delete_path(data: dict[str, Any], path: KeyPath) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


def check_layer(
    data: dict[str, Any], *, source: str, text: str | None = None, strict: bool = False
) -> LayerCheck:
    """Validate one layer on its own so errors can name the file (and line) they are in.

    Missing required fields are not errors here: a layer may extend a table another layer
    defines (`-c model_providers.x.base_url=...`). `validate_effective` catches them.
    """
    unknown: list[list[str | int]] = []
    try:
        ConfigToml.model_validate(data, strict=True)
    except ValidationError as exc:
        fatal: list[ErrorDetails] = []
        for error in exc.errors():
            if error["type"] == "extra_forbidden":
                unknown.append(list(error["loc"]))
            elif error["type"] != "missing":
                fatal.append(error)
        if fatal:
            raise ConfigError(
                format_error(_union_errors_collapsed(fatal)[0], source, text)
            ) from None
    unknown.extend(_unknown_feature_paths(data))
    if not unknown:
        return LayerCheck(data)
    if strict:
        raise ConfigError(unknown_field_message(unknown[0], source))
    cleaned = copy.deepcopy(data)
    for path in unknown:
        _delete_path(cleaned, path)
    return LayerCheck(cleaned, [unknown_field_message(path, source) for path in unknown])


Blame = Callable[[KeyPath], tuple[str, str | None]]


def validate_effective(data: dict[str, Any], blame: Blame) -> ConfigToml:
    """Validate the merged layers. `blame(path)` names the layer that set `path`
    (source label and file text) so the message still points at a file."""
    try:
        return ConfigToml.model_validate(data, strict=True)
    except ValidationError as exc:
        error = _union_errors_collapsed(exc.errors())[0]
        path = _clean_loc(tuple(error["loc"]))
        source, text = blame(path)
        raise ConfigError(format_error(error, source, text)) from None
