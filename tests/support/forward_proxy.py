"""A tiny HTTP forward proxy on 127.0.0.1 for tests: plain-HTTP requests in absolute form
(`POST http://host:port/path HTTP/1.1`), one per connection, forwarded with
`Connection: close` and the answer relayed back as it streams. Records each target."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from tests.support.raw_server import RawServer


class ForwardProxy:
    def __init__(self) -> None:
        self.targets: list[str] = []
        self._server: RawServer | None = None
        self.url = ""

    def __enter__(self) -> ForwardProxy:
        self._server = RawServer(lambda conn, _events: self._forward(conn), path="")
        self.url = self._server.url
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()

    def _forward(self, conn: socket.socket) -> None:
        # RawServer closes the connection when this returns.
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
