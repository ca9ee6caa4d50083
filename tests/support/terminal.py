"""Run programs in real terminals and read their screens: a pty + pyte emulator, and tmux.

`PtyTerminal` starts a command on the slave side of a fresh pseudo-terminal of a given size
(its own session, the pty as its controlling terminal, so a resize delivers SIGWINCH and
Ctrl-C in cooked mode is SIGINT, exactly as in a terminal window). Everything the program
writes is fed into a `pyte.HistoryScreen`, so a test reads what a user would see — the
visible screen and the lines that scrolled off the top (`scrollback_lines`). The emulator
answers cursor-position and device-attribute queries (prompt_toolkit asks for the cursor
position at start-up), like a real terminal does.

There is no reader thread: output is consumed when a test waits (`wait_for`, `wait_until`,
`pump`), which keeps every wait a poll with a deadline and makes latency measurements
(benchmarks/bench_tui.py) precise.

`TmuxTerminal` runs a command inside a private tmux server (its own socket in a temporary
directory, no user config) and reads the pane with `capture-pane`, including tmux's own
history. `close()` kills the server.

Both kill the whole process group on `close()` (and in `__exit__`): nothing outlives a test.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import pyte

DEFAULT_TIMEOUT_S = 10.0
HISTORY_LINES = 5000

# Keys as the bytes a terminal sends for them (xterm, normal cursor mode).
KEYS: dict[str, str] = {
    "enter": "\r",
    "tab": "\t",
    "backspace": "\x7f",
    "esc": "\x1b",
    "up": "\x1b[A",
    "down": "\x1b[B",
    "right": "\x1b[C",
    "left": "\x1b[D",
    "home": "\x1b[H",
    "end": "\x1b[F",
    "pageup": "\x1b[5~",
    "pagedown": "\x1b[6~",
    "delete": "\x1b[3~",
    "alt-enter": "\x1b\r",
}


def ctrl(letter: str) -> str:
    """The byte Ctrl-<letter> sends (ctrl("c") == "\\x03")."""
    return chr(ord(letter.lower()) - ord("a") + 1)


# Private modes that switch to the alternate screen (xterm): 1049 also saves the cursor.
ALTERNATE_SCREEN_MODES = frozenset({47, 1047, 1049})


class _AnsweringScreen(pyte.HistoryScreen):
    """A HistoryScreen that writes its answers to terminal queries back to the program and
    has xterm's alternate screen (pyte has none): full-screen programs draw there, and what
    they draw neither replaces the main screen nor enters the scrollback."""

    def __init__(self, columns: int, lines: int, reply: Callable[[str], None]) -> None:
        super().__init__(columns, lines, history=HISTORY_LINES, ratio=0.5)
        self._reply = reply
        self._main: tuple[Any, Any] | None = None  # (buffer, cursor) while in the alternate
        self.alternate_screen_entered = 0  # how many times a program switched to it

    @property
    def in_alternate_screen(self) -> bool:
        return self._main is not None

    def write_process_input(self, data: str) -> None:
        self._reply(data)

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and ALTERNATE_SCREEN_MODES.intersection(modes):
            if self._main is None:
                self._main = (copy.deepcopy(self.buffer), copy.copy(self.cursor))
                self.alternate_screen_entered += 1
                self.erase_in_display(2)
            modes = tuple(m for m in modes if m not in ALTERNATE_SCREEN_MODES)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and ALTERNATE_SCREEN_MODES.intersection(modes):
            if self._main is not None:
                self.buffer, self.cursor = self._main
                self._main = None
                self.dirty.update(range(self.lines))
            modes = tuple(m for m in modes if m not in ALTERNATE_SCREEN_MODES)
        super().reset_mode(*modes, **kwargs)

    def index(self) -> None:
        if self._main is not None:  # the alternate screen has no scrollback
            pyte.Screen.index(self)
        else:
            super().index()


def _line_text(line: Mapping[int, Any], columns: int) -> str:
    return "".join(line[x].data for x in range(columns)).rstrip()


class PtyTerminal:
    """A command running in a pseudo-terminal whose output drives a pyte screen."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cols: int = 80,
        rows: int = 24,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.cols, self.rows = cols, rows
        self._master, slave = os.openpty()
        self._set_size(slave, cols, rows)
        self.screen = _AnsweringScreen(cols, rows, self._answer)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()  # every byte the program wrote, for failure messages and tests
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                start_new_session=True,
                # After setsid: make the pty our controlling terminal (SIGWINCH, Ctrl-C).
                preexec_fn=_take_controlling_tty,
                close_fds=True,
            )
        except BaseException:
            os.close(self._master)
            raise
        finally:
            os.close(slave)
        self._closed = False

    # --- output ------------------------------------------------------------------------

    def _answer(self, data: str) -> None:
        with contextlib.suppress(OSError):
            os.write(self._master, data.encode())

    def pump(self, timeout: float = 0.0) -> bool:
        """Feed output into the screen: waits up to `timeout` for the first bytes, then
        takes whatever else is ready and returns (it does not wait out `timeout` once
        something arrived: use wait_until / wait_quiet to wait for a state). Returns False
        once the program closed the terminal."""
        deadline = time.monotonic() + timeout
        got_any = False
        while True:
            wait = 0.0 if got_any else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._master], [], [], wait)
            if not ready:
                return True
            try:
                chunk = os.read(self._master, 65536)
            except OSError as exc:  # EIO: every slave descriptor is closed
                if exc.errno == errno.EIO:
                    return False
                raise
            if not chunk:
                return False
            self.raw.extend(chunk)
            self.stream.feed(chunk)
            got_any = True

    def wait_until(
        self, condition: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT_S, what: str = ""
    ) -> None:
        """Pump output until `condition()` holds; AssertionError with the screen otherwise."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what or condition!r}\n"
                    f"--- screen ({self.cols}x{self.rows}) ---\n{self.screen_text()}\n"
                    f"--- exit status: {self.proc.poll()} ---"
                )
            if not self.pump(min(remaining, 0.05)) and not condition():
                raise AssertionError(
                    f"the program closed the terminal (exit {self.proc.wait(5)}) while waiting"
                    f" for {what or condition!r}\n--- screen ---\n{self.screen_text()}"
                )

    def wait_for(self, text: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Wait until `text` is visible on the screen (not counting scrollback)."""
        self.wait_until(lambda: text in self.screen_text(), timeout, repr(text))

    def wait_for_anywhere(self, text: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Wait until `text` is on the screen or in the scrollback."""
        self.wait_until(lambda: text in self.all_text(), timeout, repr(text))

    def wait_quiet(self, quiet: float = 0.3, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Wait until the program has written nothing for `quiet` seconds (a redraw or a
        history replay has finished); AssertionError if it never goes quiet in `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = len(self.raw)
            quiet_until = time.monotonic() + quiet
            while time.monotonic() < quiet_until and self.pump(quiet_until - time.monotonic()):
                if len(self.raw) != before:
                    break
            if len(self.raw) == before:
                return
        raise AssertionError(f"{self.argv[0]} kept writing for {timeout}s\n{self.screen_text()}")

    def wait_exit(self, timeout: float = DEFAULT_TIMEOUT_S) -> int:
        """Wait for the program to exit (draining its output); its exit status."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.argv[0]} did not exit within {timeout}s\n{self.screen_text()}"
                )
            self.pump(0.05)
        self.pump(0.0)
        return self.proc.returncode

    # --- screen ------------------------------------------------------------------------

    def screen_lines(self) -> list[str]:
        """The visible rows, trailing blanks stripped per row."""
        return [line.rstrip() for line in self.screen.display]

    def screen_text(self) -> str:
        return "\n".join(self.screen_lines())

    def scrollback_lines(self) -> list[str]:
        """Lines that scrolled off the top of the screen, oldest first."""
        return [_line_text(line, self.screen.columns) for line in self.screen.history.top]

    def all_text(self) -> str:
        """Scrollback followed by the visible screen: the whole terminal as a user could
        scroll through it."""
        return "\n".join([*self.scrollback_lines(), *self.screen_lines()])

    @property
    def cursor(self) -> tuple[int, int]:
        """(column, row) of the cursor, zero-based."""
        return self.screen.cursor.x, self.screen.cursor.y

    # --- input -------------------------------------------------------------------------

    def send(self, keys: str | bytes) -> None:
        """Type `keys` (text, or escape sequences: see KEYS and ctrl())."""
        data = keys.encode() if isinstance(keys, str) else keys
        while data:
            written = os.write(self._master, data)
            data = data[written:]

    def resize(self, cols: int, rows: int) -> None:
        """Resize the terminal: the kernel sends SIGWINCH to the program's process group."""
        self.pump(0.0)  # output written for the old size is decoded at the old size
        self.cols, self.rows = cols, rows
        self.screen.resize(rows, cols)
        self._set_size(self._master, cols, rows)

    @staticmethod
    def _set_size(fd: int, cols: int, rows: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    # --- teardown ----------------------------------------------------------------------

    def close(self) -> None:
        """Kill the program, its process group and every descendant (SIGKILL; children a
        shell put in groups of their own too), then release the terminal."""
        if self._closed:
            return
        self._closed = True
        kill_tree(self.proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        os.close(self._master)

    def __enter__(self) -> PtyTerminal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _take_controlling_tty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _proc_table() -> dict[int, tuple[str, int, int]]:
    """pid -> (state, ppid, pgrp) of every process, from /proc."""
    table: dict[int, tuple[str, int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(entry.name)] = (fields[0], int(fields[1]), int(fields[2]))
    return table


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` in the process tree (not `pid` itself)."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for child, (_state, ppid, _pgrp) in table.items():
        children.setdefault(ppid, []).append(child)
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def kill_tree(pid: int, timeout: float = 5.0) -> None:
    """SIGKILL `pid`'s process group and all of `pid`'s descendants (twice over, so a
    process forked while the first round ran is caught by the second), then wait until
    none of them runs any more."""
    doomed: set[int] = set()
    for _ in range(2):
        victims = descendants(pid)
        doomed |= victims
        _kill_group(pid)
        for victim in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in doomed) and time.monotonic() < deadline:
        time.sleep(0.005)  # SIGKILL is delivered asynchronously: poll for its effect


def alive(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie (a zombie has finished running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def group_alive(pgid: int) -> bool:
    """Whether any process of process group `pgid` is still running (zombies count as gone)."""
    return any(pgrp == pgid and state != "Z" for state, _, pgrp in _proc_table().values())


# --- tmux ---------------------------------------------------------------------------------

TMUX_CONFIG = (
    "set-option -g history-limit {history}\n"
    "set-option -g status off\n"
    "set-option -g escape-time 0\n"
    'set-option -g default-terminal "tmux-256color"\n'
)


class TmuxTerminal:
    """A command in a pane of a private tmux server, read with capture-pane."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cols: int = 80,
        rows: int = 24,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        history: int = HISTORY_LINES,
    ) -> None:
        binary = shutil.which("tmux")
        if binary is None:
            raise FileNotFoundError("tmux is not installed")
        # A short private directory: unix socket paths are limited to ~108 bytes.
        self._dir = Path(tempfile.mkdtemp(prefix="pyctmux-"))
        config = self._dir / "tmux.conf"
        config.write_text(TMUX_CONFIG.format(history=history), encoding="utf-8")
        self._base = [binary, "-S", str(self._dir / "sock"), "-f", str(config)]
        self.target = "t:0.0"
        # `env -i` gives the command exactly `env` whatever the server's environment is.
        command = ["env", "-i", *(f"{k}={v}" for k, v in (env or os.environ).items()), *argv]
        self._server_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        if "TERM" in os.environ:
            self._server_env["TERM"] = os.environ["TERM"]
        self.tmux(
            "new-session", "-d", "-s", "t", "-x", str(cols), "-y", str(rows),
            "-c", str(cwd or os.getcwd()), "--", *command,
        )
        # Keep the pane after the program exits, so a test can still read its last screen.
        self.tmux("set-option", "-t", "t", "remain-on-exit", "on")

    def tmux(self, *args: str, timeout: float = 10.0) -> str:
        result = subprocess.run(
            [*self._base, *args], capture_output=True, text=True, timeout=timeout,
            env=self._server_env, check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def send_keys(self, *keys: str, literal: bool = False) -> None:
        """tmux send-keys: key names ("Enter", "C-c", "Escape") or, with literal, text."""
        self.tmux("send-keys", "-t", self.target, *(["-l"] if literal else []), *keys)

    def type_text(self, text: str) -> None:
        self.send_keys(text, literal=True)

    def capture(self, history: bool = False) -> str:
        """The pane's text; with `history`, everything tmux kept above it too."""
        start = ["-S", "-"] if history else []
        return self.tmux("capture-pane", "-p", "-J", "-t", self.target, *start)

    def history_size(self) -> int:
        return int(self.tmux("display-message", "-p", "-t", self.target, "#{history_size}"))

    def pane_pid(self) -> int:
        return int(self.tmux("display-message", "-p", "-t", self.target, "#{pane_pid}"))

    def wait_until(
        self, condition: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT_S, what: str = ""
    ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what or condition!r}\n"
                    f"--- pane ---\n{self.capture()}"
                )
            time.sleep(0.02)  # polling interval of an external process, not synchronisation

    def wait_for(self, text: str, timeout: float = DEFAULT_TIMEOUT_S, history: bool = False) -> None:
        self.wait_until(lambda: text in self.capture(history), timeout, repr(text))

    def resize(self, cols: int, rows: int) -> None:
        self.tmux("resize-window", "-t", "t", "-x", str(cols), "-y", str(rows))

    def close(self) -> None:
        """Kill the pane's process group and the tmux server; remove the socket directory."""
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired, ValueError):
            kill_tree(self.pane_pid())
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            self.tmux("kill-server")
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> TmuxTerminal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
