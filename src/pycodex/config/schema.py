"""`ConfigToml`: the shape of `config.toml` (and of every other config layer).

Every field is optional: a layer says only what it changes. The classes are msgspec
Structs (cheap to define at start-up); `validation` checks data against them without
coercing TOML types (`model_provider = 123` is an error, not "123"). Keys Codex knows
but pycodex does not use yet are typed `Any` so that a Codex user's config loads without
warnings; they are kept for `config/read` and lockfiles.
"""

# No `from __future__ import annotations`: msgspec reads these annotations on the first
# validation of every run; as objects built once here they cost about half of what
# evaluating ~250 annotation strings then would (measured: ~4 ms vs ~8 ms).

from typing import Annotated, Any, Literal, get_args

import msgspec

from pycodex.config.providers import ModelProviderInfo, NonNegativeInt, PositiveInt

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


NonNegativeFloat = Annotated[float, msgspec.Meta(ge=0)]


class _Table(msgspec.Struct, forbid_unknown_fields=True):
    """A TOML table. `validation` finds every unknown key (for warnings) before data
    reaches msgspec; forbidding them here as well means msgspec never drops one silently
    if that walk misses a case. Subclasses say `kw_only=True` (msgspec does not inherit
    it): tables are built by key, never by position."""


class SandboxWorkspaceWriteToml(_Table, kw_only=True):
    writable_roots: list[str] | None = None
    network_access: bool | None = None
    exclude_tmpdir_env_var: bool | None = None
    exclude_slash_tmp: bool | None = None


class ShellEnvironmentPolicyToml(_Table, kw_only=True):
    inherit: ShellEnvironmentInherit | None = None
    ignore_default_excludes: bool | None = None
    exclude: list[str] | None = None
    include_only: list[str] | None = None
    set: dict[str, str] | None = None
    experimental_use_profile: bool | None = None


class HistoryToml(_Table, kw_only=True):
    persistence: HistoryPersistence | None = None
    max_bytes: NonNegativeInt | None = None


class RolloutToml(_Table, kw_only=True):
    """pycodex-only: how session records are stored."""

    # Tool outputs larger than this are stored head + tail in the rollout (0 = no cap).
    max_item_bytes: NonNegativeInt | None = None


class UpdatePlanToolToml(_Table, kw_only=True):
    enabled: bool | None = None


class ToolsToml(_Table, kw_only=True):
    # Codex accepts a boolean or a table (context size, allowed domains...) here.
    web_search: bool | dict[str, Any] | None = None
    view_image: bool | None = None
    update_plan: UpdatePlanToolToml | None = None
    experimental_request_user_input: dict[str, Any] | None = None
    # pycodex: force the shell tool offered to the model (default: by model family).
    shell_type: ShellType | None = None


class McpServerToml(_Table, kw_only=True):
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
    startup_timeout_sec: NonNegativeFloat | None = None
    startup_timeout_ms: NonNegativeInt | None = None
    tool_timeout_sec: NonNegativeFloat | None = None
    enabled_tools: list[str] | None = None
    disabled_tools: list[str] | None = None
    scopes: list[str] | None = None
    oauth_resource: str | None = None
    default_tools_approval_mode: str | None = None
    tools: dict[str, Any] | None = None


class ProjectToml(_Table, kw_only=True):
    trust_level: TrustLevel | None = None


class _ConfigFields(_Table, kw_only=True):
    """Keys allowed both at top level and inside a profile."""

    model: str | None = None
    review_model: str | None = None
    model_provider: str | None = None
    model_providers: dict[str, ModelProviderInfo] | None = None
    model_reasoning_effort: str | None = None
    model_reasoning_summary: str | None = None
    model_verbosity: str | None = None
    model_context_window: PositiveInt | None = None
    model_auto_compact_token_limit: int | None = None
    model_max_output_tokens: PositiveInt | None = None
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
    project_doc_max_bytes: NonNegativeInt | None = None
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


class ProfileToml(_ConfigFields, kw_only=True):
    """`[profiles.<name>]`: any top-level key except profile selection and trust."""


class ConfigToml(_ConfigFields, kw_only=True):
    profile: str | None = None
    profiles: dict[str, ProfileToml] | None = None
    projects: dict[str, ProjectToml] | None = None
