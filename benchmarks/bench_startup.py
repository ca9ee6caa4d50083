"""Startup time of the installed `pycodex`, side by side with Codex when it is installed.

    .venv/bin/python benchmarks/bench_startup.py [--runs 20] [--top 10]

Measures the wall time of `pycodex --version` and `pycodex --help` (median and p90 over
`--runs` runs, each a fresh process of the installed executable), then lists the modules
that cost most in `python -X importtime -m pycodex --version`. When the reference Codex
binary is found (on PATH, beside this interpreter, or inside the `openai-codex-cli-bin`
distribution) `codex --version` is timed the same way and the ratio printed. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from codex_ref import CODEX_DIST, find_codex  # benchmarks/codex_ref.py (run as a script)


def quiet_env(tmp: Path) -> dict[str, str]:
    """A scrubbed environment with throwaway homes: no user config changes the figures."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(tmp),
        "PYCODEX_HOME": str(tmp / "pycodex"),
        "CODEX_HOME": str(tmp / "codex"),
    }


def time_command(argv: Sequence[str], runs: int, env: Mapping[str, str]) -> list[float]:
    """Wall seconds of `runs` fresh runs of `argv` (after one untimed warm-up run)."""
    samples: list[float] = []
    for i in range(runs + 1):
        start = time.perf_counter()
        result = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=dict(env),
            timeout=60,
            check=False,
        )
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            err = result.stderr.decode(errors="replace").strip()
            raise SystemExit(f"{' '.join(argv)} exited {result.returncode}: {err}")
        if i > 0:  # the first run only warms the page cache
            samples.append(elapsed)
    return samples


def p90(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def importtime_offenders(python: str, top: int, env: Mapping[str, str]) -> list[tuple[int, str]]:
    """The `top` modules by cumulative import time (µs) of `pycodex --version`."""
    result = subprocess.run(
        [python, "-X", "importtime", "-m", "pycodex", "--version"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=60,
        check=False,
    )
    rows: list[tuple[int, str]] = []
    for line in result.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        cumulative, name = parts[1].strip(), parts[2].rstrip()
        if cumulative.isdigit():
            rows.append((int(cumulative), name))
    rows.sort(key=lambda row: row[0], reverse=True)
    return rows[:top]


def describe(label: str, samples: Sequence[float]) -> str:
    med = statistics.median(samples)
    return f"{label:<28} median {med * 1000:8.1f} ms   p90 {p90(samples) * 1000:8.1f} ms"


def _version_figures(pycodex: Path, runs: int, env: Mapping[str, str]) -> dict[str, object]:
    ours = time_command([str(pycodex), "--version"], runs, env)
    codex = find_codex()
    theirs = time_command([str(codex), "--version"], runs, env) if codex else None

    def figures(samples: Sequence[float] | None) -> dict[str, float] | None:
        if samples is None:
            return None
        return {"wall_ms": statistics.median(samples) * 1000, "min_ms": min(samples) * 1000,
                "max_ms": max(samples) * 1000}

    return {"pycodex": figures(ours), "codex": figures(theirs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per command")
    parser.add_argument("--top", type=int, default=10, help="import-time offenders shown")
    parser.add_argument("--json", action="store_true",
                        help="print the --version figures for bench_table.py as one JSON line")
    args = parser.parse_args()

    pycodex = Path(sys.executable).parent / "pycodex"
    if not pycodex.is_file():
        raise SystemExit(f"pycodex is not installed in {pycodex.parent}")

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = quiet_env(Path(tmp))
        if args.json:
            print(json.dumps(_version_figures(pycodex, args.runs, env)))
            return
        print(f"startup, {args.runs} runs each (fresh process per run)")
        version = time_command([str(pycodex), "--version"], args.runs, env)
        help_ = time_command([str(pycodex), "--help"], args.runs, env)
        print(describe("pycodex --version", version))
        print(describe("pycodex --help", help_))

        codex = find_codex()
        if codex is None:
            print(
                f"reference Codex: not installed (`pip install {CODEX_DIST}` "
                "to compare side by side)"
            )
        else:
            reference = time_command([str(codex), "--version"], args.runs, env)
            print(describe("codex --version", reference))
            ratio = statistics.median(version) / statistics.median(reference)
            print(f"{'ratio pycodex/codex':<28} {ratio:8.1f}x  ({codex})")

        print()
        print(f"top {args.top} imports of `python -X importtime -m pycodex --version`")
        print(f"{'cumulative µs':>14}  module")
        for cumulative, name in importtime_offenders(sys.executable, args.top, env):
            print(f"{cumulative:>14}  {name}")


if __name__ == "__main__":
    main()
