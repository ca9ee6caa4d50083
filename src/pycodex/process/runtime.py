"""`ShellRuntime`: a thread's shell services — the processes it started, the user's shell,
and the login-environment snapshots commands share.

Each thread has its own, so several threads in one process never share a process table:
`processes` (a `ProcessManager`) holds the thread's `exec_command` sessions and, in
`processes.groups`, the process group of every command the thread started (sessions and
one-shot `shell` commands), by turn. Interrupting a turn
(`processes.terminate_started_in(turn_id)`) or closing the thread (`close()`) kills those
and nothing of another thread's."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pycodex.process.env import EnvPolicy, build_command_env
from pycodex.process.sessions import ProcessManager
from pycodex.process.shell import SNAPSHOT_DIR, ShellSnapshot, UserShell, discover_user_shell


class ShellRuntime:
    def __init__(
        self,
        *,
        thread_id: str,
        env_policy: EnvPolicy,
        base_env: Mapping[str, str],
        home: Path | None,
        snapshots: bool = True,
    ) -> None:
        self.thread_id = thread_id
        self.env_policy = env_policy
        self.processes = ProcessManager()
        self.user_shell: UserShell = discover_user_shell(base_env)
        self.snapshot_dir = home / SNAPSHOT_DIR if home is not None and snapshots else None
        self._snapshots: dict[str, ShellSnapshot] = {}

    async def command_argv(
        self, shell: UserShell, script: str, *, login: bool, env: Mapping[str, str], cwd: Path
    ) -> tuple[list[str], Mapping[str, str]]:
        """The argv and env that run `script`: a login shell becomes a plain one with the
        snapshot of the login environment when one can be taken (falls back to `-lc`)."""
        if login and self.snapshot_dir is not None:
            snapshot = self._snapshots.get(shell.path)
            if snapshot is None:
                snapshot = ShellSnapshot(shell, self.snapshot_dir, self.thread_id)
                self._snapshots[shell.path] = snapshot
            login_env = await snapshot.env(env, cwd)
            if login_env is not None:
                # The shell_environment_policy still decides what a command sees: a
                # profile's exported secrets are filtered like the process's own.
                merged = build_command_env(self.env_policy, login_env)
                return shell.argv(script, login=False), merged
        return shell.argv(script, login=login), env

    async def close(self) -> None:
        """Kill every process the thread started and drop the snapshots (thread shutdown)."""
        await self.processes.terminate_all()
        for snapshot in self._snapshots.values():
            snapshot.remove()
        self._snapshots.clear()
