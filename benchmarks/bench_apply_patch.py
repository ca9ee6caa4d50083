"""apply_patch on two shapes, pycodex side by side with the reference Codex binary.

    .venv/bin/python benchmarks/bench_apply_patch.py [--runs 5] [--codex PATH]
        [--mb 10] [--chunks 100] [--files 1000]

Shapes (issue 11):
  big   100 chunks into one generated ~10 MB file
  many  one chunk in each of 1,000 files (spread over 20 directories)

Contenders, each run on a fresh copy of the tree, in alternating order:
  codex --codex-run-as-apply-patch PATCH     the reference (when found; see codex_ref.py)
  pycodex --codex-run-as-apply-patch PATCH   the same invocation, as Codex re-executes itself
  apply_patch PATCH                          pycodex's lean console script
  in-process apply_patch_text()              the engine alone, no interpreter start-up

Each run gets its own copy of the tree, all written and `os.sync()`ed before the first
run (untimed), so no run pays for flushing the setup's dirty pages: in real use the files
being patched are long written.
The first run of each shape checks that every contender leaves the same tree as Codex.
Prints median, spread (min-max) and the ratio of medians to Codex; never asserts timing.

Reading the `many` figures: pycodex writes each file as a new inode renamed over the old
one (Codex rewrites files in place, which a crash can leave half-written), so each file
costs an inode allocation and frees one. On ext4 without a journal (as on some VMs),
allocation skips inodes freed in the last seconds (minutes while their table block is
dirty) by rescanning from the start of the block group each time, and a create then
costs ~1 ms instead of ~20 us after recent deletions nearby, including the previous
runs' own. `--settle` waits between runs but cannot undo that; a first run in a quiet
directory shows the undisturbed cost.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from codex_ref import find_codex  # benchmarks/codex_ref.py (run as a script)

from pycodex.apply_patch import apply_patch_text

# Linux refuses a single argv string longer than this (MAX_ARG_STRLEN), and both programs
# take the patch as one argument.
MAX_ARG = 131_072
BIN = Path(sys.executable).parent


@dataclass
class Shape:
    title: str
    files: dict[str, bytes]
    patch: str


@dataclass
class Contender:
    name: str
    run: Callable[[Path, str], None]
    samples: list[float] = field(default_factory=list)


def big_shape(megabytes: int, chunks: int) -> Shape:
    lines: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        i = len(lines)
        # Repetitive, code-like lines so that context lines are not trivially unique.
        line = f"    value_{i % 997} = compute({i}, 'payload {i:08d}')  # row"
        lines.append(line)
        size += len(line) + 1
    out = ["*** Begin Patch", "*** Update File: big.py"]
    step = len(lines) // (chunks + 1)
    for k in range(1, chunks + 1):
        at = k * step
        out += ["@@", " " + lines[at - 1], "-" + lines[at]]
        out += ["+" + lines[at].replace("row", "edited row"), " " + lines[at + 1]]
    out.append("*** End Patch")
    body = ("\n".join(lines) + "\n").encode()
    title = f"{chunks} chunks into one {len(body) / 1e6:.1f} MB file ({len(lines)} lines)"
    return Shape(title, {"big.py": body}, "\n".join(out))


def many_shape(count: int, dirs: int = 20) -> Shape:
    files: dict[str, bytes] = {}
    out = ["*** Begin Patch"]
    for i in range(count):
        path = f"p{i % dirs}/m{i}.py"
        body = [f"def f{i}(x):", "    y = x + 1", f"    return y * {i}", ""]
        for k in range(20):  # a realistic small module around the edited function
            body.append(f"CONST_{k} = {k * i}")
        files[path] = ("\n".join(body) + "\n").encode()
        out += [f"*** Update File: {path}", "@@", f" def f{i}(x):", "-    y = x + 1"]
        out.append("+    y = x + 2")
    out.append("*** End Patch")
    title = f"one chunk in each of {count} files ({dirs} directories)"
    return Shape(title, files, "\n".join(out))


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def process(argv: list[str]) -> Callable[[Path, str], None]:
    def run(cwd: Path, patch: str) -> None:
        proc = subprocess.run([*argv, patch], cwd=cwd, capture_output=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.decode()[:500]}")

    return run


def in_process(cwd: Path, patch: str) -> None:
    code, _, err = apply_patch_text(patch, cwd)
    if code != 0:
        sys.exit(f"apply_patch_text failed: {err[:500]}")


def contenders(codex: Path | None) -> list[Contender]:
    found: list[Contender] = []
    if codex is not None:
        found.append(Contender("codex --codex-run-as-apply-patch", process([str(codex), "--codex-run-as-apply-patch"])))
    found.append(Contender("pycodex --codex-run-as-apply-patch", process([str(BIN / "pycodex"), "--codex-run-as-apply-patch"])))
    found.append(Contender("apply_patch (pycodex console script)", process([str(BIN / "apply_patch")])))
    found.append(Contender("pycodex in-process (apply_patch_text)", in_process))
    return found


def measure(shape: Shape, players: list[Contender], runs: int, work: Path, settle: float) -> None:
    if len(shape.patch.encode()) >= MAX_ARG:
        sys.exit(f"patch is {len(shape.patch.encode())} bytes: too long for one argv string")
    # Every tree is written before the first run and flushed: deleting or rewriting
    # between runs would leave the journal busy discarding freed blocks, and the next run
    # would pay for the benchmark's own housekeeping.
    trees = {(i, p.name): work / f"{i}-{k}" for i in range(runs + 1) for k, p in enumerate(players)}
    for root in trees.values():
        write_tree(root, shape.files)
    os.sync()
    expected: dict[str, bytes] | None = None
    for i in range(runs + 1):  # run 0 warms caches and checks the results agree
        order = players if i % 2 == 0 else players[::-1]
        for player in order:
            root = trees[(i, player.name)]
            if settle:
                os.sync()
                time.sleep(settle)
            start = time.perf_counter()
            player.run(root, shape.patch)
            elapsed = time.perf_counter() - start
            if i == 0:
                tree = read_tree(root)
                if expected is None:
                    expected = tree
                elif tree != expected:
                    sys.exit(f"{player.name} left a different tree than {order[0].name}")
            else:
                player.samples.append(elapsed)
    shutil.rmtree(work)


def report(shape: Shape, players: list[Contender], has_codex: bool) -> None:
    print(f"\n{shape.title}; patch {len(shape.patch.encode()) / 1000:.0f} kB")
    print(f"  {'contender':<40} {'median':>8}  {'spread (min-max)':>18}  {'vs Codex':>8}")
    reference = statistics.median(players[0].samples) if has_codex else None
    for player in players:
        med = statistics.median(player.samples)
        spread = f"{min(player.samples):.3f}-{max(player.samples):.3f} s"
        ratio = f"{med / reference:.2f}x" if reference else "-"
        print(f"  {player.name:<40} {med:>6.3f} s  {spread:>18}  {ratio:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--codex", help="path to the reference codex binary")
    parser.add_argument("--mb", type=int, default=10)
    parser.add_argument("--chunks", type=int, default=100)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--only", choices=["big", "many"], help="run one shape only")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds to wait (after a sync) before each run (see the module docstring)",
    )
    parser.add_argument("--json", action="store_true",
                        help="print the rows for bench_table.py as one JSON line")
    args = parser.parse_args()
    if args.json:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (the report; the JSON goes to the real one)
    codex = find_codex(args.codex)
    if codex is None:
        print("reference Codex not found (--codex, $CODEX_BIN, PATH, openai-codex-cli-bin):"
              " pycodex figures only")
    else:
        version = subprocess.run([str(codex), "--version"], capture_output=True, text=True)
        print(f"reference: {version.stdout.strip()} ({codex})")
    print(f"{args.runs} timed runs per contender after one checked warm-up run; "
          f"{os.cpu_count()} CPUs; a fresh tree for each run, all synced before the first")
    table: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        shapes = {"big": lambda: big_shape(args.mb, args.chunks), "many": lambda: many_shape(args.files)}
        for name, make in shapes.items():
            if args.only not in (None, name):
                continue
            shape = make()
            players = contenders(codex)
            measure(shape, players, args.runs, Path(tmp, "work"), args.settle)
            report(shape, players, codex is not None)
            table.append(_table_row(name, shape, players, codex is not None))
    if args.json:
        sys.__stdout__.write(json.dumps({"rows": table}) + "\n")


def _table_row(name: str, shape: Shape, players: list[Contender], has_codex: bool) -> dict[str, object]:
    def figures(player: Contender) -> dict[str, float]:
        return {"wall_ms": statistics.median(player.samples) * 1000,
                "min_ms": min(player.samples) * 1000, "max_ms": max(player.samples) * 1000}

    ours = next(p for p in players if p.name.startswith("apply_patch"))
    label = {"big": "apply_patch: 100 chunks into a 10 MB file",
             "many": "apply_patch: one chunk in each of 1,000 files"}[name]
    return {"scenario": label, "pycodex": figures(ours),
            "codex": figures(players[0]) if has_codex else None}


if __name__ == "__main__":
    main()
