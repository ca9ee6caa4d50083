"""Many threads, many connections, approvals answered late: no deadlock, no lost, crossed or
malformed notification (every message is schema-checked by the clients' TrafficValidator).

* 50 threads over one stdio connection, each running a command that needs approval; the
  client answers the 50 approval requests only once all of them are waiting, in reverse.
* 5 connections to one unix-socket server at once, each a client on its own OS thread with
  its own threads and late approvals.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_app_server_support import (
    AppServer,
    FrameClient,
    initialize_params,
    server_env,
    write_mock_config,
)
from tests.support.mock_model import (
    MockModelServer,
    RecordedRequest,
    Reply,
    function_call,
    message,
    response,
)

pytestmark = pytest.mark.e2e
Json = dict[str, Any]


def _route(request: RecordedRequest) -> Reply:
    """Each thread's task names its number: run a command writing `f<n>`, then say done."""
    last = request.body["input"][-1]
    if last.get("type") == "function_call_output":
        number = re.search(r"out-(\d+)", json.dumps(last)).group(1)  # type: ignore[union-attr]
        return response(message(f"done {number}"))
    number = re.search(r"task (\d+)", json.dumps(last)).group(1)  # type: ignore[union-attr]
    command = f"touch f{number} && echo out-{number}"
    return response(function_call("shell", {"command": ["bash", "-c", command]}, call_id=f"call_{number}"))


def _config(tmp_path: Path, mock: MockModelServer) -> dict[str, str]:
    write_mock_config(tmp_path / "pycodex-home", mock.url)
    return server_env(tmp_path, MOCK_KEY="x", SHELL="/bin/bash")


class Driver:
    """One client's whole session: start threads and turns, collect everything, answer the
    approvals late. `send`/`recv` are the connection's (stdio or unix frames)."""

    def __init__(self, send: Callable[[Json], None], recv: Callable[[], Json | None]) -> None:
        self.send, self.recv = send, recv
        self.by_thread: dict[str, list[tuple[str, Json]]] = defaultdict(list)
        self.approvals: list[Json] = []
        self.done: set[str] = set()
        self.resolved: list[Any] = []
        self._id = 0

    def call(self, method: str, params: Json) -> Json:
        self._id += 1
        self.send({"id": self._id, "method": method, "params": params})
        while True:
            msg = self._next()
            if msg.get("id") == self._id and "method" not in msg:
                assert "result" in msg, msg
                return msg["result"]  # type: ignore[no-any-return]

    def _next(self) -> Json:
        msg = self.recv()
        assert msg is not None, "the server closed the connection"
        method, params = msg.get("method"), msg.get("params") or {}
        if method and "id" in msg:
            self.approvals.append(msg)
        elif method == "serverRequest/resolved":
            self.resolved.append(params["requestId"])
        elif method:
            thread_id = params.get("threadId") or (params.get("thread") or {}).get("id")
            self.by_thread[str(thread_id)].append((method, params))
            if method == "turn/completed":
                self.done.add(str(thread_id))
        return msg

    def run(self, workspace: Path, numbers: range) -> dict[int, str]:
        assert "userAgent" in self.call("initialize", initialize_params("load_client"))
        self.send({"method": "initialized"})
        threads: dict[int, str] = {}
        for n in numbers:
            thread = self.call("thread/start", {"cwd": str(workspace), "approvalPolicy": "untrusted",
                                                "sandbox": "danger-full-access"})["thread"]
            threads[n] = thread["id"]
            self.call("turn/start", {"threadId": thread["id"], "input": [{"type": "text", "text": f"task {n}"}]})
        while len(self.approvals) < len(numbers):  # answer nothing until every thread waits
            self._next()
        for request in reversed(self.approvals):
            self.send({"id": request["id"], "result": {"decision": "accept"}})
        while len(self.done) < len(numbers):
            self._next()
        return threads


def _check(driver: Driver, threads: dict[int, str], workspace: Path) -> None:
    assert sorted(driver.resolved) == sorted(r["id"] for r in driver.approvals)
    for n, thread_id in threads.items():
        notes = driver.by_thread[thread_id]
        turn = [p for m, p in notes if m == "turn/completed"]
        assert [t["turn"]["status"] for t in turn] == ["completed"], notes[-3:]
        items = [p["item"] for m, p in notes if m == "item/completed"]
        said = [i["text"] for i in items if i["type"] == "agentMessage"]
        ran = [(i["status"], i["aggregatedOutput"].strip()) for i in items if i["type"] == "commandExecution"]
        assert said == [f"done {n}"] and ran == [("completed", f"out-{n}")], items
        ids = [i["id"] for i in items]
        assert len(ids) == len(set(ids))  # no item completed twice
        assert (workspace / f"f{n}").exists()
    assert set(driver.by_thread) - {"None"} == set(threads.values())  # nothing crossed over


def test_fifty_threads_on_one_connection_with_late_approvals(
    tmp_path: Path, mock_model: MockModelServer
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    mock_model.enqueue(*([_route] * 100))
    server = AppServer(tmp_path, env=_config(tmp_path, mock_model))
    try:
        driver = Driver(server.send, server.recv)
        threads = driver.run(workspace, range(50))
        _check(driver, threads, workspace)
    finally:
        server.stop()


def test_five_connections_at_once_with_late_approvals(tmp_path: Path, mock_model: MockModelServer) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    mock_model.enqueue(*([_route] * 50))
    sock = tmp_path / "app.sock"
    server = AppServer(tmp_path, "--listen", f"unix://{sock}", env=_config(tmp_path, mock_model))
    results: dict[int, tuple[Driver, dict[int, str]]] = {}
    failures: list[BaseException] = []

    def one_client(k: int) -> None:
        client = FrameClient(sock)
        try:
            driver = Driver(client.send, client.recv)
            results[k] = (driver, driver.run(workspace, range(k * 5, k * 5 + 5)))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            client.close()

    try:
        server.stderr.until(r"listening on: unix://")
        clients = [threading.Thread(target=one_client, args=(k,)) for k in range(5)]
        for c in clients:
            c.start()
        for c in clients:
            c.join(timeout=120)
        assert not any(c.is_alive() for c in clients), "a client hung"
        assert not failures, failures
        for driver, threads in results.values():
            _check(driver, threads, workspace)
    finally:
        server.stop()
