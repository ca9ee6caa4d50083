"""Interactive TUI latency: start-to-prompt and keystroke-to-echo, side by side with Codex.

    .venv/bin/python benchmarks/bench_tui.py [--runs 5] [--keys 60] [--cells 2000] [--codex PATH]

Each TUI runs in a real pseudo-terminal (tests/support/terminal.py: pty + pyte emulator)
against the mock model on loopback, with throwaway homes.

* start-to-prompt: from spawning `pycodex` (or `codex`) to its composer drawn on the
  screen, median over `--runs` fresh starts.
* keystroke-to-echo: one character written to the terminal until the emulated screen
  shows it in the composer line (the row of the cursor), over `--keys` keystrokes; in a
  fresh session (about 1 finished cell) and in a resumed session of about `--cells`
  finished cells (a generated thread of user / command / answer turns, resumed with
  `resume ID`). Targets: <= 16 ms for both (independent of the session's length) and
  start-to-prompt <= 400 ms.
* Ctrl-T (pycodex only): from the key to the transcript overlay showing the long
  session's last answer (the overlay renders only what is visible).

The reference Codex is found as the other benchmarks find it (benchmarks/codex_ref.py);
without it only pycodex's figures are printed. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from codex_ref import CODEX_DIST, find_codex  # noqa: E402  (benchmarks/codex_ref.py)
from gen_threads import write_thread  # noqa: E402  (benchmarks/gen_threads.py)
from tests.support.mock_model import MockModelServer  # noqa: E402  (needs the repo root)
from tests.support.terminal import PtyTerminal  # noqa: E402

COLS, ROWS = 120, 40
READY_TIMEOUT_S = 30.0
ECHO_TIMEOUT_S = 5.0
CLEAR_EVERY = 30  # keystrokes between (untimed) clears of the composer
CLEAR_COMPOSER = "\x1b[F\x15"  # End, then Ctrl-U (kill to the line start): both TUIs


@dataclass
class Tool:
    label: str
    binary: Path
    home_var: str
    is_ready: Callable[[PtyTerminal], bool]
    top_config: str = ""
    tables: str = ""


def cursor_row(term: PtyTerminal) -> str:
    return term.screen_lines()[term.screen.cursor.y]


def pycodex_ready(term: PtyTerminal) -> bool:
    """The composer is drawn: the cursor sits on a prompt row below the banner."""
    row = cursor_row(term)
    return row.lstrip().startswith(("›", ">", "❯")) and "pycodex" in term.all_text().lower()


def codex_ready(term: PtyTerminal) -> bool:
    text = term.screen_text()
    if "Use existing model" in text:  # a model-upgrade notice: keep the configured model
        term.send("\x1b[B\r")
        term.pump(0.5)  # (keys are ignored for a moment after the notice is drawn)
        return False
    busy = ("loading", "Resuming session")
    return cursor_row(term).startswith("›") and not any(word in text for word in busy)


# Codex's own start-up extras, off so its figures are not padded by them.
CODEX_TOP_CONFIG = "check_for_update_on_startup = false\n"
CODEX_TABLES = """
[tui]
animations = false
show_tooltips = false
screen_reader_detection_done = true

[tui.model_availability_nux]
"gpt-6.1-sol" = 99
"""


def config_toml(base_url: str, workspace: Path, tool: Tool) -> str:
    return f"""model = "gpt-5.5"
model_provider = "mock"
{tool.top_config}
[model_providers.mock]
name = "mock"
base_url = "{base_url}"
wire_api = "responses"
env_key = "MOCK_KEY"
request_max_retries = 0
stream_max_retries = 0

[projects."{workspace}"]
trust_level = "trusted"
{tool.tables}"""


class World:
    """Workspace, homes per tool (one with a long generated thread), environment."""

    def __init__(self, root: Path, mock: MockModelServer, tools: list[Tool], cells: int) -> None:
        self.root, self.mock = root, mock
        self.workspace = root / "workspace"
        self.workspace.mkdir()
        subprocess.run(["git", "init", "-q", str(self.workspace)], check=True)
        (root / "user-home").mkdir()
        (root / "tmp").mkdir()
        self.homes: dict[str, Path] = {}
        self.long_thread: dict[str, str] = {}
        for tool in tools:
            home = root / f"{tool.label}-home"
            home.mkdir()
            (home / "config.toml").write_text(
                config_toml(mock.url, self.workspace, tool), encoding="utf-8"
            )
            self.homes[tool.label] = home
            when = dt.datetime(2026, 1, 1, 9, 0, 0)
            # Each turn: the user's message, a command, an answer (Codex shows no command
            # cell for a resumed one: it sees 2 cells a turn, pycodex 3).
            turns = max(1, cells // 2)
            thread_id, _ = write_thread(home, random.Random(7), when, turns, 300, str(self.workspace))
            self.long_thread[tool.label] = thread_id
            self.last_answer = f"Done with task {turns - 1}."

    def env(self, tool: Tool) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TERM": "xterm-256color",
            "HOME": str(self.root / "user-home"),
            "TMPDIR": str(self.root / "tmp"),
            "MOCK_KEY": "x",
            "CODEX_HOME": str(self.root / "no-codex-home"),
            "PYCODEX_HOME": str(self.root / "no-pycodex-home"),
        }
        env[tool.home_var] = str(self.homes[tool.label])
        return env

    def start(self, tool: Tool, *args: str, shown: str = "") -> tuple[PtyTerminal, float]:
        """A started TUI waiting at its prompt (with `shown` somewhere in the terminal),
        and the seconds that took."""
        started = time.perf_counter()
        term = PtyTerminal([str(tool.binary), *args], cols=COLS, rows=ROWS, env=self.env(tool),
                           cwd=self.workspace)

        def ready() -> bool:
            return tool.is_ready(term) and shown in term.all_text()

        try:
            term.wait_until(ready, READY_TIMEOUT_S, f"{tool.label} prompt {shown}")
        except BaseException:
            term.close()
            raise
        return term, time.perf_counter() - started


def keystroke_latencies(term: PtyTerminal, keys: int, is_ready: Callable[[PtyTerminal], bool]) -> list[float]:
    """Seconds from writing each key to the screen showing it on the cursor's row. A
    dialog popping up meanwhile (Codex's model notice) is dismissed by `is_ready` and the
    keystroke measured again."""
    samples: list[float] = []
    typed = ""
    while len(samples) < keys:
        if len(typed) >= CLEAR_EVERY:
            term.send("\x7f" * len(typed))
            term.wait_until(_row_lacks(term, typed), ECHO_TIMEOUT_S, "cleared composer")
            typed = ""
        key = string.ascii_lowercase[len(samples) % 26]
        started = time.perf_counter()
        term.send(key)
        try:
            term.wait_until(_row_has(term, typed + key), ECHO_TIMEOUT_S, f"echo of {typed + key!r}")
        except AssertionError:
            if "Use existing model" not in term.screen_text():
                raise
            term.wait_until(lambda: is_ready(term), READY_TIMEOUT_S, "the prompt after a notice")
            term.send(CLEAR_COMPOSER)
            typed = ""
            continue
        samples.append(time.perf_counter() - started)
        typed += key
    return samples


def _row_has(term: PtyTerminal, text: str) -> Callable[[], bool]:
    return lambda: text in cursor_row(term)


def _row_lacks(term: PtyTerminal, text: str) -> Callable[[], bool]:
    return lambda: text not in cursor_row(term)


def kill_strays(root: Path) -> None:
    """Kill what a TUI left running from our temporary directory (Codex starts a detached
    app-server daemon from its home): matched by that directory, nothing else."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(root) in cmdline:
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGKILL)


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:7.1f} ms   p90 {p90(values) * 1000:7.1f} ms"


def bench_tool(world: World, tool: Tool, runs: int, keys: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"start": [], "echo_1": [], "echo_long": []}
    world.start(tool)[0].close()  # warm-up: page cache, first-run notices
    for _ in range(runs):
        term, elapsed = world.start(tool)
        term.close()
        figures["start"].append(elapsed)
    term, _ = world.start(tool)
    try:
        term.wait_quiet(0.5, timeout=30)
        figures["echo_1"] = keystroke_latencies(term, keys, tool.is_ready)
    finally:
        term.close()
    term, _ = world.start(tool, "resume", world.long_thread[tool.label], shown=world.last_answer)
    try:
        term.wait_quiet(0.5, timeout=30)
        figures["echo_long"] = keystroke_latencies(term, keys, tool.is_ready)
        if tool.label == "pycodex":  # Codex's Ctrl-T view is not detected here: pycodex only
            figures["overlay_long"] = overlay_openings(term, runs, world.last_answer)
    finally:
        term.close()
    return figures


def overlay_openings(term: PtyTerminal, runs: int, last_answer: str) -> list[float]:
    """Seconds from Ctrl-T to the transcript overlay showing the thread's last answer."""
    samples: list[float] = []
    for _ in range(runs):
        term.send(CLEAR_COMPOSER)
        term.wait_quiet(0.3)
        started = time.perf_counter()
        term.send("\x14")
        term.wait_until(lambda: term.screen.in_alternate_screen and last_answer in term.screen_text(),
                        ECHO_TIMEOUT_S, "the transcript overlay")
        samples.append(time.perf_counter() - started)
        term.send("q")
        term.wait_until(lambda: not term.screen.in_alternate_screen, ECHO_TIMEOUT_S, "the overlay to close")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed starts per tool")
    parser.add_argument("--keys", type=int, default=60, help="timed keystrokes per session")
    parser.add_argument("--cells", type=int, default=2000, help="finished cells of the long session")
    parser.add_argument("--codex", help="reference Codex binary (default: $CODEX_BIN, PATH)")
    parser.add_argument("--only", choices=["pycodex", "codex"], help="measure one of the two")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args()

    pycodex = Path(sys.executable).parent / "pycodex"
    if not pycodex.is_file():
        raise SystemExit(f"pycodex is not installed in {pycodex.parent}")
    tools = [Tool("pycodex", pycodex, "PYCODEX_HOME", pycodex_ready)] if args.only != "codex" else []
    codex = find_codex(args.codex) if args.only != "pycodex" else None
    if codex is not None:
        tools.append(Tool("codex", codex, "CODEX_HOME", codex_ready, CODEX_TOP_CONFIG, CODEX_TABLES))

    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp, MockModelServer() as mock:
        world = World(Path(tmp), mock, tools, args.cells)
        try:
            results = {tool.label: bench_tool(world, tool, args.runs, args.keys) for tool in tools}
        finally:
            kill_strays(Path(tmp))

    if args.json:
        print(json.dumps({label: {k: statistics.median(v) * 1000 for k, v in figs.items()}
                          for label, figs in results.items()}))
        return
    print(f"TUI in a {COLS}x{ROWS} pty, mock model; {args.runs} starts, {args.keys} keystrokes per session")
    rows = [("start-to-prompt", "start"), ("echo, 1 cell", "echo_1"),
            (f"echo, ~{args.cells} cells", "echo_long"), (f"Ctrl-T, ~{args.cells} cells", "overlay_long")]
    for title, key in rows:
        for tool in tools:
            if key in results[tool.label]:
                print(f"{title:<20} {tool.label:<8} {ms(results[tool.label][key])}")
    if codex is None and args.only is None:
        print(f"reference Codex: not installed (`pip install {CODEX_DIST}` to compare side by side)")


if __name__ == "__main__":
    main()
