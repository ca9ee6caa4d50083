"""The `notify` program of config.toml: run once per completed turn (CFG-21).

`notify = ["python3", "/path/notify.py"]` runs `argv + [payload]` after each turn that
finished normally (not aborted, not failed), with one JSON argument in Codex's shape:

    {"type": "agent-turn-complete", "thread-id": "...", "turn-id": "...", "cwd": "...",
     "input-messages": ["..."], "last-assistant-message": "..." | null}

The program runs detached (own session, no stdin/stdout/stderr) and is not waited for: a
slow notifier never delays the agent. Finished notifiers are reaped on the next call and
at close; one still running when pycodex exits is left to finish on its own (init reaps it).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence


def agent_turn_complete_payload(
    *,
    thread_id: str,
    turn_id: str,
    cwd: str,
    input_messages: Sequence[str],
    last_assistant_message: str | None,
) -> str:
    return json.dumps(
        {
            "type": "agent-turn-complete",
            "thread-id": thread_id,
            "turn-id": turn_id,
            "cwd": cwd,
            "input-messages": list(input_messages),
            "last-assistant-message": last_assistant_message,
        },
        ensure_ascii=False,
    )


class TurnNotifier:
    """Runs the user's notify program; a failure to start it is returned, never raised."""

    def __init__(self, argv: Sequence[str] | None, env: Mapping[str, str]) -> None:
        self._argv = list(argv or ())
        self._env = dict(env)
        self._running: list[subprocess.Popen[bytes]] = []

    @property
    def enabled(self) -> bool:
        return bool(self._argv)

    def notify(self, payload: str) -> str | None:
        """Start the program with `payload`; a warning for the user when it cannot start."""
        if not self._argv:
            return None
        self._reap()
        try:
            proc = subprocess.Popen(
                [*self._argv, payload],
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            return f"notify program `{self._argv[0]}` could not be started: {exc.strerror or exc}"
        self._running.append(proc)
        return None

    def close(self) -> None:
        self._reap()

    def _reap(self) -> None:
        self._running = [proc for proc in self._running if proc.poll() is None]
