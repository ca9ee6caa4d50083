"""The app-server under load, side by side with `codex app-server` when it is available.

    .venv/bin/python benchmarks/bench_app_server.py [--runs 5] [--sizes 20,50] [--codex PATH]

Against the mock model server (tests/support/mock_model.py), over stdio:

* ``first turn`` — spawn → `initialize` → `thread/start` → `turn/start` (a text answer) →
  the first `turn/completed`: the wait an SDK user sees before anything happens;
* ``N=20`` / ``N=50`` — one server, N threads, N shell turns started at once (each turn:
  a command, then an answer; approvals off, no sandbox, so both tools do the same work):
  wall from the first `turn/start` to the last `turn/completed`, p95 of the per-turn
  latency (its `turn/start` → its `turn/completed`), and the peak RSS of the server's whole
  process tree (sampled from /proc every 10 ms).

Runs are interleaved (pycodex, codex, pycodex, …); medians are printed with ratios. The
targets of issue 13: ≤ 0.8× Codex for the first turn, ≤ 0.5× wall and ≤ 0.5× RSS at N=20
and N=50. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench_exec import bench_parent, make_workspace, new_home  # noqa: E402
from codex_ref import find_codex  # noqa: E402
from tests.support.mock_model import (  # noqa: E402
    MockModelServer,
    RecordedRequest,
    Reply,
    function_call,
    message,
    response,
)

TIMEOUT_S = 120.0
Json = dict[str, Any]


def route(request: RecordedRequest) -> Reply:
    """Turn `task N`: run `echo out-N` with whichever shell tool is offered, then answer."""
    last = request.body["input"][-1]
    text = json.dumps(last)
    if last.get("type") == "function_call_output":
        return response(message("done"))
    if "[[text]]" in text:
        return response(message("Just text."))
    number = re.search(r"task (\d+)", text).group(1)  # type: ignore[union-attr]
    names = {tool.get("name") for tool in request.body.get("tools", [])}
    if "exec_command" in names:
        call = function_call("exec_command", {"cmd": f"echo out-{number}"}, f"call_{number}")
    else:
        call = function_call("shell", {"command": ["bash", "-c", f"echo out-{number}"]}, f"call_{number}")
    return response(call)


@dataclass
class Tool:
    label: str
    binary: Path
    home_var: str


class Server:
    """One `TOOL app-server` on stdio; a reader thread timestamps every message."""

    def __init__(self, tool: Tool, env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [str(tool.binary), "app-server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True,
        )
        self._cond = threading.Condition()
        self.messages: list[tuple[float, Json]] = []
        self._id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            with self._cond:
                self.messages.append((time.perf_counter(), json.loads(line)))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def send(self, message: Json) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: Json) -> int:
        self._id += 1
        self.send({"id": self._id, "method": method, "params": params})
        return self._id

    def wait_for(self, test: Callable[[Json], bool], count: int = 1) -> list[tuple[float, Json]]:
        deadline = time.monotonic() + TIMEOUT_S
        with self._cond:
            while True:
                found = [(t, m) for t, m in self.messages if test(m)]
                if len(found) >= count:
                    return found
                if self.proc.poll() is not None or not self._cond.wait(deadline - time.monotonic()):
                    raise RuntimeError(f"timed out or server exited; last: {self.messages[-3:]}")

    def call(self, method: str, params: Json) -> Json:
        request_id = self.request(method, params)
        answer = self.wait_for(lambda m: m.get("id") == request_id and "method" not in m)[0][1]
        if "result" not in answer:
            raise RuntimeError(f"{method}: {answer}")
        return answer["result"]  # type: ignore[no-any-return]

    def handshake(self) -> None:
        self.call("initialize", {"clientInfo": {"name": "bench", "title": None, "version": "1.0"},
                                 "capabilities": {"experimentalApi": False}})
        self.send({"method": "initialized"})

    def start_thread(self, workspace: Path) -> str:
        params = {"cwd": str(workspace), "approvalPolicy": "never", "sandbox": "danger-full-access"}
        return str(self.call("thread/start", params)["thread"]["id"])

    def stop(self) -> None:
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def tree_rss_kib(root: int) -> int:
    """Resident memory of `root` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            status = (entry / "status").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(stat[1]), []).append(pid)
        found = re.search(r"VmRSS:\s+(\d+)", status)
        rss[pid] = int(found.group(1)) if found else 0
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


class PeakRss:
    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._pid = pid
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, tree_rss_kib(self._pid))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


@dataclass
class World:
    mock: MockModelServer
    root: Path
    workspace: Path

    def env(self, tool: Tool) -> dict[str, str]:
        home = new_home(self.root, self.mock.url)
        tmpdir = self.root / "tmpdir"
        tmpdir.mkdir(exist_ok=True)
        empty = self.root / "empty-codex-home"
        empty.mkdir(exist_ok=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "HOME": str(self.root), "TMPDIR": str(tmpdir), "MOCK_KEY": "x",
               "CODEX_HOME": str(empty), "SHELL": "/bin/bash"}
        env[tool.home_var] = str(home)
        return env


def first_turn(world: World, tool: Tool) -> float:
    world.mock.enqueue(route)
    start = time.perf_counter()
    server = Server(tool, world.env(tool), world.workspace)
    try:
        server.handshake()
        thread_id = server.start_thread(world.workspace)
        server.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "[[text]] hi"}]})
        done = server.wait_for(lambda m: m.get("method") == "turn/completed")
        return done[0][0] - start
    finally:
        server.stop()


def concurrent_turns(world: World, tool: Tool, n: int) -> tuple[float, float, int]:
    """(wall, p95 per-turn latency, peak tree RSS KiB) for n shell turns at once."""
    world.mock.enqueue(*([route] * (2 * n)))
    server = Server(tool, world.env(tool), world.workspace)
    peak = PeakRss(server.proc.pid)
    try:
        server.handshake()
        threads = [server.start_thread(world.workspace) for _ in range(n)]
        started: dict[str, float] = {}
        for k, thread_id in enumerate(threads):
            started[thread_id] = time.perf_counter()
            server.request("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": f"task {k}"}]})
        done = server.wait_for(lambda m: m.get("method") == "turn/completed", count=n)
        ends = {m["params"]["threadId"]: t for t, m in done}
        latencies = sorted(ends[t] - started[t] for t in threads)
        wall = max(ends.values()) - min(started.values())
        return wall, latencies[min(n - 1, round(0.95 * (n - 1)))], peak.stop()
    finally:
        peak.stop()
        server.stop()


def ratio(a: float, b: float | None) -> str:
    return f"{a / b:5.2f}×" if b else "   – "


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="20,50")
    parser.add_argument("--codex", help="reference Codex binary (default: $CODEX_BIN, PATH)")
    args = parser.parse_args()
    tools = [Tool("pycodex", Path(sys.executable).parent / "pycodex", "PYCODEX_HOME")]
    codex = find_codex(args.codex)
    if codex is not None:
        tools.append(Tool("codex", codex, "CODEX_HOME"))
    root = Path(tempfile.mkdtemp(prefix="pycodex-bench-app-server-", dir=bench_parent()))
    try:
        with MockModelServer() as mock:
            world = World(mock, root, make_workspace(root))
            report_first_turn(world, tools, args.runs)
            for n in (int(s) for s in args.sizes.split(",")):
                report_concurrent(world, tools, n, max(1, args.runs // 2))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report_first_turn(world: World, tools: list[Tool], runs: int) -> None:
    for tool in tools:  # warm-up
        first_turn(world, tool)
    walls: dict[str, list[float]] = {t.label: [] for t in tools}
    for _ in range(runs):
        for tool in tools:
            walls[tool.label].append(first_turn(world, tool))
    print(f"spawn → first turn/completed, {runs} runs, median (min–max) ms")
    med = {k: statistics.median(v) * 1000 for k, v in walls.items()}
    for label, values in walls.items():
        print(f"  {label:<8} {med[label]:7.0f} ({min(values) * 1000:.0f}–{max(values) * 1000:.0f})")
    print(f"  ratio pycodex/codex {ratio(med['pycodex'], med.get('codex'))}  (target ≤ 0.8×)")


def report_concurrent(world: World, tools: list[Tool], n: int, runs: int) -> None:
    results: dict[str, list[tuple[float, float, int]]] = {t.label: [] for t in tools}
    for _ in range(runs):
        for tool in tools:
            results[tool.label].append(concurrent_turns(world, tool, n))
    print(f"N={n} concurrent shell turns, {runs} runs, medians")
    print(f"  {'tool':<8} {'wall ms':>8} {'p95 turn ms':>12} {'peak RSS MiB':>13}")
    med: dict[str, tuple[float, float, float]] = {}
    for label, rows in results.items():
        med[label] = (statistics.median(r[0] for r in rows) * 1000,
                      statistics.median(r[1] for r in rows) * 1000,
                      statistics.median(r[2] for r in rows) / 1024)
        print(f"  {label:<8} {med[label][0]:8.0f} {med[label][1]:12.0f} {med[label][2]:13.1f}")
    if "codex" in med:
        p, c = med["pycodex"], med["codex"]
        print(f"  ratio    wall {ratio(p[0], c[0])}  p95 {ratio(p[1], c[1])}  RSS {ratio(p[2], c[2])}"
              "  (targets: wall ≤ 0.5×, RSS ≤ 0.5×)")


if __name__ == "__main__":
    main()
