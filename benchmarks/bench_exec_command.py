"""exec_command round trip and what the login-shell snapshot saves.

1. `exec_command {"cmd": "echo hi"}` through the real handler (approval decision, sandbox
   wrapping, PTY-less session, output formatting), median of 50, for danger-full-access and
   for the sandbox (read-only) when this machine has one; login=false and login=true with
   the snapshot.
2. A login command with and without the snapshot, with a profile that costs what real
   ones do (it runs a few subprocesses, as nvm/pyenv/conda init lines do).

Prints figures; no assertions. Run: .venv/bin/python benchmarks/bench_exec_command.py
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pycodex.config.settings import ShellEnvironmentPolicy
from pycodex.process.env import build_command_env
from pycodex.process.runtime import ShellRuntime
from pycodex.protocol.policies import DangerFullAccessPolicy, ReadOnlyPolicy, SandboxPolicy
from pycodex.sandbox.launcher import sandbox_status
from pycodex.tools.base import ToolCall, ToolContext
from pycodex.tools.handlers.unified_exec import ExecCommandHandler

RUNS = 50
WARMUP = 3
# A profile that does what slow real ones do: spawn a few helpers at login.
PROFILE = 'export FROM_PROFILE=1\nfor i in 1 2 3 4 5; do X=$(uname -r); done\n'


def _ctx(ws: Path, policy: SandboxPolicy, env: dict[str, str]) -> ToolContext:
    return ToolContext(
        turn_id="bench", cwd=ws, approval_policy="never", sandbox_mode=policy.mode.value if policy.mode else "x",
        command_env=env, emit=lambda _e: None, emit_warning=lambda _m: None, sandbox_policy=policy,
    )


async def _median_ms(handler: ExecCommandHandler, ctx: ToolContext, args: dict[str, Any]) -> float:
    samples: list[float] = []
    for i in range(RUNS + WARMUP):
        call = ToolCall(name="exec_command", call_id=f"c{i}", kind="function", payload=json.dumps(args))
        start = time.perf_counter()
        out = await handler.handle(call, ctx)
        if i >= WARMUP:
            samples.append((time.perf_counter() - start) * 1000)
        assert "Process exited with code 0" in out.text, out.text
    return statistics.median(samples)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ws, home, user_home = root / "ws", root / "pycodex-home", root / "home"
        for d in (ws, home, user_home):
            d.mkdir()
        (ws / ".git").mkdir()
        (user_home / ".bash_profile").write_text(PROFILE)
        base = {**os.environ, "HOME": str(user_home), "SHELL": "/bin/bash"}
        policy = ShellEnvironmentPolicy()
        env = build_command_env(policy, base)
        policies: list[tuple[str, SandboxPolicy]] = [("danger-full-access", DangerFullAccessPolicy())]
        status = sandbox_status(ReadOnlyPolicy())
        if status.available:
            policies.append((f"read-only ({status.backend})", ReadOnlyPolicy()))
        print(f"exec_command round trip, median of {RUNS} ({os.cpu_count()} CPUs)")
        print(f"{'policy':<28} {'mode':<26} median ms")
        for name, sandbox in policies:
            runtime = ShellRuntime(thread_id="bench", env_policy=policy, base_env=base, home=home)
            handler = ExecCommandHandler(runtime)
            ctx = _ctx(ws, sandbox, env)
            for mode, args in (("echo hi (login=false)", {"cmd": "echo hi", "login": False}),
                               ("echo hi (login, snapshot)", {"cmd": "echo hi"})):
                print(f"{name:<28} {mode:<26} {await _median_ms(handler, ctx, args):.1f}")
            await runtime.close()
        print()
        print("login shell: profile sourced per command vs snapshot (danger-full-access)")
        ctx = _ctx(ws, DangerFullAccessPolicy(), env)
        results = {}
        for label, snapshots in (("without snapshot (-lc)", False), ("with snapshot", True)):
            runtime = ShellRuntime(thread_id="bench2", env_policy=policy, base_env=base, home=home,
                                   snapshots=snapshots)
            results[label] = await _median_ms(ExecCommandHandler(runtime), ctx, {"cmd": "echo $FROM_PROFILE"})
            await runtime.close()
            print(f"  {label:<24} {results[label]:.1f} ms")
        saved = results["without snapshot (-lc)"] - results["with snapshot"]
        print(f"  saving per login command: {saved:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
