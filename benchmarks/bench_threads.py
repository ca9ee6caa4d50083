"""Thread store: listing at 10,000 threads, resuming a 100 MB rollout, cold `threads list`.

    .venv/bin/python benchmarks/bench_threads.py [--threads 10000] [--big-mb 100] [--runs 20]

Generates a throwaway PYCODEX_HOME with `gen_threads.py`, then prints (never asserts):
* the index build from the rollouts (first open, as after an upgrade or a lost index);
* newest 50 by updated_at on an open index (target ≤ 20 ms), and the same including
  opening the database;
* resume of the big rollout: read + replay + typed history + repaint events (target ≤ 2 s);
* wall time of a cold `pycodex threads list` process (target ≤ 300 ms).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_threads import generate

from pycodex.core.resume import find_rollout, initial_messages, load_thread
from pycodex.rollout.index import ThreadIndex

PYCODEX = Path(sys.executable).parent / "pycodex"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def timed(fn: object, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--big-mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pycodex-bench-threads-"))
    try:
        home = tmp / "home"
        t0 = time.perf_counter()
        big = generate(home, args.threads, args.big_mb)
        print(f"generated {args.threads} threads + a {args.big_mb} MB rollout in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        with ThreadIndex(home) as index:
            build = time.perf_counter() - t0
            print(f"index build from rollouts ({args.threads + 1} files): {build:.2f} s")
            query = timed(lambda: index.list(sort="updated_at", limit=50), args.runs)
            print(f"newest 50 by updated_at (open index): median {ms(statistics.median(query))}, "
                  f"max {ms(max(query))}  [target ≤ 20 ms]")
            created = timed(lambda: index.list(sort="created_at", limit=50, cwd="/home/user/project3"), args.runs)
            print(f"newest 50 by created_at in one cwd: median {ms(statistics.median(created))}")
            searched = timed(lambda: index.list(sort="updated_at", limit=50, search="issue #42"), args.runs)
            print(f"title search, 50 newest: median {ms(statistics.median(searched))}")

        def open_and_query() -> None:
            with ThreadIndex(home) as index:
                index.list(sort="updated_at", limit=50)

        cold = timed(open_and_query, args.runs)
        print(f"newest 50 by updated_at incl. opening the database: median {ms(statistics.median(cold))}")

        if big:
            path = find_rollout(home, big)
            assert path is not None
            size_mb = path.stat().st_size / 1e6

            def resume() -> None:
                loaded = load_thread(path)
                initial_messages(loaded.records)

            times = timed(resume, 3)
            loaded = load_thread(path)
            print(f"resume of a {size_mb:.0f} MB rollout ({len(loaded.file.records)} lines, "
                  f"{len(loaded.history)} history items): median {statistics.median(times):.2f} s  "
                  "[target ≤ 2 s]")

        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp), "LANG": "C.UTF-8",
               "PYCODEX_HOME": str(home), "CODEX_HOME": str(tmp / "codex")}
        walls = []
        for _ in range(max(args.runs // 2, 5)):
            t0 = time.perf_counter()
            subprocess.run([str(PYCODEX), "threads", "list"], env=env, cwd=tmp, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t0)
        print(f"cold `pycodex threads list` wall: median {ms(statistics.median(walls))}, "
              f"min {ms(min(walls))}  [target ≤ 300 ms]")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
