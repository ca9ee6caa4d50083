"""The macOS Seatbelt profile text and sandbox-exec argv (generated text only)."""

from __future__ import annotations

from pathlib import Path

from pycodex.sandbox.policy import WritableRoot
from pycodex.sandbox.seatbelt import SANDBOX_EXEC, seatbelt_argv, seatbelt_env, seatbelt_profile


def test_profile_denies_by_default_and_reads_everywhere() -> None:
    text, params = seatbelt_profile([], network=False)
    assert text.startswith("(version 1)\n(deny default)")
    assert "(allow file-read*)" in text
    assert "file-write*\n" not in text.split("(allow file-write-data")[0]
    assert "(allow network-outbound)" not in text
    assert params == {}


def test_writes_per_root_exclude_protected_subpaths_including_literal() -> None:
    ws = Path('/Users/me/my "ws"')
    roots = [WritableRoot(ws, (ws / ".git", ws / ".codex")), WritableRoot(Path("/private/tmp"))]
    text, params = seatbelt_profile(roots, network=False)
    assert params == {
        "WRITABLE_ROOT_0": str(ws),
        "WRITABLE_ROOT_0_RO_0": str(ws / ".git"),
        "WRITABLE_ROOT_0_RO_1": str(ws / ".codex"),
        "WRITABLE_ROOT_1": "/private/tmp",
    }
    assert '(require-all (subpath (param "WRITABLE_ROOT_0"))' in text
    assert '(require-not (literal (param "WRITABLE_ROOT_0_RO_1")))' in text
    assert '(require-not (subpath (param "WRITABLE_ROOT_0_RO_1")))' in text
    assert '(subpath (param "WRITABLE_ROOT_1"))' in text
    assert str(ws) not in text  # paths travel as -D parameters, never spliced in
    assert text.count("(") == text.count(")")


def test_network_policy_only_when_enabled() -> None:
    text, _ = seatbelt_profile([], network=True)
    assert "(allow network-outbound)" in text and "(allow system-socket)" in text


def test_argv_and_env() -> None:
    roots = [WritableRoot(Path("/w"), (Path("/w/.git"),))]
    argv = seatbelt_argv(["ls", "-l"], roots, network=False)
    assert argv[0] == SANDBOX_EXEC == "/usr/bin/sandbox-exec"
    assert argv[1] == "-p" and argv[2].startswith("(version 1)")
    assert argv[3:5] == ["-DWRITABLE_ROOT_0=/w", "-DWRITABLE_ROOT_0_RO_0=/w/.git"]
    assert argv[5:] == ["--", "ls", "-l"]
    env = seatbelt_env({"A": "1"}, network=False)
    assert env == {"A": "1", "CODEX_SANDBOX": "seatbelt", "PYCODEX_SANDBOX": "seatbelt",
                   "CODEX_SANDBOX_NETWORK_DISABLED": "1"}
    assert "CODEX_SANDBOX_NETWORK_DISABLED" not in seatbelt_env(
        {"CODEX_SANDBOX_NETWORK_DISABLED": "1"}, network=True)
