"""Per-command cost of each sandbox backend: `true`, as pycodex runs a model's command.

For every backend available here (and unsandboxed), under read-only and workspace-write:

* `pycodex`: `prepare_command` + `run_command` + wait, the path every shell/exec_command
  call takes (commands are forked by the process zygote when it is on);
* `standalone argv`: `subprocess.run(prepared.argv)`, the path `pycodex sandbox -- CMD`
  takes (a fresh interpreter runs the shim);
* `codex`: `codex sandbox [-c sandbox_mode=workspace-write] -- true` of the reference Codex
  when it is installed (see codex_ref.py); that includes Codex's own start-up, so
  `codex --version` is printed too.

Each figure is the median of ROUNDS rounds, each the median of RUNS runs, with the spread
(min-max of the round medians). Figures are printed, never asserted.

    .venv/bin/python benchmarks/bench_sandbox.py [--runs N] [--rounds N] [--codex PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from codex_ref import find_codex

from pycodex.process import zygote
from pycodex.process.spawn import ExecRequest, run_command
from pycodex.protocol.policies import (
    DangerFullAccessPolicy,
    ReadOnlyPolicy,
    SandboxPolicy,
    WorkspaceWritePolicy,
)
from pycodex.sandbox import launcher

WARMUP = 3
Figure = tuple[float, float, float]  # median, low, high (ms)


def measure(fn: Callable[[], None], runs: int, rounds: int) -> Figure:
    medians = []
    for _ in range(rounds):
        samples = []
        for i in range(runs + WARMUP):
            start = time.perf_counter()
            fn()
            if i >= WARMUP:
                samples.append((time.perf_counter() - start) * 1000)
        medians.append(statistics.median(samples))
    return statistics.median(medians), min(medians), max(medians)


def _figures(fig: Figure | None) -> dict[str, float] | None:
    if fig is None:
        return None
    return {"wall_ms": fig[0], "min_ms": fig[1], "max_ms": fig[2]}


def fmt(fig: Figure | None, base: Figure | None = None) -> str:
    if fig is None:
        return "-"
    text = f"{fig[0]:6.1f} ({fig[1]:.1f}-{fig[2]:.1f})"
    if base is not None:
        text += f"  x{base[0] / fig[0]:.1f}"
    return text


def pycodex_path(loop: asyncio.AbstractEventLoop, policy: SandboxPolicy, backend: str | None,
                 ws: Path, env: dict[str, str]) -> Callable[[], None]:
    def once() -> None:
        cmd = launcher.prepare_command(["true"], policy=policy, cwd=ws, env=env, backend=backend)
        result = loop.run_until_complete(run_command(ExecRequest(cmd.argv, ws, cmd.env)))
        assert result.exit_code == 0, result.aggregated

    return once


def standalone_path(policy: SandboxPolicy, backend: str | None, ws: Path,
                    env: dict[str, str]) -> Callable[[], None]:
    cmd = launcher.prepare_command(["true"], policy=policy, cwd=ws, env=env, backend=backend)

    def once() -> None:
        subprocess.run(cmd.argv, env=cmd.env, cwd=ws, stdin=subprocess.DEVNULL, check=True)

    return once


def codex_figures(codex: Path, ws: Path, runs: int, rounds: int) -> dict[str, Figure]:
    # Codex refuses to set up its sandbox helper when CODEX_HOME is inside the temp dir
    # (codex_reference.md, gotcha 1): give it a TMPDIR of its own beside CODEX_HOME.
    env = {**os.environ, "CODEX_HOME": str(ws.parent / "codex-home"),
           "TMPDIR": str(ws.parent / "codex-tmp")}
    for directory in (env["CODEX_HOME"], env["TMPDIR"]):
        Path(directory).mkdir(exist_ok=True)
    variants = {
        "version": [str(codex), "--version"],
        "read-only": [str(codex), "sandbox", "--", "true"],
        "workspace-write": [str(codex), "sandbox", "-c", 'sandbox_mode="workspace-write"',
                            "-c", "sandbox_workspace_write.exclude_slash_tmp=true",
                            "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true",
                            "--", "true"],
    }
    out: dict[str, Figure] = {}
    for name, argv in variants.items():
        def once(argv: list[str] = argv) -> None:
            subprocess.run(argv, env=env, cwd=ws, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

        try:
            once()
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"codex {name}: not measured ({exc})")
            continue
        out[name] = measure(once, runs, rounds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--codex", default=None)
    parser.add_argument("--json", action="store_true",
                        help="print the landlock/userns rows for bench_table.py as one JSON line")
    args = parser.parse_args()
    policies: dict[str, SandboxPolicy] = {
        "read-only": ReadOnlyPolicy(),
        "workspace-write": WorkspaceWritePolicy(exclude_slash_tmp=True,
                                                exclude_tmpdir_env_var=True),
    }
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        (ws / ".git").mkdir(parents=True)
        env = dict(os.environ)
        codex = find_codex(args.codex)
        ref = codex_figures(codex, ws, args.runs, args.rounds) if codex else {}
        rows: list[tuple[str, str, str, str, str]] = []
        table: list[dict[str, object]] = []
        none = DangerFullAccessPolicy()
        rows.append(("none", "danger-full-access",
                     fmt(measure(pycodex_path(loop, none, None, ws, env), args.runs, args.rounds)),
                     fmt(measure(standalone_path(none, None, ws, env), args.runs, args.rounds)),
                     "-"))
        for backend in launcher.BACKENDS:
            reason = launcher.preflight(backend)
            for name, policy in policies.items():
                if reason is not None:
                    rows.append((backend, name, f"unavailable: {reason}", "", ""))
                    continue
                ours = measure(pycodex_path(loop, policy, backend, ws, env), args.runs,
                               args.rounds)
                alone = measure(standalone_path(policy, backend, ws, env), args.runs,
                                args.rounds)
                rows.append((backend, name, fmt(ours, ref.get(name)), fmt(alone),
                             fmt(ref.get(name))))
                table.append({"scenario": f"sandbox cost per command ({backend}, {name})",
                              "pycodex": _figures(ours), "codex": _figures(ref.get(name)),
                              "target": "≤ 12 ms" if backend != "bwrap" else "–"})
    loop.close()
    if args.json:
        import json

        print(json.dumps({"rows": table}))
        zygote.shutdown()
        return
    zygote_state = "on" if zygote.available() else "off"
    print(f"sandbox cost per command: `true`, ms, median of {args.rounds} rounds x median of "
          f"{args.runs} runs (spread: min-max of round medians); {os.cpu_count()} CPUs; "
          f"zygote {zygote_state}")
    print("  xN = Codex's figure / pycodex's (higher is better for pycodex)")
    print(f"{'backend':<9} {'policy':<19} {'pycodex':<26} {'standalone argv':<20} codex sandbox")
    for backend, policy_name, ours_text, alone_text, ref_text in rows:
        print(f"{backend:<9} {policy_name:<19} {ours_text:<26} {alone_text:<20} {ref_text}")
    if codex is None:
        print("codex: not installed (python3 -m venv /tmp/codex-ref && "
              "/tmp/codex-ref/bin/pip install openai-codex-cli-bin; or --codex PATH)")
    elif "version" in ref:
        print(f"codex --version (Codex start-up alone): {fmt(ref['version'])}  [{codex}]")
    zygote.shutdown()


if __name__ == "__main__":
    main()
