"""End-to-end latency of `pycodex exec --json`, side by side with Codex when it is available.

    .venv/bin/python benchmarks/bench_exec.py [--runs 10] [--codex PATH]

Starts the mock model server (tests/support/mock_model.py) in this process and runs the
installed `pycodex exec --json --dangerously-bypass-approvals-and-sandbox` against it in the
scenarios of spec/codex_reference.md §10:

* ``shell cold`` — two model requests and one `echo` command, fresh home per run;
* ``shell warm`` — the same, reusing one home (sessions of earlier runs in it);
* ``text warm``  — one request answered with a message, warm home.

Each run is a fresh process. Wall time is measured from spawn to exit; peak RSS and CPU
come from ``os.wait4`` on that process (its own rusage: ru_maxrss is the peak of the
process itself, or of a waited-for descendant if one grew larger — the `echo` never does).
One untimed warm-up run per scenario primes the page cache.

The reference Codex binary is looked up in ``--codex``, ``$CODEX_BIN``, then ``codex`` on
PATH; when found the equivalent Codex runs (the mock answering ``exec_command
{"cmd": "echo hello-from-tool"}``, CODEX_HOME config as in reference/README.md) are
interleaved with pycodex's and the ratio pycodex/codex printed. All homes, workspaces and
``TMPDIR`` live in a directory outside the system temp dir (Codex refuses to create its
PATH aliases under it: reference gotcha 1) that is removed at the end.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from codex_ref import CODEX_DIST, find_codex  # noqa: E402  (benchmarks/codex_ref.py)
from tests.support.mock_model import (  # noqa: E402  (needs the repo root on sys.path)
    MockModelServer,
    RecordedRequest,
    Reply,
    function_call,
    message,
    response,
)

RUN_TIMEOUT_S = 60.0
MIB = 1024.0


# --- the mock's script ----------------------------------------------------------------------

def command_reply(request: RecordedRequest) -> Reply:
    """A call of whichever shell tool the client offers (Codex: exec_command; pycodex: shell
    today, exec_command once it offers it)."""
    names = {tool.get("name") for tool in request.body.get("tools", [])}
    if "exec_command" in names:
        call = function_call("exec_command", {"cmd": "echo hello-from-tool"}, "call_bench_1")
    else:
        argv = ["bash", "-lc", "echo hello-from-tool"]
        call = function_call("shell", {"command": argv}, "call_bench_1")
    return response(call)


@dataclass(frozen=True)
class Scenario:
    name: str
    prompt: str
    replies: Callable[[], list[Reply | Callable[[RecordedRequest], Reply]]]
    expect_in_stdout: str  # proof that the run did the work
    warm: bool


SCENARIOS = (
    Scenario(
        "shell cold", "[[shell]] run echo",
        lambda: [command_reply, response(message("All done."))], "hello-from-tool", warm=False,
    ),
    Scenario(
        "shell warm", "[[shell]] run echo",
        lambda: [command_reply, response(message("All done."))], "hello-from-tool", warm=True,
    ),
    Scenario(
        "text warm", "[[text]] just answer",
        lambda: [response(message("Just text, no tools."))], "Just text, no tools.", warm=True,
    ),
)


# --- the two implementations --------------------------------------------------------------

@dataclass
class Tool:
    label: str
    binary: Path
    home_var: str  # PYCODEX_HOME or CODEX_HOME

    def argv(self, workspace: Path, prompt: str) -> list[str]:
        return [
            str(self.binary), "exec", "--json", "--dangerously-bypass-approvals-and-sandbox",
            "-C", str(workspace), prompt,
        ]


def config_toml(base_url: str) -> str:
    return f"""model = "gpt-5.5"
model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = "{base_url}"
wire_api = "responses"
env_key = "MOCK_KEY"
request_max_retries = 0
stream_max_retries = 0
"""


def new_home(parent: Path, base_url: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix="home-", dir=parent))
    (home / "config.toml").write_text(config_toml(base_url), encoding="utf-8")
    return home


def make_workspace(parent: Path) -> Path:
    """A git repo with one commit containing existing.txt, like the reference captures."""
    ws = parent / "workspace"
    ws.mkdir()
    (ws / "existing.txt").write_text("old line\n", encoding="utf-8")
    git = ["git", "-C", str(ws), "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    subprocess.run([*git, "add", "existing.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    return ws


# --- measuring one run ----------------------------------------------------------------------

@dataclass
class Sample:
    wall_s: float
    max_rss_kib: int
    cpu_s: float


def measure(argv: Sequence[str], env: dict[str, str], cwd: Path, out_dir: Path) -> tuple[Sample, str]:
    """Run `argv` to completion; wall time, peak RSS and CPU of that process; its stdout."""
    out_path, err_path = out_dir / "stdout", out_dir / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd,
            start_new_session=True,
        )
        watchdog = threading.Timer(RUN_TIMEOUT_S, _kill_group, (proc.pid,))
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    _kill_group(proc.pid)  # anything the run left behind in its session
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        stderr = err_path.read_text(encoding="utf-8", errors="replace").strip()
        raise RuntimeError(f"{' '.join(argv[:2])} exited {proc.returncode}: {stderr[-800:]}")
    sample = Sample(wall, int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime)
    return sample, stdout


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    def wall(self) -> list[float]:
        return [s.wall_s for s in self.samples]


class Bench:
    def __init__(self, mock: MockModelServer, root: Path, tools: list[Tool]) -> None:
        self.mock = mock
        self.root = root
        self.tools = tools
        self.workspace = make_workspace(root)
        self.tmpdir = root / "tmpdir"
        self.tmpdir.mkdir()
        self.empty_codex_home = root / "no-codex-home"  # keeps pycodex off ~/.codex
        self.empty_codex_home.mkdir()
        self.user_home = root / "user-home"
        self.user_home.mkdir()
        self.out_dir = root / "out"
        self.out_dir.mkdir()
        self.warm_homes = {tool.label: new_home(root, mock.url) for tool in tools}

    def env(self, tool: Tool, home: Path) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.user_home),
            "TMPDIR": str(self.tmpdir),
            "MOCK_KEY": "x",
            "CODEX_HOME": str(self.empty_codex_home),
        }
        env[tool.home_var] = str(home)
        return env

    def run_once(self, tool: Tool, scenario: Scenario) -> Sample:
        home = self.warm_homes[tool.label] if scenario.warm else new_home(self.root, self.mock.url)
        replies = scenario.replies()
        before = len(self.mock.model_requests())
        self.mock.enqueue(*replies)
        try:
            sample, stdout = measure(
                tool.argv(self.workspace, scenario.prompt), self.env(tool, home),
                self.workspace, self.out_dir,
            )
        finally:
            if not scenario.warm:
                shutil.rmtree(home, ignore_errors=True)
        made = len(self.mock.model_requests()) - before
        if made != len(replies) or self.mock.pending:
            raise RuntimeError(
                f"{tool.label} {scenario.name}: {made} model requests, expected {len(replies)}"
            )
        if scenario.expect_in_stdout not in stdout or '"turn.completed"' not in stdout:
            raise RuntimeError(f"{tool.label} {scenario.name}: unexpected output:\n{stdout}")
        return sample

    def run(self, scenario: Scenario, runs: int) -> dict[str, Series]:
        for tool in self.tools:  # warm-up, untimed
            self.run_once(tool, scenario)
        results = {tool.label: Series() for tool in self.tools}
        for _ in range(runs):  # interleaved so drift hits both alike
            for tool in self.tools:
                results[tool.label].samples.append(self.run_once(tool, scenario))
        return results


# --- reporting --------------------------------------------------------------------------------

def p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def row(scenario: str, label: str, series: Series) -> str:
    wall = series.wall()
    rss = statistics.median(s.max_rss_kib for s in series.samples) / MIB
    cpu = statistics.median(s.cpu_s for s in series.samples)
    return (
        f"{scenario:<11} {label:<8} {statistics.median(wall) * 1000:9.0f} "
        f"{p90(wall) * 1000:9.0f} {rss:10.1f} {cpu * 1000:9.0f}"
    )


def _table_row(scenario: str, results: dict[str, Series]) -> dict[str, object]:
    def figures(label: str) -> dict[str, float] | None:
        series = results.get(label)
        if series is None:
            return None
        return {
            "wall_ms": statistics.median(series.wall()) * 1000,
            "min_ms": min(series.wall()) * 1000,
            "max_ms": max(series.wall()) * 1000,
            "rss_mib": statistics.median(s.max_rss_kib for s in series.samples) / MIB,
        }

    return {"scenario": scenario, "pycodex": figures("pycodex"), "codex": figures("codex")}


def bench_parent() -> Path:
    """A directory outside the system temp dir for all of the benchmark's files."""
    system_tmp = Path(tempfile.gettempdir()).resolve()
    for candidate in (Path.home() / ".cache", REPO / "benchmarks" / "results"):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if system_tmp not in candidate.resolve().parents and os.access(candidate, os.W_OK):
            return candidate
    raise SystemExit("no writable directory outside the system temp dir for the benchmark")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per scenario")
    parser.add_argument("--codex", help="reference Codex binary (default: $CODEX_BIN, PATH)")
    parser.add_argument("--json", action="store_true",
                        help="print the rows for benchmarks/bench_table.py as one JSON line")
    args = parser.parse_args()

    pycodex = Path(sys.executable).parent / "pycodex"
    if not pycodex.is_file():
        raise SystemExit(f"pycodex is not installed in {pycodex.parent}")
    tools = [Tool("pycodex", pycodex, "PYCODEX_HOME")]
    codex = find_codex(args.codex)
    if codex is not None:
        tools.append(Tool("codex", codex, "CODEX_HOME"))

    root = Path(tempfile.mkdtemp(prefix="pycodex-bench-exec-", dir=bench_parent()))
    try:
        with MockModelServer() as mock:
            bench = Bench(mock, root, tools)
            print(f"exec --json, {args.runs} runs per scenario (+1 warm-up), mock on loopback")
            print(f"{'scenario':<11} {'tool':<8} {'median ms':>9} {'p90 ms':>9} "
                  f"{'RSS MiB':>10} {'CPU ms':>9}")
            ratios: list[str] = []
            table: list[dict[str, object]] = []
            for scenario in SCENARIOS:
                results = bench.run(scenario, args.runs)
                table.append(_table_row(scenario.name, results))
                for tool in tools:
                    print(row(scenario.name, tool.label, results[tool.label]))
                if codex is not None:
                    ours = statistics.median(results["pycodex"].wall())
                    theirs = statistics.median(results["codex"].wall())
                    ours_rss = statistics.median(s.max_rss_kib for s in results["pycodex"].samples)
                    theirs_rss = statistics.median(s.max_rss_kib for s in results["codex"].samples)
                    ratios.append(
                        f"{scenario.name:<11} wall {ours / theirs:5.2f}x   "
                        f"peak RSS {ours_rss / theirs_rss:5.2f}x"
                    )
    finally:
        shutil.rmtree(root, ignore_errors=True)

    if args.json:
        print(json.dumps({"rows": table}))
        return
    if codex is None:
        print(
            "\nreference Codex: not found (pass --codex PATH or set CODEX_BIN). To get it:\n"
            f"  python3 -m venv /tmp/codex-ref && /tmp/codex-ref/bin/pip install {CODEX_DIST}\n"
            "  CODEX_BIN=$(find /tmp/codex-ref -path '*codex_cli_bin/bin/codex')"
        )
    else:
        print(f"\nratio pycodex/codex (medians; codex = {codex})")
        for line in ratios:
            print(line)


if __name__ == "__main__":
    main()
