"""The default TLS context of the model client, built early on a background thread.

Loading the system CA bundle (`SSLContext.load_verify_locations`) takes ~20 ms, and
OpenSSL does it with the GIL released. `pycodex exec` knows from its first line that it
will make a request, so it starts building the context before importing the engine and
the context is ready by the first request instead of being built in front of it.

The context is exactly the one httpcore2 (and so httpx2) builds for a default client
(`httpcore2.default_ssl_context()`: verify on, `SSL_CERT_FILE`/`SSL_CERT_DIR` honoured),
and it is handed out once; whoever gets None lets the HTTP stack build its own, as
without prewarming.
This module imports only the standard library at import time (cheap for the CLI).
"""

from __future__ import annotations

import atexit
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

_lock = threading.Lock()
_thread: threading.Thread | None = None
_result: list[ssl.SSLContext] = []


def prewarm_default_ssl_context() -> None:
    """Start building the default context in a daemon thread (no-op when already started)."""
    global _thread
    # Imported here, on the calling thread, so the worker only runs OpenSSL: two threads
    # importing overlapping module graphs at once can deadlock on import locks.
    from pycodex.http_core import httpcore2

    def build() -> None:
        try:
            context = httpcore2.default_ssl_context()
        except Exception:  # the client builds its own context and reports the problem
            return
        _result.append(context)

    with _lock:
        if _thread is not None:
            return
        _thread = threading.Thread(target=build, name="pycodex-tls-prewarm", daemon=True)
        _thread.start()
        atexit.register(_join_at_exit, _thread)


def _join_at_exit(thread: threading.Thread) -> None:
    # A run that ends early (bad input, no prompt) must not exit while OpenSSL is still
    # loading certificates on this thread: the C library's exit handlers would free what
    # it is using (a segfault at exit, seen once in ~30 runs).
    thread.join(timeout=5.0)


def take_default_ssl_context() -> ssl.SSLContext | None:
    """The prewarmed context (waiting for it if still loading), once; otherwise None."""
    global _thread
    with _lock:
        thread, _thread = _thread, None
    if thread is None:
        return None
    thread.join()
    return _result.pop() if _result else None
