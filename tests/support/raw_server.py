"""A raw-socket server on 127.0.0.1 for tests that need to see exactly what reached the
wire: each connection is served by `serve(conn, events)` on its own thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable


class RawServer:
    """Accepts connections and runs `serve(conn, events)` for each, on its own thread."""

    def __init__(
        self, serve: Callable[[socket.socket, list[str]], None], path: str = "/v1/responses"
    ) -> None:
        self.events: list[str] = []
        self.connections = 0
        self._serve = serve
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}{path}"
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._loop, daemon=True)
        self._accept.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._one, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            self._serve(conn, self.events)

    def close(self) -> None:
        self._sock.close()
        for thread in self._threads:
            thread.join(5)
