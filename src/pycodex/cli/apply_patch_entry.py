"""The program run as `apply_patch` / `applypatch`: Codex's standalone patch tool.

Usage: `apply_patch 'PATCH'` or `echo 'PATCH' | apply_patch`. Exit 0 on success, 1 when
the patch fails, 2 on a usage error. Startup matters (models call this a lot), so this
module imports only the engine — no click, no protocol types.
"""

from __future__ import annotations

import os
import sys

USAGE = "Usage: apply_patch 'PATCH'\n       echo 'PATCH' | apply_patch"
RUN_AS_FLAG = "--codex-run-as-apply-patch"
PROGRAM_NAMES = ("apply_patch", "applypatch")


def _is_utf8(arg: str) -> bool:
    # Non-UTF-8 argv bytes reach Python as lone surrogates (surrogateescape).
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _emit(code: int, out: str, err: str) -> int:
    if out:
        sys.stdout.write(out)
        sys.stdout.flush()
    if err:
        sys.stderr.write(err)
        sys.stderr.flush()
    return code


def _apply(patch: str) -> int:
    from pycodex.apply_patch import apply_patch_text

    try:
        cwd = os.getcwd()
    except OSError as err:
        return _emit(1, "", f"Error: Failed to determine current directory.\n{err}\n")
    return _emit(*apply_patch_text(patch, cwd))


def run(args: list[str]) -> int:
    """Codex's standalone behaviour for the arguments after the program name."""
    if args:
        if not _is_utf8(args[0]):
            return _emit(1, "", "Error: apply_patch requires a UTF-8 PATCH argument.\n")
        if len(args) > 1:
            return _emit(2, "", "Error: apply_patch accepts exactly one argument.\n")
        return _apply(args[0])
    data = sys.stdin.buffer.read() if sys.stdin is not None else b""
    if not data:
        return _emit(2, "", USAGE + "\n")
    try:
        patch = data.decode("utf-8")
    except UnicodeDecodeError:
        return _emit(
            1, "", "Error: Failed to read PATCH from stdin.\nstream did not contain valid UTF-8\n"
        )
    return _apply(patch)


def run_as_flag(args: list[str]) -> int:
    """`codex --codex-run-as-apply-patch PATCH`: argument only, extra arguments ignored."""
    if not args or not _is_utf8(args[0]):
        return _emit(1, "", f"Error: {RUN_AS_FLAG} requires a UTF-8 PATCH argument.\n")
    return _apply(args[0])


def dispatch_argv0(argv0: str) -> bool:
    """For `pycodex`'s main(): when invoked through a symlink named apply_patch (or
    applypatch), behave as that program and exit. Returns False otherwise."""
    if os.path.basename(argv0) not in PROGRAM_NAMES:
        return False
    raise SystemExit(run(sys.argv[1:]))


def dispatch_run_as_flag(args: list[str]) -> bool:
    """For `pycodex`'s main(): handle `pycodex --codex-run-as-apply-patch PATCH` (how
    Codex re-executes itself to apply patches under the sandbox) and exit."""
    if not args or args[0] != RUN_AS_FLAG:
        return False
    raise SystemExit(run_as_flag(args[1:]))


def main() -> None:
    """Console-script entry point for `apply_patch` and `applypatch`."""
    raise SystemExit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
