"""The terminal harnesses of tests/support/terminal.py, checked against real programs.

The TUI screen tests trust these harnesses to show what a user would see, so they are
tested themselves: a real bash in a real pty (echo, cursor-position replies, scrollback),
a resize reaching the program as SIGWINCH with the new size, Ctrl-C as SIGINT, and
close() leaving nothing running — not even a background job in a process group of its own.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.terminal import PtyTerminal, TmuxTerminal, alive, ctrl, group_alive

BASH_ENV = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "PS1": "ready> ", "LANG": "C.UTF-8"}


def bash(cols: int = 80, rows: int = 24) -> PtyTerminal:
    return PtyTerminal(["bash", "--norc", "--noprofile", "-i"], cols=cols, rows=rows, env=BASH_ENV)


def test_bash_echo_shows_on_screen_and_long_output_scrolls_into_history() -> None:
    with bash() as term:
        term.wait_for("ready>")
        term.send("echo hello-$((6*7))\r")
        term.wait_for("hello-42")
        term.send("for i in $(seq 1 60); do echo line-$i; done\r")
        term.wait_for("line-60")
        # 60 lines on a 24-row screen: the first ones scrolled off, into the history.
        assert "line-1" in term.scrollback_lines()
        assert "line-1" not in term.screen_lines()
        assert term.all_text().index("line-1\n") < term.all_text().index("line-60")


def test_screen_answers_cursor_position_requests() -> None:
    # The program asks where the cursor is (as prompt_toolkit does) and reads the reply.
    script = textwrap.dedent(
        """
        import os, sys, termios, tty
        tty.setraw(0)
        os.write(1, b"abc\\x1b[6n")
        reply = b""
        while not reply.endswith(b"R"):
            reply += os.read(0, 1)
        os.write(1, b"\\r\\nreply=" + reply[1:] + b"\\r\\n")
        """
    )
    with PtyTerminal([sys.executable, "-c", script], env=BASH_ENV) as term:
        term.wait_for("reply=[1;4R")  # row 1, column 4: after "abc"
        assert term.wait_exit() == 0


def test_resize_reaches_the_program_as_sigwinch_and_resizes_the_screen() -> None:
    # The handler uses os.write, not print: a signal may arrive while a report is writing.
    script = textwrap.dedent(
        """
        import os, signal, sys
        def report(*_):
            size = os.get_terminal_size(0)
            os.write(1, f"size={size.columns}x{size.lines}\\r\\n".encode())
        signal.signal(signal.SIGWINCH, report)
        report()
        while True:
            signal.pause()
        """
    )
    with PtyTerminal([sys.executable, "-c", script], cols=80, rows=24, env=BASH_ENV) as term:
        term.wait_for("size=80x24")
        term.resize(120, 40)
        term.wait_for("size=120x40")
        assert len(term.screen_lines()) == 40
        assert term.screen.columns == 120
        term.resize(60, 10)
        term.wait_for("size=60x10")


def test_ctrl_c_interrupts_the_foreground_program() -> None:
    with bash() as term:
        term.wait_for("ready>")
        term.send("sleep 300; echo after=$?\r")
        term.wait_until(lambda: any(p for p in _children_named(term, "sleep")), what="sleep")
        term.send(ctrl("c"))
        term.send("echo done-$((1+1))\r")
        term.wait_for("done-2")
        # SIGINT ended the whole `;` list: its echo never ran (else "after=130" would show).
        assert "after=1" not in term.all_text()
        assert not _children_named(term, "sleep")


def test_close_kills_the_program_and_its_background_jobs() -> None:
    term = bash()
    term.wait_for("ready>")
    # An interactive shell puts a background job into a process group of its own: killing
    # the shell's group alone would leave it running.
    term.send("sleep 300 & echo job=$!\r")
    term.wait_until(lambda: _job_pid(term.screen_text()) is not None, what="job=PID")
    job = _job_pid(term.screen_text())
    assert job is not None
    shell = term.proc.pid
    assert alive(job)
    term.close()
    assert term.proc.returncode is not None
    assert not alive(job), "the background job outlived close()"
    assert not group_alive(shell)


def test_exit_status_and_output_after_the_program_ends() -> None:
    with PtyTerminal([sys.executable, "-c", "print('bye'); raise SystemExit(3)"]) as term:
        assert term.wait_exit() == 3
        assert "bye" in term.screen_text()


def test_wait_for_times_out_with_the_screen_in_the_message() -> None:
    with bash() as term:
        term.wait_for("ready>")
        with pytest.raises(AssertionError, match=r"(?s)timed out.*'never-printed'.*ready>"):
            term.wait_for("never-printed", timeout=0.3)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")
def test_tmux_send_keys_capture_and_history(tmp_path: Path) -> None:
    with TmuxTerminal(
        ["bash", "--norc", "--noprofile", "-i"], cols=80, rows=20, env=BASH_ENV, cwd=tmp_path,
        history=1000,
    ) as tmux:
        tmux.wait_for("ready>")
        tmux.type_text("for i in $(seq 1 300); do echo row-$i; done")
        tmux.send_keys("Enter")
        tmux.wait_for("row-300")
        assert "row-1\n" not in tmux.capture()
        assert "row-1\n" in tmux.capture(history=True)
        assert tmux.history_size() > 250
        tmux.resize(60, 12)
        tmux.type_text("clear; stty size")
        tmux.send_keys("Enter")
        tmux.wait_for("12 60")
        shell = tmux.pane_pid()
        tmux.type_text("sleep 300 & echo job=$!")
        tmux.send_keys("Enter")
        tmux.wait_until(lambda: _job_pid(tmux.capture()) is not None, what="job=PID")
        job = _job_pid(tmux.capture())
        assert job is not None
    assert not alive(job)
    assert not alive(shell)


def _job_pid(text: str) -> int | None:
    """The PID `echo job=$!` printed (the echoed command line itself shows `job=$!`)."""
    found = re.search(r"job=(\d+)", text)
    return int(found.group(1)) if found else None


def _children_named(term: PtyTerminal, name: str) -> list[int]:
    from tests.support.terminal import descendants

    found = []
    for pid in descendants(term.proc.pid):
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if comm == name:
            found.append(pid)
    return found


def test_alternate_screen_leaves_the_main_screen_and_its_history_untouched() -> None:
    script = textwrap.dedent(
        """
        import sys
        for i in range(40):
            print(f"main-{i}")
        sys.stdout.write("\\x1b[?1049h")
        for i in range(40):
            print(f"alt-{i}")
        sys.stdout.flush()
        input()
        sys.stdout.write("\\x1b[?1049l")
        print("back")
        """
    )
    with PtyTerminal([sys.executable, "-c", script], cols=40, rows=10, env=BASH_ENV) as term:
        term.wait_for("alt-39")
        assert term.screen.in_alternate_screen
        assert "main-39" not in term.screen_text()
        term.send("\r")
        term.wait_for("back")
        assert not term.screen.in_alternate_screen
        assert term.screen.alternate_screen_entered == 1
        assert "main-39" in term.screen_text()
        assert "alt-" not in term.all_text()
        assert "main-0" in term.scrollback_lines()


def test_wait_quiet_returns_after_output_stops_and_fails_on_endless_output() -> None:
    script = "import time\nfor i in range(5):\n    print(f'tick-{i}', flush=True)\n    time.sleep(0.05)\ninput()\n"
    with PtyTerminal([sys.executable, "-c", script], env=BASH_ENV) as term:
        term.wait_for("tick-0")
        term.wait_quiet(quiet=0.3)
        assert "tick-4" in term.screen_text()  # everything before the pause was read
    endless = "import time\nwhile True:\n    print('x', flush=True)\n    time.sleep(0.01)\n"
    with PtyTerminal([sys.executable, "-c", endless], env=BASH_ENV) as term, \
            pytest.raises(AssertionError, match="kept writing"):
        term.wait_quiet(quiet=0.3, timeout=1.0)
