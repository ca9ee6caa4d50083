"""The fast-start table in one run: each row side by side with the reference Codex.

    .venv/bin/python benchmarks/bench_table.py [--runs 7] [--quick]

Runs the other benchmarks one after the other (never in parallel: the figures would
disturb each other), each with `--json`, and prints one table with medians, the spread
(min–max) and the ratio pycodex/Codex where Codex can run the same scenario:

| row | benchmark |
|---|---|
| exec --json, shell turn / text turn, peak RSS | bench_exec.py |
| --version | bench_startup.py |
| apply_patch, 100 chunks into a 10 MB file / 1 chunk in each of 1,000 files | bench_apply_patch.py |
| resume a 100 MB rollout (extra over a fresh exec) | bench_resume.py |
| sandbox cost per command (landlock / userns) | bench_sandbox.py |

A benchmark that fails or has no `--json` output is reported as such; the others still
run. Figures are printed, never asserted. `--quick` uses fewer runs and a 20 MB rollout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
Row = tuple[str, str, str, str, str]  # scenario, pycodex, codex, ratio, target


def run_json(script: str, *args: str) -> dict[str, Any] | str:
    """The JSON line a benchmark prints with --json, or why there is none."""
    proc = subprocess.run(
        [sys.executable, str(HERE / script), "--json", *args],
        capture_output=True, text=True, timeout=1800, check=False,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                parsed: dict[str, Any] = json.loads(line)
            except ValueError:
                break
            return parsed
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return f"{script} gave no figures (exit {proc.returncode}): {tail[0][:200]}"


def fmt(fig: dict[str, float] | None, key: str = "wall_ms", unit: str = "ms") -> str:
    if fig is None:
        return "–"
    value = fig[key]
    spread = f" ({fig['min_ms']:.0f}–{fig['max_ms']:.0f})" if "min_ms" in fig and key == "wall_ms" else ""
    return f"{value:.0f} {unit}{spread}" if value >= 10 else f"{value:.1f} {unit}{spread}"


def ratio(ours: dict[str, float] | None, theirs: dict[str, float] | None, key: str = "wall_ms") -> str:
    if not ours or not theirs or not theirs.get(key):
        return "–"
    return f"{ours[key] / theirs[key]:.2f}×"


def exec_rows(runs: int) -> list[Row] | str:
    data = run_json("bench_exec.py", "--runs", str(runs))
    if isinstance(data, str):
        return data
    rows: list[Row] = []
    by_name = {row["scenario"]: row for row in data["rows"]}
    for name, label in (("shell cold", "exec --json, shell turn (cold)"),
                        ("shell warm", "exec --json, shell turn (warm)"),
                        ("text warm", "exec, text-only turn")):
        row = by_name.get(name)
        if row is not None:
            rows.append((label, fmt(row["pycodex"]), fmt(row["codex"]),
                         ratio(row["pycodex"], row["codex"]), "≤ 0.8×"))
    row = by_name.get("shell cold")
    if row is not None:
        rows.append(("peak RSS of the exec process", fmt(row["pycodex"], "rss_mib", "MiB"),
                     fmt(row["codex"], "rss_mib", "MiB"),
                     ratio(row["pycodex"], row["codex"], "rss_mib"), "≤ 0.5×"))
    return rows


def startup_rows(runs: int) -> list[Row] | str:
    data = run_json("bench_startup.py", "--runs", str(max(runs, 10)))
    if isinstance(data, str):
        return data
    return [("--version", fmt(data["pycodex"]), fmt(data["codex"]),
             ratio(data["pycodex"], data["codex"]), "≤ 35 ms")]


def apply_patch_rows(runs: int) -> list[Row] | str:
    data = run_json("bench_apply_patch.py", "--runs", str(runs))
    if isinstance(data, str):
        return data
    return [(row["scenario"], fmt(row["pycodex"]), fmt(row.get("codex")),
             ratio(row["pycodex"], row.get("codex")), "≤ 1.0×") for row in data["rows"]]


def resume_rows(runs: int, big_mb: int) -> list[Row] | str:
    data = run_json("bench_resume.py", "--runs", str(runs), "--big-mb", str(big_mb))
    if isinstance(data, str):
        return data
    low, high = data["spread_s"]
    figure = f"+{data['extra_s'] * 1000:.0f} ms ({low * 1000:.0f}–{high * 1000:.0f})"
    return [(f"resume a {big_mb} MB rollout (over a fresh exec)", figure, "–", "–", "≤ +1 s")]


def sandbox_rows(runs: int) -> list[Row] | str:
    data = run_json("bench_sandbox.py")
    if isinstance(data, str):
        return data
    return [(row["scenario"], fmt(row["pycodex"]), fmt(row.get("codex")),
             ratio(row["pycodex"], row.get("codex")), row.get("target", "≤ 12 ms"))
            for row in data["rows"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    sections: list[Callable[[], list[Row] | str]] = [
        lambda: exec_rows(runs),
        lambda: startup_rows(runs),
        lambda: apply_patch_rows(runs),
        lambda: resume_rows(min(runs, 5), 20 if args.quick else 100),
        lambda: sandbox_rows(runs),
    ]
    rows: list[Row] = []
    problems: list[str] = []
    for section in sections:
        result = section()
        if isinstance(result, str):
            problems.append(result)
        else:
            rows.extend(result)
    header: Row = ("scenario", "pycodex median (min–max)", "Codex", "ratio", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    for problem in problems:
        print(f"\nnote: {problem}")


if __name__ == "__main__":
    main()
