"""Was a failed sandboxed command probably stopped by the sandbox? (codex's heuristics)

Used to decide whether to offer "retry without the sandbox". A false positive costs an
extra question; a false negative hides the reason a command failed, so the keyword check
comes first, and only then are the exit codes that mean "the command itself was wrong"
(2 misuse, 126 not executable, 127 not found) rejected. 159 (128 + SIGSYS) means a seccomp
kill. 125 with the shim's ``pycodex-sandbox:`` prefix means the sandbox never started;
so does exit 1 with output starting ``bwrap:`` (bubblewrap could not set up namespaces).
"""

from __future__ import annotations

import signal

SANDBOX_SETUP_FAILED_EXIT = 125
SETUP_FAILURE_PREFIX = "pycodex-sandbox:"
BWRAP_FAILURE_PREFIX = "bwrap:"
DENIAL_KEYWORDS = (
    "operation not permitted",
    "permission denied",
    "read-only file system",
    "seccomp",
    "sandbox",
    "landlock",
    "failed to write file",
)
_NOT_SANDBOX_EXITS = frozenset({2, 126, 127})
_SIGSYS = int(signal.SIGSYS)


def is_sandbox_setup_failure(exit_code: int, output: str) -> bool:
    """The sandbox could not be set up, so the command did not run at all."""
    if exit_code == SANDBOX_SETUP_FAILED_EXIT and SETUP_FAILURE_PREFIX in output:
        return True
    return exit_code == 1 and output.lstrip().startswith(BWRAP_FAILURE_PREFIX)


def is_likely_sandbox_denied(exit_code: int, output: str, sandboxed: bool) -> bool:
    if not sandboxed or exit_code == 0:
        return False
    if is_sandbox_setup_failure(exit_code, output):
        return True
    lowered = output.lower()
    if any(keyword in lowered for keyword in DENIAL_KEYWORDS):
        return True
    if exit_code in _NOT_SANDBOX_EXITS:
        return False
    # Killed by SIGSYS (seccomp): 128 + 31 from a shell, -31 from subprocess.
    return exit_code in (128 + _SIGSYS, -_SIGSYS)
