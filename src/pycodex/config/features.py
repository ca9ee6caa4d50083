"""The feature-flag registry: every `[features]` name pycodex accepts.

Names, stages and defaults mirror `codex features list` (Codex 0.163) so a Codex
`config.toml` with `[features]` entries loads unchanged. Unknown names in a file are
warnings (Codex users may carry flags from other versions); unknown names given to
`--enable` / `--disable` are errors because the user just typed them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

import msgspec

from pycodex.config.errors import ConfigError

FeatureStage = Literal["stable", "experimental", "under development", "deprecated", "removed"]

STABLE: Final = "stable"
EXPERIMENTAL: Final = "experimental"
UNDER_DEVELOPMENT: Final = "under development"
DEPRECATED: Final = "deprecated"
REMOVED: Final = "removed"


class FeatureSpec(msgspec.Struct, frozen=True):
    name: str
    stage: FeatureStage
    default_enabled: bool


def _f(name: str, stage: FeatureStage, default_enabled: bool) -> FeatureSpec:
    return FeatureSpec(name, stage, default_enabled)


# Kept in the order `features list` prints (alphabetical).
_REGISTRY: Final[tuple[FeatureSpec, ...]] = (
    _f("agent_message_board", UNDER_DEVELOPMENT, False),
    _f("analytics_plan_history", EXPERIMENTAL, False),
    _f("api_key_cyber_access_programs", STABLE, True),
    _f("api_key_model_discovery", STABLE, True),
    _f("apply_patch_freeform", REMOVED, False),
    _f("apply_patch_preserve_line_endings", REMOVED, False),
    _f("apply_patch_streaming_events", UNDER_DEVELOPMENT, False),
    _f("apps", STABLE, True),
    _f("apps_mcp_path_override", REMOVED, False),
    _f("artifact", UNDER_DEVELOPMENT, False),
    _f("async_compaction", UNDER_DEVELOPMENT, False),
    _f("auth_elicitation", STABLE, True),
    _f("background_paginated_rollout_migration", UNDER_DEVELOPMENT, False),
    _f("bedrock_setup_wizard", UNDER_DEVELOPMENT, False),
    _f("browser_annotation_api", STABLE, True),
    _f("browser_use", STABLE, True),
    _f("browser_use_external", STABLE, True),
    _f("browser_use_full_cdp_access", STABLE, True),
    _f("chronicle", UNDER_DEVELOPMENT, False),
    _f("cli_daybreak", STABLE, True),
    _f("code_mode", UNDER_DEVELOPMENT, False),
    _f("code_mode_buffered_exec", REMOVED, False),
    _f("code_mode_host", STABLE, True),
    _f("code_mode_host_grpc", UNDER_DEVELOPMENT, False),
    _f("code_mode_interrupt", STABLE, True),
    _f("code_mode_only", UNDER_DEVELOPMENT, False),
    _f("code_mode_only_strict_3p_tools", UNDER_DEVELOPMENT, False),
    _f("code_mode_prewarm", UNDER_DEVELOPMENT, False),
    _f("code_mode_tool_description_first", UNDER_DEVELOPMENT, False),
    _f("code_mode_tool_search", UNDER_DEVELOPMENT, False),
    _f("codex_apps_mcp_2026_07_28", UNDER_DEVELOPMENT, False),
    _f("codex_git_commit", REMOVED, False),
    _f("collaboration_modes", REMOVED, True),
    _f("compaction_image_budget", STABLE, True),
    _f("computer_use", STABLE, True),
    _f("concurrent_reasoning_summaries", UNDER_DEVELOPMENT, False),
    _f("content_item_kinds", STABLE, True),
    _f("context_management", UNDER_DEVELOPMENT, False),
    _f("credential_masking", UNDER_DEVELOPMENT, False),
    _f("current_time_reminder", UNDER_DEVELOPMENT, False),
    _f("cwd_relative_turn_diffs", UNDER_DEVELOPMENT, False),
    _f("daemon_auto_start", STABLE, True),
    _f("default_mode_request_user_input", UNDER_DEVELOPMENT, False),
    _f("defer_mailbox_preemption", UNDER_DEVELOPMENT, False),
    _f("deferred_executor", UNDER_DEVELOPMENT, False),
    _f("deferred_tool_world_state", UNDER_DEVELOPMENT, False),
    _f("elevated_windows_sandbox", REMOVED, False),
    _f("enable_fanout", REMOVED, False),
    _f("enable_mcp_apps", UNDER_DEVELOPMENT, False),
    _f("enable_request_compression", STABLE, True),
    _f("exec_permission_approvals", UNDER_DEVELOPMENT, False),
    _f("executed_tool_call_metadata", UNDER_DEVELOPMENT, False),
    _f("executor_capability_discovery", UNDER_DEVELOPMENT, False),
    _f("experimental_windows_sandbox", REMOVED, False),
    _f("external_agent_memory_import", UNDER_DEVELOPMENT, False),
    _f("external_migration", REMOVED, False),
    _f("fast_mode", STABLE, True),
    _f("goals", STABLE, True),
    _f("guardian_approval", STABLE, True),
    _f("guardian_conversation_history_tools", UNDER_DEVELOPMENT, False),
    _f("guardian_enhanced_node_repl_transcripts", UNDER_DEVELOPMENT, False),
    _f("guardian_ext", REMOVED, False),
    _f("guardian_node_repl_transcript_images", UNDER_DEVELOPMENT, False),
    _f("guardian_reuse_parent_compaction", STABLE, True),
    _f("guardian_root_handoff_context", UNDER_DEVELOPMENT, False),
    _f("guardian_trust_orchestrator_connectors", UNDER_DEVELOPMENT, False),
    _f("guardianv2", UNDER_DEVELOPMENT, False),
    _f("guardianv2.thread_context", REMOVED, False),
    _f("guardianv2_decisions_comparison", UNDER_DEVELOPMENT, False),
    _f("hooks", STABLE, True),
    _f("image_detail_original", REMOVED, False),
    _f("image_generation", STABLE, True),
    _f("image_resize_notice", UNDER_DEVELOPMENT, False),
    _f("in_app_browser", STABLE, True),
    _f("in_app_chat", STABLE, True),
    _f("in_app_dictation", STABLE, True),
    _f("in_app_local_automation", STABLE, True),
    _f("in_app_updates", STABLE, True),
    _f("in_app_voice", STABLE, True),
    _f("incremental_tools", UNDER_DEVELOPMENT, False),
    _f("instant_interrupt", UNDER_DEVELOPMENT, True),
    _f("item_ids", REMOVED, True),
    _f("js_repl", REMOVED, False),
    _f("js_repl_tools_only", REMOVED, False),
    _f("local_thread_store_compression", UNDER_DEVELOPMENT, False),
    _f("local_thread_store_shared_compression", REMOVED, False),
    _f("login_shell_package_path", EXPERIMENTAL, False),
    _f("mcp_2026_07_28", UNDER_DEVELOPMENT, False),
    _f("mcp_oauth_refresh_coordination", UNDER_DEVELOPMENT, False),
    _f("memories", STABLE, False),
    _f("mentions_v2", STABLE, True),
    _f("model_catalog_in_context", UNDER_DEVELOPMENT, False),
    _f("multi_agent", STABLE, True),
    _f("multi_agent_mode", REMOVED, False),
    _f("multi_agent_v2", STABLE, False),
    _f("multi_agent_v2_dynamic_tools", UNDER_DEVELOPMENT, False),
    _f("network_proxy", EXPERIMENTAL, False),
    _f("non_prefixed_mcp_tool_names", UNDER_DEVELOPMENT, False),
    _f("nonfatal_clock_read_errors", UNDER_DEVELOPMENT, False),
    _f("omit_app_server_notification_media", UNDER_DEVELOPMENT, False),
    _f("output_token_replay", UNDER_DEVELOPMENT, False),
    _f("personality", REMOVED, False),
    _f("plugin_hooks", REMOVED, False),
    _f("plugin_sharing", STABLE, True),
    _f("plugins", STABLE, True),
    _f("powershell_shell_version", UNDER_DEVELOPMENT, False),
    _f("prefer_mxc", UNDER_DEVELOPMENT, False),
    _f("prevent_idle_sleep", EXPERIMENTAL, False),
    _f("psp", UNDER_DEVELOPMENT, False),
    _f("realtime_conversation", STABLE, True),
    _f("reasoning_effort_override", UNDER_DEVELOPMENT, False),
    _f("recommended_plugins", STABLE, False),
    _f("remote_compaction_v2", REMOVED, False),
    _f("remote_control", REMOVED, False),
    _f("remote_models", REMOVED, False),
    _f("remote_plugin", STABLE, True),
    _f("request_permissions_tool", UNDER_DEVELOPMENT, False),
    _f("request_rule", REMOVED, False),
    _f("resize_all_images", REMOVED, True),
    _f("respect_system_proxy", UNDER_DEVELOPMENT, False),
    _f("responses_websockets", REMOVED, False),
    _f("responses_websockets_v2", REMOVED, False),
    _f("retain_client_developer_messages", UNDER_DEVELOPMENT, False),
    _f("retain_client_tool_outputs", UNDER_DEVELOPMENT, False),
    _f("rollout_budget", UNDER_DEVELOPMENT, False),
    _f("runtime_metrics", UNDER_DEVELOPMENT, False),
    _f("search_tool", REMOVED, False),
    _f("secret_auth_storage", STABLE, False),
    _f("send_async_message", REMOVED, False),
    _f("send_message_to_user_async", UNDER_DEVELOPMENT, False),
    _f("shell_snapshot", STABLE, True),
    _f("shell_snapshot_v2", UNDER_DEVELOPMENT, False),
    _f("shell_tool", STABLE, True),
    _f("shell_zsh_fork", REMOVED, False),
    _f("skill_env_var_dependency_prompt", REMOVED, False),
    _f("skill_mcp_dependency_install", STABLE, True),
    _f("skill_search", STABLE, True),
    _f("skip_host_skill_discovery", UNDER_DEVELOPMENT, False),
    _f("sleep_tool", STABLE, True),
    _f("sqlite", REMOVED, True),
    _f("stable_environment_tools", UNDER_DEVELOPMENT, False),
    _f("standalone_web_search", UNDER_DEVELOPMENT, False),
    _f("steer", REMOVED, True),
    _f("step_model_switching", UNDER_DEVELOPMENT, False),
    _f("subagent_default_context_limits", UNDER_DEVELOPMENT, False),
    _f("system_proxy_fallback", STABLE, True),
    _f("terminal_resize_reflow", REMOVED, True),
    _f("terminal_visualization_instructions", UNDER_DEVELOPMENT, False),
    _f("token_budget", UNDER_DEVELOPMENT, False),
    _f("tool_call_mcp_elicitation", STABLE, True),
    _f("tool_search", REMOVED, False),
    _f("tool_search_always_defer_mcp_tools", REMOVED, True),
    _f("tool_suggest", STABLE, True),
    _f("transcript_v2", DEPRECATED, False),
    _f("tui_app_server", REMOVED, True),
    _f("ultrafast_mode", STABLE, True),
    _f("unavailable_dummy_tools", REMOVED, False),
    _f("unbounded_connection_retries", STABLE, True),
    _f("undo", REMOVED, False),
    _f("unified_exec", STABLE, True),
    _f("unified_exec_tty", STABLE, True),
    _f("unified_exec_zsh_fork", REMOVED, False),
    _f("unified_image_budget", UNDER_DEVELOPMENT, False),
    _f("use_agent_identity", UNDER_DEVELOPMENT, False),
    _f("use_legacy_landlock", DEPRECATED, False),
    _f("use_linux_sandbox_bwrap", REMOVED, False),
    _f("use_xaa", UNDER_DEVELOPMENT, False),
    _f("view_image", STABLE, True),
    _f("web_search_cached", DEPRECATED, False),
    _f("web_search_request", DEPRECATED, False),
    _f("windows_sandbox_service", UNDER_DEVELOPMENT, False),
    _f("workspace_dependencies", STABLE, True),
    _f("workspace_owner_usage_nudge", REMOVED, False),
    _f("worktrees", STABLE, True),
    _f("write_stdin_approval", STABLE, True),
)

FEATURES: Final[Mapping[str, FeatureSpec]] = {spec.name: spec for spec in _REGISTRY}


def is_known_feature(name: str) -> bool:
    return name in FEATURES


def default_features() -> dict[str, bool]:
    return {spec.name: spec.default_enabled for spec in _REGISTRY}


def resolve_features(configured: Mapping[str, bool]) -> dict[str, bool]:
    """Every known feature with its effective value; unknown names are dropped.

    Unknown names have already been reported (warning or error) by the loader; keeping
    them out here means consumers can index the result without a `.get()` default.
    """
    resolved = default_features()
    for name, enabled in configured.items():
        if name in resolved:
            resolved[name] = enabled
    return resolved


def check_feature_names(names: list[str]) -> None:
    """Raise for the first name that is not a feature (for `--enable` / `--disable`)."""
    for name in names:
        if name not in FEATURES:
            raise ConfigError(f"Unknown feature flag: {name}")
