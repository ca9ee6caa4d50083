"""End to end: what resuming a big thread costs on top of a fresh `exec`.

    .venv/bin/python benchmarks/bench_resume.py [--runs 5] [--big-mb 100] [--json]

Generates a thread with a `--big-mb` rollout (`gen_threads.py`: ~8,500 tool turns), then
alternates two runs of the installed CLI against the mock model on loopback, each
answered with one message:

* ``fresh``  — `pycodex exec --json "hi"` (a new thread);
* ``resume`` — `pycodex exec --json resume <id> "hi"`: read and replay the rollout, then
  send the whole history (~83 MB of JSON) in the request.

The mock does not parse bodies over 1 MB (its own JSON parsing is not pycodex's cost).
Prints the median wall time of both and the difference (target: ≤ 1 s); never asserts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_exec import Tool, bench_parent, make_workspace, measure, new_home
from gen_threads import generate

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.mock_model import MockModelServer, message, response  # noqa: E402


def run(mock: MockModelServer, tool: Tool, env: dict[str, str], ws: Path, out: Path,
        args: list[str]) -> float:
    mock.enqueue(response(message("Resumed.")))
    # The generated thread's recorded usage is near the window: keep automatic compaction
    # (a model request of its own) out of what is measured.
    argv = [str(tool.binary), "exec", "--json", "--skip-git-repo-check", "-C", str(ws),
            "-c", "model_auto_compact_token_limit=1000000000", *args]
    sample, stdout = measure(argv, env, ws, out)
    if '"turn.completed"' not in stdout:
        raise RuntimeError(f"unexpected output:\n{stdout[-2000:]}")
    return sample.wall_s


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-mb", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print one JSON summary line")
    args = parser.parse_args()
    tool = Tool("pycodex", Path(sys.executable).parent / "pycodex", "PYCODEX_HOME")
    root = Path(tempfile.mkdtemp(prefix="pycodex-bench-resume-", dir=bench_parent()))
    try:
        with MockModelServer() as mock:
            mock.max_parsed_body_bytes = 1 << 20
            home = new_home(root, mock.url)
            thread_id = generate(home, 0, args.big_mb)
            assert thread_id is not None
            ws = make_workspace(root)
            (root / "out").mkdir()
            env = {
                "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(root),
                "MOCK_KEY": "x", "PYCODEX_HOME": str(home), "CODEX_HOME": str(root / "none"),
            }
            fresh: list[float] = []
            resumed: list[float] = []
            run(mock, tool, env, ws, root / "out", ["resume", thread_id, "hi"])  # warm-up
            for _ in range(args.runs):
                fresh.append(run(mock, tool, env, ws, root / "out", ["hi"]))
                resumed.append(run(mock, tool, env, ws, root / "out", ["resume", thread_id, "hi"]))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    f, r = statistics.median(fresh), statistics.median(resumed)
    if args.json:
        print(json.dumps({"fresh_s": f, "resume_s": r, "extra_s": r - f,
                          "spread_s": [min(resumed) - f, max(resumed) - f]}))
        return
    print(f"resume of a {args.big_mb} MB rollout, {args.runs} runs each, mock on loopback")
    print(f"fresh exec   median {f * 1000:7.0f} ms  (min {min(fresh) * 1000:.0f}, max {max(fresh) * 1000:.0f})")
    print(f"exec resume  median {r * 1000:7.0f} ms  (min {min(resumed) * 1000:.0f}, max {max(resumed) * 1000:.0f})")
    print(f"resume costs {(r - f) * 1000:.0f} ms more  [target ≤ 1000 ms]")


if __name__ == "__main__":
    main()
