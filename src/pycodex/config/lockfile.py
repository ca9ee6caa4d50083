"""Config lockfiles (`debug.config_lockfile.*`): record the effective config of a run,
and replay it later, failing early when the config a run would use has drifted.

    [debug.config_lockfile]
    export_dir = "/path/locks"        # a root thread writes <thread_id>.config.lock.toml
    load_path = "/path/locks/X.config.lock.toml"   # replay: drift fails before any request
    allow_codex_version_mismatch = false           # true: only the version line may differ
    save_fields_resolved_from_model_catalog = true # false: catalog values stay dynamic

A lockfile is `version = 1`, `pycodex_version = "..."` and a `[config]` table holding the
fully resolved effective config: every default applied, feature states, providers (no
secrets), plus values resolved from the model catalog (the context window). Inputs that
only select or locate config (profile, debug, project trust, homes, cwd) are left out.
Codex 0.163 does not ship lockfiles; this follows the seed's description.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from pycodex import __version__
from pycodex.config.errors import ConfigError

LOCKFILE_VERSION = 1
SUFFIX = ".config.lock.toml"
_SECRET_KEYS = {"experimental_bearer_token"}


class LockfileSettings(msgspec.Struct, frozen=True):
    export_dir: Path | None = None
    load_path: Path | None = None
    allow_version_mismatch: bool = False
    save_catalog: bool = True


class LockfileDrift(ConfigError):
    """The regenerated config differs from the lockfile. Unlike other config errors the
    message is several lines: one per differing key, which is the point of it."""

    def __init__(self, path: Path, diff: list[str]) -> None:
        Exception.__init__(self, f"config drifted from lockfile {path}:\n" + "\n".join(diff))
        self.path = path
        self.diff = diff


def lockfile_settings(debug: Any, cwd: Path) -> LockfileSettings:
    table = debug.get("config_lockfile") if isinstance(debug, dict) else None
    if not isinstance(table, dict):
        return LockfileSettings()

    def path(key: str) -> Path | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"debug.config_lockfile.{key} must be a path, not {value!r}")
        p = Path(value).expanduser()
        return p if p.is_absolute() else cwd / p

    return LockfileSettings(
        export_dir=path("export_dir"),
        load_path=path("load_path"),
        allow_version_mismatch=table.get("allow_codex_version_mismatch") is True,
        save_catalog=table.get("save_fields_resolved_from_model_catalog", True) is not False,
    )


def _clean(value: Any) -> Any:
    """Builtins without None (TOML has no null), secrets or empty tables."""
    if isinstance(value, dict):
        out = {str(k): _clean(v) for k, v in value.items()
               if v is not None and k not in _SECRET_KEYS}
        return {k: v for k, v in out.items() if v != {}}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value if v is not None]
    return value


def effective_table(config: Any, *, save_catalog: bool) -> dict[str, Any]:
    """The `[config]` table of a lockfile for `config` (a `Config`)."""
    c = config
    table: dict[str, Any] = {
        "model": c.model,
        "model_provider": c.model_provider_id,
        "model_providers": {c.model_provider_id: msgspec.to_builtins(c.model_provider)},
        "model_reasoning_effort": c.model_reasoning_effort,
        "model_reasoning_summary": c.model_reasoning_summary,
        "model_verbosity": c.model_verbosity,
        "model_context_window": c.model_context_window,
        "model_auto_compact_token_limit": c.model_auto_compact_token_limit,
        "model_max_output_tokens": c.model_max_output_tokens,
        "review_model": c.review_model,
        "approval_policy": c.approval_policy,
        "sandbox_mode": c.sandbox_mode,
        "sandbox_workspace_write": msgspec.to_builtins(c.sandbox_workspace_write),
        "shell_environment_policy": msgspec.to_builtins(c.shell_environment_policy),
        "notify": list(c.notify) if c.notify is not None else None,
        "history": msgspec.to_builtins(c.history),
        "tools": msgspec.to_builtins(c.tools),
        "web_search": c.web_search,
        "features": dict(sorted(c.features.items())),
        "base_instructions": c.base_instructions,
        "developer_instructions": c.developer_instructions,
        "instructions": c.instructions,
        "mcp_servers": msgspec.to_builtins(c.mcp_servers),
        "project_doc_max_bytes": c.project_doc_max_bytes,
        "show_raw_agent_reasoning": c.show_raw_agent_reasoning,
        "service_tier": c.config_toml.service_tier,
        "personality": c.config_toml.personality,
    }
    if save_catalog:
        # Resolved from the model catalog (a leaf table of data; imported only here).
        from pycodex.core.model_info import effective_context_window

        table["model_context_window"] = effective_context_window(c.model, c.model_context_window)
    cleaned: dict[str, Any] = _clean(table)
    return cleaned


def render(table: dict[str, Any]) -> str:
    import tomlkit

    doc = tomlkit.document()
    doc["version"] = LOCKFILE_VERSION
    doc["pycodex_version"] = __version__
    doc["config"] = table
    return tomlkit.dumps(doc)


def export_lockfile(config: Any, thread_id: str) -> Path | None:
    """Write `<export_dir>/<thread_id>.config.lock.toml` when export is configured."""
    settings = lockfile_settings(config.config_toml.debug, config.cwd)
    if settings.export_dir is None:
        return None
    from pycodex.auth.store import write_private_file

    body = render(effective_table(config, save_catalog=settings.save_catalog))
    return write_private_file(settings.export_dir / f"{thread_id}{SUFFIX}", body)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def diff_tables(locked: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """`- key = locked` / `+ key = now` lines, one pair per differing key, sorted."""
    import json

    a, b = _flatten(locked), _flatten(current)
    lines: list[str] = []
    for key in sorted(a.keys() | b.keys()):
        if a.get(key, ...) == b.get(key, ...):
            continue
        if key in a:
            lines.append(f"- {key} = {json.dumps(a[key])}")
        if key in b:
            lines.append(f"+ {key} = {json.dumps(b[key])}")
    return lines


def check_replay(config: Any) -> None:
    """Compare the config of this run with the lockfile `load_path` names; raise
    `LockfileDrift` with the per-key diff when they differ."""
    settings = lockfile_settings(config.config_toml.debug, config.cwd)
    path = settings.load_path
    if path is None:
        return
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read lockfile {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if data.get("version") != LOCKFILE_VERSION or not isinstance(data.get("config"), dict):
        raise ConfigError(f"{path}: not a version {LOCKFILE_VERSION} config lockfile")
    diff: list[str] = []
    if data.get("pycodex_version") != __version__ and not settings.allow_version_mismatch:
        diff += [f"- pycodex_version = \"{data.get('pycodex_version')}\"",
                 f'+ pycodex_version = "{__version__}"']
    current = effective_table(config, save_catalog=settings.save_catalog)
    diff += diff_tables(data["config"], current)
    if diff:
        raise LockfileDrift(path, diff)
