"""Configuration: layered `config.toml` loading, profiles, `-c` overrides, features.

The package namespace is lazy (PEP 562): `import pycodex.config.home` must stay cheap for
commands such as `login status` that only need the home directories, so the schema and
the loader are imported on first use of a name that needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Config": "pycodex.config.config",
    "ConfigOverrides": "pycodex.config.config",
    "load_config": "pycodex.config.config",
    "ConfigError": "pycodex.config.errors",
    "FEATURES": "pycodex.config.features",
    "FeatureSpec": "pycodex.config.features",
    "codex_home": "pycodex.config.home",
    "pycodex_home": "pycodex.config.home",
    "read_home_for": "pycodex.config.home",
    "ModelProviderInfo": "pycodex.config.providers",
    "built_in_providers": "pycodex.config.providers",
    "ConfigToml": "pycodex.config.schema",
    "ConfigSource": "pycodex.config.settings",
    "HistorySettings": "pycodex.config.settings",
    "SandboxWorkspaceWrite": "pycodex.config.settings",
    "ShellEnvironmentPolicy": "pycodex.config.settings",
    "ToolsSettings": "pycodex.config.settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pycodex.config' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
