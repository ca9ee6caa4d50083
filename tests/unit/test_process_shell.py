"""Shell discovery, login-environment parsing and the shell tool choice."""

from __future__ import annotations

import shutil

import pytest

from pycodex.process.shell import UserShell, discover_user_shell, parse_env0, resolve_shell
from pycodex.tools.specs import shell_tool_type


def test_discovery_prefers_shell_env_and_replaces_unsupported_shells() -> None:
    assert discover_user_shell({"SHELL": "/bin/sh"}).path == "/bin/sh"
    # fish/nu do not speak POSIX `-c` scripts: bash stands in.
    fallback = discover_user_shell({"SHELL": "/usr/bin/fish"})
    assert fallback.name in {"bash", "zsh", "sh"}
    assert UserShell("/bin/bash").argv("ls", login=True) == ["/bin/bash", "-lc", "ls"]
    assert UserShell("/bin/bash").argv("ls", login=False) == ["/bin/bash", "-c", "ls"]


def test_resolve_shell_accepts_names_and_ignores_unknown() -> None:
    default = UserShell("/bin/bash")
    assert resolve_shell(None, default) is default
    sh = shutil.which("sh")
    assert resolve_shell("sh", default).path == sh
    assert resolve_shell("powershell", default).path == "/bin/bash"


def test_parse_env0_keeps_newlines_and_drops_volatile_names() -> None:
    env = parse_env0(b"A=1\0MULTI=x\ny\0_=/usr/bin/env\0SHLVL=2\0EMPTY=\0bogus\0")
    assert env == {"A": "1", "MULTI": "x\ny", "EMPTY": ""}


@pytest.mark.parametrize(
    ("model", "configured", "feature", "expected"),
    [
        ("gpt-5.5", None, True, "unified_exec"),
        ("gpt-5-codex", None, True, "unified_exec"),
        ("openai/gpt-6", None, True, "unified_exec"),
        ("codex-mini-latest", None, True, "unified_exec"),
        ("gpt-4.1", None, True, "shell"),
        ("llama3", None, True, "shell"),
        ("gpt-5.5", None, False, "shell"),
        ("gpt-5.5", "shell", True, "shell"),
        ("gpt-4o", "local_shell", True, "local_shell"),
    ],
)
def test_shell_tool_type(model: str, configured: str | None, feature: bool, expected: str) -> None:
    assert shell_tool_type(model, configured, feature) == expected
