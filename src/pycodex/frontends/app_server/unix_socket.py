"""The unix-socket listener: private to this user (mode 0600 from the moment it exists),
websocket frames over the socket as Codex's control socket speaks them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import stat
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from pycodex.config.home import pycodex_home
from pycodex.frontends.app_server.websocket import RawFrameStream

CONTROL_DIR = "app-server-control"
CONTROL_SOCKET = "app-server-control.sock"


class SocketPathError(OSError):
    """The socket path is in use or is not ours to replace."""


def default_socket_path(env: Mapping[str, str]) -> Path:
    return pycodex_home(env).absolute() / CONTROL_DIR / CONTROL_SOCKET


def prepare_socket_path(path: Path, *, private_parent: bool) -> None:
    """Make `path` bindable: refuse a live socket or a non-socket file; remove a stale one."""
    if private_parent:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise SocketPathError(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except ConnectionRefusedError:
        path.unlink()  # nobody listens: a leftover of a server that died
        return
    except OSError:
        return
    finally:
        probe.close()
    raise SocketPathError(f"an app-server is already listening on {path}")


async def start_unix_listener(
    path: Path, on_stream: Callable[[RawFrameStream], Awaitable[None]]
) -> asyncio.Server:
    counter = 0

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal counter
        counter += 1
        await on_stream(RawFrameStream(reader, writer, name=f"unix#{counter}"))

    # The umask makes the socket 0600 at bind time: no window where others could connect.
    previous = os.umask(0o177)
    try:
        server = await asyncio.start_unix_server(accept, path=str(path))
    finally:
        os.umask(previous)
    os.chmod(path, 0o600)
    return server


def remove_socket(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(path.lstat().st_mode):
            path.unlink()
