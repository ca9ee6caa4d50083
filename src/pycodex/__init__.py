"""pycodex: a terminal coding agent, wire-compatible with the Codex CLI.

This module must stay import-light: `pycodex --version` imports only it.
"""

__version__ = "0.1.0"

#: The Codex CLI version whose wire behaviour pycodex follows.
CODEX_COMPAT_VERSION = "0.163.0"
