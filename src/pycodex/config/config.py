"""`Config`: the effective settings for one pycodex run, and `load_config` to build it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from pycodex.config.errors import ConfigError
from pycodex.config.features import check_feature_names, resolve_features
from pycodex.config.home import codex_home, expand_user, pycodex_home, read_home_for
from pycodex.config.keypath import KeyPath, format_key_path
from pycodex.config.loader import (
    CONFIG_FILENAME,
    FLAGS_SOURCE,
    ConfigLayer,
    deep_merge,
    find_project_root,
    load_file_layer,
    merge_layers,
    overrides_layer,
    project_config_files,
    project_trust,
)
from pycodex.config.providers import (
    OPENAI_PROVIDER_ID,
    OSS_PROVIDER_ID,
    ModelProviderInfo,
    built_in_provider_tables,
    built_in_providers,
)
from pycodex.config.schema import (
    REASONING_EFFORTS,
    REASONING_SUMMARIES,
    VERBOSITIES,
    ApprovalPolicy,
    ConfigToml,
    McpServerToml,
    SandboxMode,
)
from pycodex.config.settings import (
    ConfigSource,
    HistorySettings,
    SandboxWorkspaceWrite,
    ShellEnvironmentPolicy,
    ToolsSettings,
)
from pycodex.config.validation import Blame, check_layer, validate_effective

DEFAULT_MODEL = "gpt-5.5"
DEFAULT_OSS_MODEL = "gpt-oss:20b"
DEFAULT_APPROVAL_POLICY: ApprovalPolicy = "on-request"
DEFAULT_SANDBOX_MODE: SandboxMode = "read-only"
DEFAULT_PROJECT_DOC_MAX_BYTES = 32 * 1024
DEFAULT_FILE_OPENER = "vscode"
DEFAULT_CHATGPT_BASE_URL = "https://chatgpt.com/backend-api/"
DEFAULT_CLI_AUTH_CREDENTIALS_STORE = "file"
OSS_BASE_URL_ENV_VARS = ("PYCODEX_OSS_BASE_URL", "CODEX_OSS_BASE_URL")


class ConfigOverrides(msgspec.Struct):
    """Explicit CLI flags: the highest-precedence layer. None / empty = not given."""

    model: str | None = None
    model_provider: str | None = None
    profile: str | None = None
    cwd: Path | None = None
    approval_policy: str | None = None
    sandbox_mode: str | None = None
    oss: bool = False
    add_dirs: list[Path] = msgspec.field(default_factory=list)
    enable: list[str] = msgspec.field(default_factory=list)
    disable: list[str] = msgspec.field(default_factory=list)
    strict: bool = False
    ephemeral: bool = False
    config_overrides: list[str] = msgspec.field(default_factory=list)  # raw `-c key=value` strings
    # `--ignore-user-config`: skip `<home>/config.toml` (auth still comes from the home).
    ignore_user_config: bool = False
    # `--ignore-rules`: load no `rules/*.rules` exec-policy files.
    ignore_rules: bool = False


class Config(msgspec.Struct, frozen=True):
    """Effective settings with every default applied. Built once per run and passed
    down; the engine never re-reads config files."""

    model: str
    model_provider_id: str
    model_provider: ModelProviderInfo
    model_providers: dict[str, ModelProviderInfo]
    model_reasoning_effort: str | None
    model_reasoning_summary: str | None
    model_verbosity: str | None
    model_context_window: int | None
    model_auto_compact_token_limit: int | None
    model_max_output_tokens: int | None
    review_model: str | None
    approval_policy: ApprovalPolicy
    sandbox_mode: SandboxMode
    sandbox_workspace_write: SandboxWorkspaceWrite
    # sandbox_workspace_write.writable_roots plus --add-dir, absolute.
    writable_roots: tuple[Path, ...]
    shell_environment_policy: ShellEnvironmentPolicy
    notify: tuple[str, ...] | None
    history: HistorySettings
    tools: ToolsSettings
    # `web_search`: "disabled" | "cached" (the default: indexed results only) | "live".
    web_search: str
    features: dict[str, bool]
    cwd: Path
    project_root: Path
    project_trusted: bool
    pycodex_home: Path
    codex_home: Path
    profile: str | None
    config_sources: tuple[ConfigSource, ...]
    warnings: tuple[str, ...]
    model_instructions_file: Path | None
    developer_instructions: str | None
    instructions: str | None
    base_instructions: str | None
    mcp_servers: dict[str, McpServerToml]
    otel: dict[str, Any]
    tui: dict[str, Any]
    windows: dict[str, Any]
    file_opener: str
    hide_agent_reasoning: bool
    show_raw_agent_reasoning: bool
    project_doc_max_bytes: int
    project_doc_fallback_filenames: tuple[str, ...]
    oss: bool
    oss_provider: str | None
    disable_response_storage: bool
    chatgpt_base_url: str
    preferred_auth_method: str | None
    cli_auth_credentials_store: str
    ephemeral: bool
    ignore_rules: bool
    strict: bool
    # The merged file-level view (all layers), for `config/read` and lockfiles.
    config_toml: ConfigToml

    def feature_enabled(self, name: str) -> bool:
        return self.features.get(name, False)


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def _resolve_cwd(cwd: Path | None) -> Path:
    base = Path(os.getcwd())
    path = base if cwd is None else (cwd if cwd.is_absolute() else base / cwd)
    resolved = path.resolve()
    if not resolved.is_dir():
        raise ConfigError(f"working directory {path} does not exist or is not a directory")
    return resolved


def _checked(layer: ConfigLayer, strict: bool, warnings: list[str]) -> ConfigLayer:
    result = check_layer(layer.data, source=layer.source, text=layer.text, strict=strict)
    warnings.extend(result.warnings)
    return ConfigLayer(layer.kind, layer.source, result.data, layer.path, layer.text)


def _unsafe_name(name: str) -> bool:
    return name in {".", ".."} or "/" in name or "\\" in name or "\0" in name


def _profile_layers(
    name: str, user: ConfigLayer | None, home: Path, strict: bool, warnings: list[str]
) -> list[ConfigLayer]:
    layers: list[ConfigLayer] = []
    profiles = user.data.get("profiles") if user is not None else None
    table = profiles.get(name) if isinstance(profiles, dict) else None
    if user is not None and isinstance(table, dict):
        # Already validated as part of the user file. No text: its keys sit under
        # `profiles.NAME` in that file, so a line lookup by bare key would mislead.
        layers.append(
            ConfigLayer("profile", f"{user.source} [profiles.{format_key_path([name])}]", table)
        )
    profile_file = home / f"{name}.{CONFIG_FILENAME}"
    # A name like `../x` must not reach outside the home directory.
    file_layer = None if _unsafe_name(name) else load_file_layer(profile_file, "profile")
    if file_layer is not None:
        layers.append(_checked(file_layer, strict, warnings))
    if not layers:
        user_path = user.source if user is not None else str(home / CONFIG_FILENAME)
        raise ConfigError(
            f"config profile `{name}` not found: no [profiles.{format_key_path([name])}] "
            f"table in {user_path} and no {profile_file}"
        )
    return layers


def _flags_layer(overrides: ConfigOverrides, below: Mapping[str, Any]) -> ConfigLayer | None:
    check_feature_names(overrides.enable)
    check_feature_names(overrides.disable)
    data: dict[str, Any] = {}
    if overrides.oss:
        # As in Codex, --oss switches provider *and* model (the configured model is
        # usually an OpenAI one the local server does not have); -m still wins.
        oss_provider = below.get("oss_provider")
        data["model_provider"] = oss_provider if isinstance(oss_provider, str) else OSS_PROVIDER_ID
        data["model"] = DEFAULT_OSS_MODEL
    if overrides.model is not None:
        data["model"] = overrides.model
    if overrides.model_provider is not None:
        data["model_provider"] = overrides.model_provider
    if overrides.approval_policy is not None:
        data["approval_policy"] = overrides.approval_policy
    if overrides.sandbox_mode is not None:
        data["sandbox_mode"] = overrides.sandbox_mode
    features = {name: True for name in overrides.enable}
    features.update({name: False for name in overrides.disable})
    if features:
        data["features"] = features
    if not data:
        return None
    return ConfigLayer("flags", FLAGS_SOURCE, data)


def _project_layers(
    cwd: Path,
    root: Path,
    trusted: bool,
    skip: set[Path],
    user_config_path: Path,
    strict: bool,
    warnings: list[str],
) -> list[ConfigLayer]:
    layers: list[ConfigLayer] = []
    for path in project_config_files(root, cwd):
        if path.resolve() in skip:
            continue  # e.g. cwd is $HOME and `~/.codex/config.toml` is the user config
        if not trusted:
            warnings.append(
                f"ignored project config {path}: {root} is not a trusted project "
                f'(set [projects."{root}"] trust_level = "trusted" in {user_config_path})'
            )
            continue
        layer = load_file_layer(path, "project")
        if layer is not None:
            layers.append(_checked(layer, strict, warnings))
    return layers


def _blamer(layers: list[ConfigLayer]) -> Blame:
    """The layer that set (the longest prefix of) a key, highest precedence first."""

    def blame(path: KeyPath) -> tuple[str, str | None]:
        best: tuple[int, ConfigLayer] | None = None
        for layer in layers:
            depth = 0
            node: Any = layer.data
            for part in path:
                if isinstance(node, dict) and part in node:
                    node = node[part]
                    depth += 1
                else:
                    break
            if depth and (best is None or depth >= best[0]):
                best = (depth, layer)
        if best is None:
            return "configuration", None
        return best[1].source, best[1].text

    return blame


def _seed_builtin_providers(
    merged: dict[str, Any], builtins: Mapping[str, Mapping[str, Any]]
) -> None:
    """A user table for a built-in id patches the built-in (so `-c
    model_providers.oss.base_url=...` works) instead of replacing it wholesale."""
    user = merged.get("model_providers")
    if not isinstance(user, dict):
        return
    # A copy: `merged` may share this dict with a layer, whose data must stay as written.
    seeded = dict(user)
    for provider_id, table in user.items():
        if provider_id in builtins and isinstance(table, dict):
            seeded[provider_id] = deep_merge(builtins[provider_id], table)
    merged["model_providers"] = seeded


def _web_search_mode(toml: ConfigToml, tools: ToolsSettings, sandbox_mode: str) -> str:
    """Top-level `web_search` wins; the older `tools.web_search` switch means live/off.
    Unset, it is "cached", or "live" when commands run without a sandbox anyway (as in
    Codex: nothing is gained by keeping search offline then)."""
    if toml.web_search is not None:
        return toml.web_search
    if tools.web_search is None:
        return "live" if sandbox_mode == "danger-full-access" else "cached"
    return "live" if tools.web_search else "disabled"


def _enum_warnings(toml: ConfigToml, blame: Blame) -> list[str]:
    warnings: list[str] = []
    for key, value, known in (
        ("model_reasoning_effort", toml.model_reasoning_effort, REASONING_EFFORTS),
        ("model_reasoning_summary", toml.model_reasoning_summary, REASONING_SUMMARIES),
        ("model_verbosity", toml.model_verbosity, VERBOSITIES),
    ):
        if value is not None and value not in known:
            source, _ = blame([key])
            choices = ", ".join(f"`{choice}`" for choice in known)
            warnings.append(
                f"unknown {key} `{value}` in {source}; sending it to the provider as-is "
                f"(known values: {choices})"
            )
    return warnings


def _absolute(path_text: str, cwd: Path, env: Mapping[str, str] | None) -> Path:
    path = expand_user(path_text, env)
    return path if path.is_absolute() else cwd / path


def _check_mcp_servers(servers: Mapping[str, McpServerToml], blame: Blame) -> None:
    for name, server in servers.items():
        if (server.command is None) == (server.url is None):
            source, _ = blame(["mcp_servers", name])
            key = format_key_path(["mcp_servers", name])
            raise ConfigError(
                f"{source}: invalid `{key}`: set exactly one of `command` (stdio) "
                "or `url` (streamable HTTP)"
            )


def load_config(overrides: ConfigOverrides, *, env: Mapping[str, str] | None = None) -> Config:
    """Read every layer, validate it, merge by precedence and apply defaults.

    `env` replaces `os.environ` for home lookup, so tests never read the real home.
    """
    strict = overrides.strict
    warnings: list[str] = []
    own_home = pycodex_home(env)
    borrowed_home = codex_home(env)
    config_home = read_home_for(CONFIG_FILENAME, env)
    user_config_path = config_home / CONFIG_FILENAME

    user = None if overrides.ignore_user_config else load_file_layer(user_config_path, "user")
    if user is not None:
        user = _checked(user, strict, warnings)
    cli = overrides_layer(overrides.config_overrides)
    if cli is not None:
        cli = _checked(cli, strict, warnings)

    base_layers = [layer for layer in (user, cli) if layer is not None]
    selection = merge_layers(base_layers)
    selected = selection.get("profile")
    profile_name = overrides.profile or (selected if isinstance(selected, str) else None)
    profile_layers: list[ConfigLayer] = []
    if profile_name:
        profile_layers = _profile_layers(profile_name, user, config_home, strict, warnings)

    cwd = _resolve_cwd(overrides.cwd)
    root = find_project_root(cwd)
    # Trust comes only from the user's own settings (never from a project file).
    trust_view = merge_layers(
        [
            *([user] if user is not None else []),
            *profile_layers,
            *([cli] if cli is not None else []),
        ]
    )
    projects = trust_view.get("projects")
    trusted, _ = project_trust(cwd, projects if isinstance(projects, dict) else {}, env)
    skip = {(home / CONFIG_FILENAME).resolve() for home in (own_home, borrowed_home)}
    project_layers = _project_layers(cwd, root, trusted, skip, user_config_path, strict, warnings)

    layers = [
        *([user] if user is not None else []),
        *profile_layers,
        *project_layers,
        *([cli] if cli is not None else []),
    ]
    flags = _flags_layer(overrides, merge_layers(layers))
    if flags is not None:
        layers.append(_checked(flags, strict, warnings))

    environ = os.environ if env is None else env
    oss_base_url = next((environ[k] for k in OSS_BASE_URL_ENV_VARS if environ.get(k)), None)
    builtin_tables = built_in_provider_tables(oss_base_url)
    merged = merge_layers(layers)
    _seed_builtin_providers(merged, builtin_tables)
    blame = _blamer(layers)
    toml = validate_effective(merged, blame)
    warnings.extend(_enum_warnings(toml, blame))

    providers = {**built_in_providers(oss_base_url), **(toml.model_providers or {})}
    provider_id = toml.model_provider or OPENAI_PROVIDER_ID
    if provider_id not in providers:
        source, _ = blame(["model_provider"])
        known = ", ".join(f"`{pid}`" for pid in sorted(providers))
        raise ConfigError(
            f"{source}: unknown model provider `{provider_id}`; known providers: {known} "
            "(define others under [model_providers.<id>])"
        )

    mcp_servers = dict(toml.mcp_servers or {})
    _check_mcp_servers(mcp_servers, blame)

    ws = toml.sandbox_workspace_write
    workspace = SandboxWorkspaceWrite(
        writable_roots=tuple(_absolute(p, cwd, env) for p in (ws.writable_roots or []))
        if ws
        else (),
        network_access=bool(ws and ws.network_access),
        exclude_tmpdir_env_var=bool(ws and ws.exclude_tmpdir_env_var),
        exclude_slash_tmp=bool(ws and ws.exclude_slash_tmp),
    )
    writable_roots = list(workspace.writable_roots)
    for extra in overrides.add_dirs:
        path = (extra if extra.is_absolute() else cwd / extra).resolve()
        if path not in writable_roots:
            writable_roots.append(path)

    sources = tuple(ConfigSource(layer.kind, layer.source, layer.path) for layer in layers)
    sandbox_mode = toml.sandbox_mode or DEFAULT_SANDBOX_MODE
    tools = ToolsSettings.from_toml(toml.tools)
    config = Config(
        model=toml.model or DEFAULT_MODEL,
        model_provider_id=provider_id,
        model_provider=providers[provider_id],
        model_providers=providers,
        model_reasoning_effort=toml.model_reasoning_effort,
        model_reasoning_summary=toml.model_reasoning_summary,
        model_verbosity=toml.model_verbosity,
        model_context_window=toml.model_context_window,
        model_auto_compact_token_limit=toml.model_auto_compact_token_limit,
        model_max_output_tokens=toml.model_max_output_tokens,
        review_model=toml.review_model,
        approval_policy=toml.approval_policy or DEFAULT_APPROVAL_POLICY,
        sandbox_mode=sandbox_mode,
        sandbox_workspace_write=workspace,
        writable_roots=tuple(writable_roots),
        shell_environment_policy=ShellEnvironmentPolicy.from_toml(toml.shell_environment_policy),
        notify=tuple(toml.notify) if toml.notify is not None else None,
        history=HistorySettings.from_toml(toml.history),
        tools=tools,
        web_search=_web_search_mode(toml, tools, sandbox_mode),
        features=resolve_features(toml.features or {}),
        cwd=cwd,
        project_root=root,
        project_trusted=trusted,
        pycodex_home=own_home,
        codex_home=borrowed_home,
        profile=profile_name or None,
        config_sources=sources,
        warnings=tuple(warnings),
        model_instructions_file=(
            _absolute(toml.model_instructions_file, cwd, env)
            if toml.model_instructions_file
            else None
        ),
        developer_instructions=toml.developer_instructions,
        instructions=toml.instructions,
        base_instructions=toml.base_instructions,
        mcp_servers=mcp_servers,
        otel=dict(toml.otel or {}),
        tui=dict(toml.tui or {}),
        windows=dict(toml.windows or {}),
        file_opener=toml.file_opener or DEFAULT_FILE_OPENER,
        hide_agent_reasoning=bool(toml.hide_agent_reasoning),
        show_raw_agent_reasoning=bool(toml.show_raw_agent_reasoning),
        project_doc_max_bytes=(
            DEFAULT_PROJECT_DOC_MAX_BYTES
            if toml.project_doc_max_bytes is None
            else toml.project_doc_max_bytes
        ),
        project_doc_fallback_filenames=tuple(toml.project_doc_fallback_filenames or ()),
        oss=overrides.oss,
        oss_provider=toml.oss_provider,
        disable_response_storage=bool(toml.disable_response_storage),
        chatgpt_base_url=toml.chatgpt_base_url or DEFAULT_CHATGPT_BASE_URL,
        preferred_auth_method=toml.preferred_auth_method,
        cli_auth_credentials_store=toml.cli_auth_credentials_store
        or DEFAULT_CLI_AUTH_CREDENTIALS_STORE,
        ephemeral=overrides.ephemeral,
        ignore_rules=overrides.ignore_rules,
        strict=strict,
        config_toml=toml,
    )
    if isinstance(toml.debug, dict) and "config_lockfile" in toml.debug:
        # Replaying a lockfile: a drifted config fails here, before any model request.
        from pycodex.config.lockfile import check_replay

        check_replay(config)
    return config
