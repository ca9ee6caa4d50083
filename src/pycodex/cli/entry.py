"""What the `pycodex` executable runs first.

`pycodex --version` and `pycodex --help` are answered here from the standard library alone,
and the common forms of `pycodex exec` and `pycodex app-server` start without click
(`exec_fast`, `app_server_fast`); anything else loads the click application
(`pycodex.cli.main`). The installed launcher
(`scripts/pycodex-launcher.py`) calls :func:`main` without importing `re` as pip's
generated console scripts do.
"""

from __future__ import annotations

import os
import sys

_PATCH_PROGRAMS = ("apply_patch", "applypatch")


def main(argv: list[str] | None = None) -> int | None:
    args = sys.argv[1:] if argv is None else argv
    # Invoked as `apply_patch` (a symlink), bare `pycodex` reads a patch from stdin there.
    as_patch_tool = argv is None and os.path.basename(sys.argv[0]) in _PATCH_PROGRAMS
    if as_patch_tool or args[:1] == ["--codex-run-as-apply-patch"]:
        # The patch tool (also how Codex re-runs itself to apply a patch): engine only,
        # no click (~35 ms of start-up per patch).
        from pycodex.cli.apply_patch_entry import dispatch_argv0, dispatch_run_as_flag

        if argv is None:
            dispatch_argv0(sys.argv[0])
        dispatch_run_as_flag(args)
    if not as_patch_tool and len(args) <= 1 and "_PYCODEX_COMPLETE" not in os.environ:
        from pycodex.cli import commands

        if args in (["--version"], ["-V"]):
            print(commands.VERSION_TEXT)
            return 0
        interactive = not args and sys.stdin.isatty() and sys.stdout.isatty()
        if args in ([], ["--help"], ["-h"]) and not interactive:  # bare on a terminal: the TUI
            print(commands.top_level_help())
            return 0
    if args and args[0] in ("exec", "e", "-c", "--config"):
        # The engine's imports create ~10^5 objects and almost no garbage: the cyclic GC
        # would scan them over and over while they load (~10 ms of every `exec`). It is
        # off until they are loaded, then on again with them frozen (exec_launch).
        import gc

        gc.disable()
        from pycodex.cli.exec_fast import run_fast as run_exec_fast

        run_exec_fast(args)  # runs the common forms of `exec` (and exits); else click
        gc.enable()
    if args[:1] == ["app-server"]:
        import gc

        gc.disable()  # while the server loads, as for exec (app_server_fast turns it on)
        from pycodex.cli.app_server_fast import run_fast

        code = run_fast(args)
        gc.enable()
        if code is not None:
            return code
    from pycodex.cli.main import main as click_main

    click_main(argv)  # click exits the process itself (standalone mode)
    return None
