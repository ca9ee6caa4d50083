"""is_likely_sandbox_denied: codex's keywords, exit-code rejects, SIGSYS, setup failures."""

from __future__ import annotations

import pytest

from pycodex.sandbox.denial import is_likely_sandbox_denied, is_sandbox_setup_failure


@pytest.mark.parametrize(
    ("code", "output", "sandboxed", "expected"),
    [
        (1, "touch: cannot touch 'x': Read-only file system", True, True),
        (1, "PermissionError: [Errno 13] Permission denied: '/etc/x'", True, True),
        (7, "curl: (7) Couldn't connect: Operation not permitted", True, True),
        (1, "touch: cannot touch 'x': Read-only file system", False, False),
        (0, "Operation not permitted", True, False),
        (1, "assertion failed", True, False),
        (2, "usage: grep [OPTION]...", True, False),
        (126, "cannot execute", True, False),
        (127, "sh: 1: nosuchcmd: not found", True, False),
        (127, "nosuchcmd: command not found", True, False),
        (159, "", True, True),
        (-31, "", True, True),
        (125, "pycodex-sandbox: seccomp filter could not be installed", True, True),
        (1, "bwrap: No permissions to create new namespace", True, True),
        (2, "Permission denied", True, True),  # keywords win over the exit-code rejects
    ],
)
def test_denial_heuristics(code: int, output: str, sandboxed: bool, expected: bool) -> None:
    assert is_likely_sandbox_denied(code, output, sandboxed) is expected


def test_setup_failure_detection() -> None:
    assert is_sandbox_setup_failure(125, "pycodex-sandbox: cannot create a user namespace")
    assert not is_sandbox_setup_failure(125, "make: *** error 125")
    assert not is_sandbox_setup_failure(1, "pycodex-sandbox: x")
    assert is_sandbox_setup_failure(1, "bwrap: Creating new namespace failed")
    assert not is_sandbox_setup_failure(2, "bwrap: usage")
