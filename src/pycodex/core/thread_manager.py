"""`ThreadManager` creates and tracks threads; `CodexThread` is what a front end holds."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx2

from pycodex import __version__
from pycodex.auth.resolve import resolve_api_key
from pycodex.auth.store import AUTH_FILE, read_auth
from pycodex.client.client import ModelClient
from pycodex.config.config import Config
from pycodex.config.home import read_home_for
from pycodex.context.instructions import load_base_instructions, load_user_instructions
from pycodex.ids import uuid7
from pycodex.protocol.events import Event, SessionConfiguredEvent
from pycodex.protocol.ops import Op
from pycodex.protocol.policies import AskForApproval, SandboxPolicy
from pycodex.rollout.git_info import collect_git_info
from pycodex.rollout.recorder import RolloutLine, RolloutRecorder, rollout_path_for, utc_timestamp

from .codex import Codex
from .model_info import effective_context_window
from .session import Session, SessionServices
from .turn_context import SessionSettings


@dataclass(frozen=True)
class ThreadOptions:
    """Who is running threads: shows in headers (`originator`) and rollouts (`source`)."""

    originator: str = "pycodex_exec"
    source: str = "exec"
    env: Mapping[str, str] | None = None
    # Test seam for the model client's HTTP; None = real network.
    transport: httpx2.AsyncBaseTransport | None = None


class CodexThread:
    def __init__(self, codex: Codex, rollout_path: Path | None) -> None:
        self._codex = codex
        self.rollout_path = rollout_path

    @property
    def thread_id(self) -> str:
        return self._codex.thread_id

    async def submit(self, op: Op) -> str:
        return await self._codex.submit(op)

    async def next_event(self) -> Event:
        return await self._codex.next_event()

    async def shutdown(self) -> None:
        await self._codex.shutdown()


def sandbox_policy_for(config: Config) -> SandboxPolicy:
    ww = config.sandbox_workspace_write
    return SandboxPolicy.from_mode(
        config.sandbox_mode,
        writable_roots=[str(p) for p in config.writable_roots],
        network_access=ww.network_access,
        exclude_tmpdir_env_var=ww.exclude_tmpdir_env_var,
        exclude_slash_tmp=ww.exclude_slash_tmp,
    )


class ThreadManager:
    def __init__(self, options: ThreadOptions | None = None) -> None:
        self.options = options or ThreadOptions()
        self._threads: dict[str, CodexThread] = {}

    def get_thread(self, thread_id: str) -> CodexThread | None:
        return self._threads.get(thread_id)

    def remove_thread(self, thread_id: str) -> CodexThread | None:
        return self._threads.pop(thread_id, None)

    async def start_thread(self, config: Config) -> CodexThread:
        """A new thread; its `SessionConfigured` event is the first one queued."""
        opts = self.options
        env = opts.env if opts.env is not None else os.environ
        thread_id = uuid7()
        base_instructions = config.base_instructions or load_base_instructions(
            config.model_instructions_file
        )
        user_instructions = load_user_instructions(
            home=config.pycodex_home, cwd=config.cwd, max_bytes=config.project_doc_max_bytes
        )
        if config.instructions:
            user_instructions = "\n\n".join(filter(None, [config.instructions, user_instructions]))
        provider = config.model_provider
        auth_path = read_home_for(AUTH_FILE, env) / AUTH_FILE

        def api_key() -> str | None:
            return resolve_api_key(provider, env=env, stored=read_auth(auth_path))

        client = ModelClient(
            provider,
            model=config.model,
            thread_id=thread_id,
            api_key_resolver=api_key,
            originator=opts.originator,
            reasoning_effort=config.model_reasoning_effort,
            reasoning_summary=config.model_reasoning_summary,
            verbosity=config.model_verbosity,
            transport=opts.transport,
            env=env,
        )
        recorder: RolloutRecorder | None = None
        if not config.ephemeral:
            path = rollout_path_for(config.pycodex_home, thread_id, dt.datetime.now())
            recorder = RolloutRecorder(path)
            git = await collect_git_info(config.cwd)
            recorder.record([
                RolloutLine("session_meta", {
                    "id": thread_id,
                    "timestamp": utc_timestamp(),
                    "cwd": str(config.cwd),
                    "originator": opts.originator,
                    "cli_version": __version__,
                    "source": opts.source,
                    "model_provider": config.model_provider_id,
                    "base_instructions": {"text": base_instructions},
                    "git": git,
                })
            ])
        settings = SessionSettings(
            cwd=config.cwd,
            model=config.model,
            approval_policy=AskForApproval(config.approval_policy),
            sandbox_policy=sandbox_policy_for(config),
            reasoning_effort=config.model_reasoning_effort,
            reasoning_summary=config.model_reasoning_summary,
            verbosity=config.model_verbosity,
        )
        session = Session(
            thread_id=thread_id,
            settings=settings,
            services=SessionServices(
                client=client,
                recorder=recorder,
                env_policy=config.shell_environment_policy,
                base_env=env,
                show_raw_agent_reasoning=config.show_raw_agent_reasoning,
            ),
            base_instructions=base_instructions,
            user_instructions=user_instructions,
            developer_instructions=config.developer_instructions,
            writable_roots=config.writable_roots,
            context_window=effective_context_window(config.model, config.model_context_window),
        )
        session.emit(
            "",
            SessionConfiguredEvent(
                session_id=thread_id,
                model=config.model,
                model_provider_id=config.model_provider_id,
                approval_policy=settings.approval_policy,
                sandbox_policy=settings.sandbox_policy,
                cwd=str(config.cwd),
                reasoning_effort=None,
                history_log_id=0,
                history_entry_count=0,
                rollout_path=str(recorder.path) if recorder is not None else None,
            ),
        )
        session.record_items(session.initial_context())
        if recorder is not None:
            recorder.flush()
        thread = CodexThread(Codex(session), recorder.path if recorder is not None else None)
        self._threads[thread_id] = thread
        return thread
