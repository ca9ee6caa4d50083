"""`pycodex.http` imports httpx2 without `importlib.metadata` (~20–40 ms of each start)."""

from __future__ import annotations

import json
import subprocess
import sys


def _run(code: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def test_httpx2_loads_without_importlib_metadata_and_knows_its_version() -> None:
    seen = _run(
        "import json, sys\n"
        "from pycodex.http import httpx2\n"
        "import httpcore2\n"
        "loaded = 'importlib.metadata' in sys.modules\n"
        "import importlib.metadata as real\n"
        "print(json.dumps({'loaded': loaded,\n"
        "  'httpx2': [httpx2.__version__, real.version('httpx2')],\n"
        "  'httpcore2': [httpcore2.__version__, real.version('httpcore2')],\n"
        "  'real_is_real': hasattr(real, 'distributions')}))\n"
    )
    assert seen["loaded"] is False
    assert seen["httpx2"][0] == seen["httpx2"][1]  # type: ignore[index]
    assert seen["httpcore2"][0] == seen["httpcore2"][1]  # type: ignore[index]
    assert seen["real_is_real"] is True


def test_other_metadata_use_during_the_import_gets_the_real_module() -> None:
    """A library that asks the stand-in for anything but `version` gets the real thing."""
    seen = _run(
        "import json, sys\n"
        "import pycodex.http as h\n"
        "stand_in = h._StandIn('importlib.metadata')\n"
        "sys.modules['importlib.metadata'] = stand_in\n"
        "from importlib.metadata import entry_points\n"
        "real = sys.modules['importlib.metadata']\n"
        "print(json.dumps({'real': real is not stand_in,\n"
        "                  'same': entry_points is real.entry_points}))\n"
    )
    assert seen == {"real": True, "same": True}


def test_the_import_leaves_out_anyio_and_importlib_abc_yet_both_load_when_used() -> None:
    """anyio (httpcore2's asyncio pool) and httpx2's `alias_httpx` module are loaded on first
    use, not by the import; used, they behave as if imported normally."""
    seen = _run(
        "import asyncio, json, socket, sys, threading\n"
        "from pycodex.http import httpx2\n"
        "import httpcore2\n"
        "out = {'after_import': sorted(m for m in ('anyio', 'importlib.abc', 'httpx2._alias',\n"
        "                                          'importlib.resources') if m in sys.modules)}\n"
        "server = socket.create_server(('127.0.0.1', 0))\n"
        "def serve():\n"
        "    conn, _ = server.accept()\n"
        "    conn.recv(65536)\n"
        "    conn.sendall(b'HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\n\\r\\nok')\n"
        "    conn.close()\n"
        "threading.Thread(target=serve, daemon=True).start()\n"
        "async def get():\n"
        "    async with httpx2.AsyncClient() as client:  # httpx2's own asyncio transport\n"
        "        r = await client.get(f'http://127.0.0.1:{server.getsockname()[1]}/')\n"
        "        return r.text\n"
        "out['async_default_transport'] = asyncio.run(get())\n"
        "out['anyio_used'] = type(sys.modules['httpcore2._synchronization'].anyio).__name__\n"
        "out['backend'] = httpcore2.AnyIOBackend.__module__\n"
        "httpx2.alias_httpx()\n"
        "import httpx\n"
        "out['alias'] = httpx is httpx2\n"
        "print(json.dumps(out))\n"
    )
    assert seen == {
        "after_import": [],
        "async_default_transport": "ok",
        "anyio_used": "module",
        "backend": "httpcore2._backends.anyio",
        "alias": True,
    }
