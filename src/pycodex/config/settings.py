"""Resolved (defaults applied) sub-settings of `Config`.

These are what the engine consumes; the `*Toml` models in `schema` are what users write.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from pycodex.config.schema import (
    HistoryPersistence,
    HistoryToml,
    ShellEnvironmentInherit,
    ShellEnvironmentPolicyToml,
    ToolsToml,
)


class ShellEnvironmentPolicy(msgspec.Struct, frozen=True):
    """How the environment of spawned commands is built (applied by `process/`):
    start from `inherit`, drop *KEY*/*SECRET*/*TOKEN* names unless
    `ignore_default_excludes`, drop `exclude` globs, add `set`, keep only `include_only`
    globs when given. Globs are matched case-insensitively."""

    inherit: ShellEnvironmentInherit = "all"
    # Codex now defaults this to true (secrets leak into commands); pycodex keeps the
    # original, safer default of filtering them out.
    ignore_default_excludes: bool = False
    exclude: tuple[str, ...] = ()
    include_only: tuple[str, ...] = ()
    set: dict[str, str] = msgspec.field(default_factory=dict)
    use_profile: bool = False

    @classmethod
    def from_toml(cls, toml: ShellEnvironmentPolicyToml | None) -> ShellEnvironmentPolicy:
        if toml is None:
            return cls()
        return cls(
            inherit=toml.inherit or "all",
            ignore_default_excludes=bool(toml.ignore_default_excludes),
            exclude=tuple(toml.exclude or ()),
            include_only=tuple(toml.include_only or ()),
            set=dict(toml.set or {}),
            use_profile=bool(toml.experimental_use_profile),
        )


class HistorySettings(msgspec.Struct, frozen=True):
    """`$PYCODEX_HOME/history.jsonl` (prompt history, like a shell's)."""

    persistence: HistoryPersistence = "save-all"
    max_bytes: int | None = None

    @classmethod
    def from_toml(cls, toml: HistoryToml | None) -> HistorySettings:
        if toml is None:
            return cls()
        return cls(persistence=toml.persistence or "save-all", max_bytes=toml.max_bytes)


class ToolsSettings(msgspec.Struct, frozen=True):
    # `tools.web_search` (legacy switch): True = live, False = disabled, None = not set.
    web_search: bool | None = None
    view_image: bool = True
    update_plan: bool = True
    # "shell" | "unified_exec" | "local_shell"; None: chosen by model family.
    shell_type: str | None = None

    @classmethod
    def from_toml(cls, toml: ToolsToml | None) -> ToolsSettings:
        if toml is None:
            return cls()
        web_search = toml.web_search
        return cls(
            # A `[tools.web_search]` table configures the tool, so it also enables it.
            web_search=None if web_search is None else web_search is not False,
            view_image=True if toml.view_image is None else toml.view_image,
            update_plan=(
                True
                if toml.update_plan is None or toml.update_plan.enabled is None
                else toml.update_plan.enabled
            ),
            shell_type=toml.shell_type,
        )


class SandboxWorkspaceWrite(msgspec.Struct, frozen=True):
    """Extra knobs for `sandbox_mode = "workspace-write"`."""

    writable_roots: tuple[Path, ...] = ()
    network_access: bool = False
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False


class ConfigSource(msgspec.Struct, frozen=True):
    """One layer that contributed to the effective config (for `pycodex config`)."""

    kind: str  # "user" | "profile" | "project" | "cli" | "flags"
    source: str  # file path, or "-c/--config override" / "command-line flags"
    path: Path | None = None
