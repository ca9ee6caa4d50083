"""Where the wall time of one `exec --json` run goes: spawn → first request → ... → exit.

    .venv/bin/python benchmarks/probe_exec.py [--runs 7] [--scenario text|shell] [--only pycodex]
        [--wrap 'strace -f -r -o /tmp/x']

A development probe beside bench_exec.py (same mock server, homes and environment): for each
run it records when the mock received each model request (relative to the spawn) and when
the process exited, so the run splits into "start-up until the first request", "between
requests" (the tool call) and "after the last request until exit". Runs of pycodex and Codex
alternate. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_exec import (
    SCENARIOS,
    Bench,
    Tool,
    bench_parent,
)
from codex_ref import find_codex
from tests.support.mock_model import MockModelServer, RecordedRequest, Reply


def stamped(reply: Reply | Callable[[RecordedRequest], Reply], stamps: list[float]) -> Callable[[RecordedRequest], Reply]:
    def answer(request: RecordedRequest) -> Reply:
        stamps.append(time.perf_counter())
        return reply(request) if callable(reply) else reply

    return answer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--scenario", default="text warm")
    parser.add_argument("--only", default="")
    parser.add_argument("--wrap", default="", help="command prefix for pycodex (strace ...)")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for pycodex")
    args = parser.parse_args()
    scenario = next(s for s in SCENARIOS if s.name.startswith(args.scenario))
    tools = [Tool("pycodex", Path(sys.executable).parent / "pycodex", "PYCODEX_HOME")]
    codex = find_codex(None)
    if codex is not None:
        tools.append(Tool("codex", codex, "CODEX_HOME"))
    if args.only:
        tools = [t for t in tools if t.label == args.only]
    root = Path(tempfile.mkdtemp(prefix="pycodex-probe-", dir=bench_parent()))
    table: dict[str, list[list[float]]] = {t.label: [] for t in tools}
    try:
        with MockModelServer() as mock:
            bench = Bench(mock, root, tools)
            for run in range(args.runs + 1):
                for tool in tools:
                    stamps: list[float] = []
                    home = bench.warm_homes[tool.label] if scenario.warm else None
                    if home is None:
                        from bench_exec import new_home
                        home = new_home(root, mock.url)
                    mock.enqueue(*(stamped(r, stamps) for r in scenario.replies()))
                    argv = tool.argv(bench.workspace, scenario.prompt)
                    env = bench.env(tool, home)
                    if tool.label == "pycodex":
                        argv = [*shlex.split(args.wrap), *argv]
                        env.update(kv.split("=", 1) for kv in args.env)
                    start = time.perf_counter()
                    proc = subprocess.run(argv, env=env, cwd=bench.workspace, stdin=subprocess.DEVNULL,
                                          capture_output=True, check=False)
                    end = time.perf_counter()
                    if proc.returncode != 0 or scenario.expect_in_stdout.encode() not in proc.stdout:
                        print(proc.stdout.decode()[-2000:], proc.stderr.decode()[-2000:])
                        raise SystemExit(f"{tool.label} failed")
                    if proc.stderr and tool.label == "pycodex" and args.env:
                        sys.stderr.write(proc.stderr.decode(errors="replace"))
                    if run == 0:
                        continue  # warm-up
                    marks = [(s - start) * 1000 for s in stamps]
                    row = [marks[0]]
                    row += [b - a for a, b in itertools.pairwise(marks)]
                    row.append((end - start) * 1000 - marks[-1])
                    row.append((end - start) * 1000)
                    table[tool.label].append(row)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{scenario.name}: ms, median (min-max) over {args.runs}; load {os.getloadavg()[0]:.2f}")
    for label, rows in table.items():
        cols = list(zip(*rows, strict=True))
        names = ["to req1"] + [f"req{i}->req{i + 1}" for i in range(1, len(cols) - 2)]
        names += ["last->exit", "total"]
        cells = [f"{n} {statistics.median(c):.0f} ({min(c):.0f}-{max(c):.0f})"
                 for n, c in zip(names, cols, strict=True)]
        print(f"  {label:<8} " + " | ".join(cells))


if __name__ == "__main__":
    main()
