"""Apply a 100-chunk patch to a generated ~10 MB file; print wall time and peak RSS.

    .venv/bin/python benchmarks/bench_apply_patch.py [--runs 5] [--chunks 100] [--mb 10]

Each run starts from a fresh copy of the file and goes through the whole engine
(parse, verify in memory, stage, rename). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pycodex.apply_patch import apply_patch_text


def make_file(megabytes: int) -> list[str]:
    lines: list[str] = []
    size = 0
    i = 0
    while size < megabytes * 1_000_000:
        # Repetitive, code-like lines so that context lines are not trivially unique.
        line = f"    value_{i % 997} = compute({i}, 'payload {i:08d}')  # row"
        lines.append(line)
        size += len(line) + 1
        i += 1
    return lines


def make_patch(lines: list[str], chunks: int) -> str:
    out = ["*** Begin Patch", "*** Update File: big.py"]
    step = len(lines) // (chunks + 1)
    for k in range(1, chunks + 1):
        at = k * step
        out.append("@@")
        out.append(" " + lines[at - 1])
        out.append("-" + lines[at])
        out.append("+" + lines[at].replace("row", "edited row"))
        out.append(" " + lines[at + 1])
    out.append("*** End Patch")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chunks", type=int, default=100)
    parser.add_argument("--mb", type=int, default=10)
    args = parser.parse_args()

    lines = make_file(args.mb)
    patch = make_patch(lines, args.chunks)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "source.py")
        source.write_text("\n".join(lines) + "\n")
        work = Path(tmp, "work")
        work.mkdir()
        times: list[float] = []
        for _ in range(args.runs):
            shutil.copyfile(source, work / "big.py")
            start = time.perf_counter()
            code, _, err = apply_patch_text(patch, work)
            times.append(time.perf_counter() - start)
            if code != 0:
                sys.exit(f"patch failed: {err}")
        size_mb = source.stat().st_size / 1e6
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    if sys.platform == "darwin":
        peak_kb //= 1024
    print(f"file: {size_mb:.1f} MB, {len(lines)} lines; patch: {args.chunks} chunks")
    print(
        f"wall time: median {statistics.median(times):.3f} s over {args.runs} runs "
        f"(min {min(times):.3f} s, max {max(times):.3f} s)"
    )
    print(f"peak RSS: {peak_kb / 1024:.0f} MiB (whole process, including the test data)")


if __name__ == "__main__":
    main()
