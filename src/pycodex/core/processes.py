"""What a front end may ask of the engine's process layer, without holding its internals.

Each function imports `pycodex.process` only when called: `exec` must not load the
spawner before a command runs (tests/e2e/test_exec_lazy_imports.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pycodex.process.truncation import HeadTailBuffer


def prestart_processes() -> None:
    """Start the process zygote now, in the background, for a run that will probably
    run commands: its start-up overlaps with loading the engine."""
    from pycodex.process.zygote import prestart

    prestart()


def kill_all_processes() -> None:
    """SIGKILL every command group the engine started and that still runs: for an exit
    that skips the graceful shutdown (a second Ctrl-C)."""
    import sys

    # Not imported means no command was ever spawned: nothing to kill, nothing to load.
    if "pycodex.process.groups" in sys.modules:
        from pycodex.process.groups import kill_all_process_groups

        kill_all_process_groups()


def join_command(argv: Iterable[str]) -> str:
    """An argv as one shell-readable line, quoted the way Codex shows commands."""
    from pycodex.protocol.command_text import join_command as join

    return join(argv)


def head_tail_buffer(head_bytes: int, tail_bytes: int) -> HeadTailBuffer:
    """A bounded buffer keeping the first and last bytes of a command's output, as the
    engine keeps it for the model: for a front end showing live output."""
    from pycodex.process.truncation import HeadTailBuffer

    return HeadTailBuffer(head_bytes, tail_bytes)
