"""A tiny HTTP forward proxy on 127.0.0.1 for tests: plain-HTTP requests in absolute form
(`POST http://host:port/path HTTP/1.1`), one per connection, forwarded with
`Connection: close` and the answer relayed back as it streams. Records each target."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit


class ForwardProxy:
    def __init__(self) -> None:
        self.targets: list[str] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ForwardProxy:
        self._accept.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()
        for thread in self._threads:
            thread.join(10)

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._forward, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _forward(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                more = conn.recv(65536)
                if not more:
                    return
                data += more
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            method, target, version = lines[0].split(b" ")
            self.targets.append(target.decode())
            length = 0
            kept = []
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                lowered = name.strip().lower()
                if lowered == b"content-length":
                    length = int(value)
                if lowered not in (b"connection", b"proxy-connection"):
                    kept.append(line)
            while len(body) < length:
                body += conn.recv(65536)
            parts = urlsplit(target.decode())
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            upstream_head = b"\r\n".join(
                [b"%s %s %s" % (method, path.encode(), version), *kept, b"Connection: close"]
            )
            with socket.create_connection((parts.hostname, parts.port or 80)) as upstream:
                upstream.sendall(upstream_head + b"\r\n\r\n" + body)
                while chunk := upstream.recv(65536):
                    conn.sendall(chunk)
