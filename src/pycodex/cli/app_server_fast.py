"""`pycodex app-server` in its common forms, started without click.

Every SDK and IDE session spawns `pycodex app-server` (or `app-server --listen URL`) and
waits for it before its first turn; click and the command table cost ~35 ms of that. The
forms recognised here run the server directly; anything else (help, root options, a bad
URL, subcommands) returns None and goes through click, which owns the usage errors.
"""

from __future__ import annotations

import gc
import os

_LISTEN = "--listen"


def listen_url(args: list[str]) -> str | None:
    """The transport URL of `app-server [--stdio | --listen URL | --listen=URL]`, or None
    when the arguments are anything else."""
    if args[:1] != ["app-server"]:
        return None
    rest = args[1:]
    if rest in ([], ["--stdio"]):
        return "stdio://"
    if len(rest) == 2 and rest[0] == _LISTEN and not rest[1].startswith("-"):
        return rest[1]
    if len(rest) == 1 and rest[0].startswith(_LISTEN + "="):
        return rest[0][len(_LISTEN) + 1 :]
    return None


def run_fast(args: list[str]) -> int | None:
    """Serve and return the exit code; None when click must handle these arguments."""
    url = listen_url(args)
    if url is None:
        return None
    from pycodex.frontends.app_server.limits import LimitError, Limits
    from pycodex.frontends.app_server.listen import ListenUrlError, parse_listen_url

    try:
        target = parse_listen_url(url)
        limits = Limits.from_env()
    except (ListenUrlError, LimitError):
        return None  # click reports it as the usage error it is
    from pycodex.frontends.app_server.server import run

    # Loaded with the cyclic GC off (entry.py): what loaded lives as long as the server,
    # so it is frozen out of the GC's sight, which then runs as usual.
    gc.freeze()
    gc.enable()
    return run(target, os.environ, limits=limits)
