"""Per-command spawn overhead of each sandbox backend for `true` (median of 50).

Prints a table next to a plain subprocess; no assertions. Run: .venv/bin/python
benchmarks/bench_sandbox.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pycodex.protocol.policies import ReadOnlyPolicy, WorkspaceWritePolicy
from pycodex.sandbox import launcher

RUNS = 50
WARMUP = 3


def median_ms(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    samples = []
    for i in range(RUNS + WARMUP):
        start = time.perf_counter()
        subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, check=True)
        if i >= WARMUP:
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        (ws / ".git").mkdir()
        env = dict(os.environ)
        rows: list[tuple[str, str, str]] = [
            ("plain subprocess", "-", f"{median_ms(['true'], env, ws):.1f}")]
        policies = {
            "read-only": ReadOnlyPolicy(),
            "workspace-write": WorkspaceWritePolicy(exclude_slash_tmp=True,
                                                    exclude_tmpdir_env_var=True),
        }
        for backend in launcher.BACKENDS:
            reason = launcher.preflight(backend)
            for name, policy in policies.items():
                if reason is not None:
                    rows.append((backend, name, f"unavailable: {reason}"))
                    continue
                cmd = launcher.prepare_command(["true"], policy=policy, cwd=ws, env=env,
                                               backend=backend)
                rows.append((backend, name, f"{median_ms(cmd.argv, cmd.env, ws):.1f}"))
    print(f"sandbox spawn overhead: `true`, median of {RUNS} runs, {os.cpu_count()} CPUs")
    print(f"{'launcher':<18} {'policy':<16} median ms")
    for launcher_name, policy_name, value in rows:
        print(f"{launcher_name:<18} {policy_name:<16} {value}")


if __name__ == "__main__":
    main()
