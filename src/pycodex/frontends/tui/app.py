"""The interactive TUI: a client of the app-server protocol with the terminal as its screen.

Finished cells are printed once into the terminal's own scrollback (scroll, search and
select with the terminal itself); only the small live region at the bottom is redrawn by
prompt_toolkit: the answer or command output still streaming, an approval question, the
status line and the composer. `TuiApp` owns the session's state and implements the
`TuiContext` the slash commands use (slash.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pycodex import __version__
from pycodex.frontends.tui.approvals import ApprovalPrompt, approval_prompt
from pycodex.frontends.tui.cells import DiffCell, NoticeCell
from pycodex.frontends.tui.client import (
    AppServerClient,
    InProcessTransport,
    Transport,
    WebSocketTransport,
)
from pycodex.frontends.tui.session import SessionState, ThreadSettings, item_cell
from pycodex.frontends.tui.theme import Theme, theme_from_env

T = TypeVar("T")
Json = dict[str, Any]
_SANDBOX_POLICIES = {"read-only": "readOnly", "workspace-write": "workspaceWrite",
                     "danger-full-access": "dangerFullAccess"}


@dataclass(frozen=True)
class TuiOptions:
    prompt: str | None = None
    resume: str | None = None  # a thread id, or "--last"
    fork: str | None = None
    remote: str | None = None
    remote_token: str | None = None
    config_overrides: tuple[str, ...] = ()
    thread_params: tuple[tuple[str, Any], ...] = ()  # model, approvalPolicy, sandbox, cwd…


class TuiApp:
    def __init__(self, env: Mapping[str, str], options: TuiOptions) -> None:
        self.env = env
        self.options = options
        self.theme: Theme = theme_from_env(env)
        self.state = SessionState()
        self.cwd = os.getcwd()
        self.client: Any = None
        self.approval: ApprovalPrompt | None = None
        self.queued: list[str] = []
        self.account: str | None = None
        self._provider_needs_login = False
        self._ui: Any = None  # live.LiveUi
        self._turn_done: asyncio.Event = asyncio.Event()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._ready: asyncio.Future[None] | None = None  # set by run()
        self._fatal: Exception | None = None

    @property
    def thread_id(self) -> str | None:
        return self.state.thread_id

    @thread_id.setter
    def thread_id(self, value: str | None) -> None:
        self.state.thread_id = value

    def spawn(self, work: Any) -> None:
        """Run `work` in the background, kept alive until done."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- start and stop ---------------------------------------------------------------------

    async def run(self) -> int:
        """The prompt first, then (in the background) the app-server, the account and the
        first thread: start-up is what the user waits for, and the engine's import is the
        bulk of it. What is typed meanwhile waits for the connection (`ready`)."""
        from pycodex.frontends.tui.live import LiveUi

        self._print_banner()
        self._ui = LiveUi(self)
        self._ready = asyncio.ensure_future(self._connect())
        ready = self._ready
        try:
            await self._ui.run()
        finally:
            if not ready.done():
                ready.cancel()
            with contextlib.suppress(BaseException):
                await ready
            if self.client is not None:
                await self.client.close()
        if self._fatal is not None:
            raise self._fatal
        return 0

    async def _connect(self) -> None:
        try:
            transport: Transport
            if self.options.remote is not None:
                transport = await WebSocketTransport.connect(self.options.remote, self.options.remote_token)
            else:
                transport = InProcessTransport(self.env, self.options.config_overrides)
            self.client = AppServerClient(transport, self._on_notification, self._on_request)
            await self.client.initialize(__version__)
            await self._read_account()
            await self._open_first_thread()
        except Exception as exc:  # nothing works without the server: end, saying why
            self._fatal = exc
            if self._ui is not None:
                self._ui.exit()
            return
        if self.options.prompt:
            self.spawn(self.submit(self.options.prompt))

    async def ready(self) -> None:
        """Wait for the connection and the first thread (raises when they failed)."""
        assert self._ready is not None, "ready() before run()"
        await asyncio.shield(self._ready)
        if self._fatal is not None:
            raise self._fatal

    async def _read_account(self) -> None:
        try:
            answer = await self.client.request("account/read", {})
        except Exception:  # an older server: the account stays unknown
            return
        self._provider_needs_login = bool(answer.get("requiresOpenaiAuth"))
        self.account = account_text(answer.get("account"), self._provider_needs_login)

    def _print_banner(self) -> None:
        where = f"remote {self.options.remote}" if self.options.remote else self.cwd
        self.print_cells([
            NoticeCell(f"pycodex {__version__}  ·  {where}", "info"),
            NoticeCell("Ask anything. / commands · @ files · ! shell · Ctrl-T transcript · "
                       "Esc interrupts · Ctrl-C twice quits", "info"),
        ])

    async def _open_first_thread(self) -> None:
        if self.options.fork:
            await self.switch_thread(self.options.fork, True, print_history=True)
        elif self.options.resume:
            target = self.options.resume
            if target == "--last":
                listed = await self.client.request("thread/list", {"limit": 1, "sortKey": "updated_at"})
                if not listed.get("data"):
                    self.add_info("No earlier thread to resume: starting a new one.")
                    await self.start_new_thread()
                    return
                target = listed["data"][0]["id"]
            await self.switch_thread(target, False, print_history=True)
        else:
            await self.start_new_thread()

    # --- the TuiContext of slash.py --------------------------------------------------------

    def _thread_params(self) -> Json:
        params: Json = dict(self.options.thread_params)
        params.setdefault("cwd", self.cwd)
        return params

    async def start_new_thread(self) -> None:
        answer = await self.client.request("thread/start", self._thread_params())
        self._adopt(answer)

    async def ensure_thread(self) -> str:
        await self.ready()
        if self.state.thread_id is None:
            await self.start_new_thread()
        assert self.state.thread_id is not None
        return self.state.thread_id

    async def switch_thread(self, thread_id: str, fork: bool, print_history: bool = True) -> None:
        method = "thread/fork" if fork else "thread/resume"
        answer = await self.client.request(method, {"threadId": thread_id, **self._thread_params()})
        self._adopt(answer)
        if print_history:
            await self._print_history()

    def _adopt(self, answer: Json) -> None:
        self.state.thread_id = str(answer["thread"]["id"])
        self.state.settings = ThreadSettings.from_response(answer)
        self.cwd = self.state.settings.cwd or self.cwd
        self.state.turn = None

    async def _print_history(self) -> None:
        assert self.state.thread_id is not None
        answer = await self.client.request(
            "thread/turns/list", {"threadId": self.state.thread_id, "sortDirection": "asc", "itemsView": "full"}
        )
        cells: list[Any] = []
        for turn in answer.get("data", []):
            for item in turn.get("items", []):
                cells += self.state.finished(item_cell(item))
        self.print_cells(cells)

    def add_info(self, text: str) -> None:
        self.print_cells(self.state.finished(NoticeCell(text, "info")))

    def add_error(self, text: str) -> None:
        self.print_cells(self.state.finished(NoticeCell(text, "error")))

    def add_diff(self, text: str) -> None:
        self.print_cells(self.state.finished(DiffCell(text)))

    async def run_picker(self, title: str, items: Sequence[Any]) -> Any:
        from prompt_toolkit.application import in_terminal

        from pycodex.frontends.tui.pickers import run_picker_app

        try:
            async with in_terminal():
                return await run_picker_app(title, list(items), color=self.theme.color)
        finally:
            if self._ui is not None:
                self._ui.flush_held()

    async def run_turn(self, text: str) -> str | None:
        self._turn_done.clear()
        await self.submit(text)
        await self._turn_done.wait()
        return self.state.last_agent_message

    def set_model(self, model: str, effort: str | None) -> None:
        self.state.settings.model, self.state.settings.effort = model, effort
        self.options = _with(self.options, model=model, effort=effort)

    def set_permissions(self, approval_policy: str, sandbox_mode: str) -> None:
        self.state.settings.approval_policy, self.state.settings.sandbox = approval_policy, sandbox_mode
        self.options = _with(self.options, approvalPolicy=approval_policy, sandbox=sandbox_mode)

    def status(self) -> dict[str, Any]:
        s = self.state.settings
        return {
            "model": s.model, "effort": s.effort, "model_provider": s.provider, "cwd": self.cwd,
            "approval_policy": s.approval_policy, "sandbox": s.sandbox, "account": self.account,
            "token_usage": self.state.token_usage, "context_window": self.state.context_window,
            "thread_id": self.state.thread_id, "forked_from": s.forked_from,
        }

    def insert_text(self, text: str) -> None:
        if self._ui is not None:
            self._ui.set_composer(text)

    def last_agent_message(self) -> str | None:
        return self.state.last_agent_message

    def write_terminal(self, data: str) -> None:
        sys.stdout.write(data)
        sys.stdout.flush()

    def exit(self) -> None:
        if self._ui is not None:
            self._ui.exit()

    # --- turns -------------------------------------------------------------------------------

    async def submit(self, text: str) -> None:
        """A composer line: a command, or a message (steering the running turn, if any)."""
        from pycodex.frontends.tui import slash

        await self.ready()
        if await slash.dispatch(self, text):
            return
        await self.send_message(text)

    async def send_message(self, text: str) -> None:
        thread_id = await self.ensure_thread()
        items = [{"type": "text", "text": text, "text_elements": []}]
        turn = self.state.turn
        if turn is not None:
            await self.client.request("turn/steer", {"threadId": thread_id, "input": items,
                                                     "expectedTurnId": turn.turn_id})
            return
        params: Json = {"threadId": thread_id, "input": items}
        chosen = dict(self.options.thread_params)  # /model, /approvals and the CLI flags
        for key in ("model", "effort", "approvalPolicy"):
            if chosen.get(key) is not None:
                params[key] = chosen[key]
        if chosen.get("sandbox") in _SANDBOX_POLICIES:
            params["sandboxPolicy"] = {"type": _SANDBOX_POLICIES[chosen["sandbox"]]}
        await self.client.request("turn/start", params)

    async def interrupt(self) -> bool:
        await self.ready()
        turn = self.state.turn
        if turn is None or self.state.thread_id is None:
            return False
        await self.client.request("turn/interrupt", {"threadId": self.state.thread_id, "turnId": turn.turn_id})
        return True

    def turn_seconds(self) -> float | None:
        turn = self.state.turn
        return None if turn is None else time.monotonic() - turn.started

    # --- the server talking ---------------------------------------------------------------

    def _on_notification(self, method: str, params: Json) -> None:
        if method == "account/updated":
            if params.get("authMode") is None:  # signed out: known at once
                self.account = account_text(None, self._provider_needs_login)
            else:
                self.spawn(self._read_account())
        cells = self.state.on_notification(method, params)
        self.print_cells(cells)
        if method == "turn/completed" and params.get("threadId") == self.state.thread_id:
            self._turn_done.set()
            if self._ui is not None:
                self._ui.turn_ended()
            if self.queued:
                self.spawn(self.submit(self.queued.pop(0)))
        if self._ui is not None:
            self._ui.invalidate()

    async def _on_request(self, method: str, params: Json) -> Any:
        prompt = approval_prompt(method, params)
        if prompt is None:
            raise ValueError(f"pycodex's TUI does not answer {method}")
        self.approval = prompt
        if self._ui is not None:
            self._ui.invalidate()
        try:
            return await prompt.answer
        finally:
            self.approval = None
            if self._ui is not None:
                self._ui.invalidate()

    # --- scrollback -----------------------------------------------------------------------

    def print_cells(self, cells: Sequence[Any]) -> None:
        if not cells:
            return
        width = self._ui.width() if self._ui is not None else 100
        text = "\n".join(line for cell in cells for line in cell.render(width - 1, self.theme)) + "\n"
        if self._ui is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        self._ui.print_above(text)


def account_text(account: Json | None, provider_needs_it: bool) -> str:
    """The `/status` account line."""
    if account is None:
        return "not signed in" if provider_needs_it else "none (this provider needs no OpenAI login)"
    if account.get("type") == "chatgpt":
        return f"ChatGPT {account.get('email') or ''} ({account.get('planType')})".replace("  ", " ")
    return "API key"


def _with(options: TuiOptions, **params: Any) -> TuiOptions:
    merged = dict(options.thread_params)
    merged.update({k: v for k, v in params.items() if v is not None})
    return dataclasses.replace(options, prompt=None, thread_params=tuple(merged.items()))


def run_tui(env: Mapping[str, str], options: TuiOptions) -> int:
    """Run the TUI until the user quits; restores the terminal whatever happens."""
    from pycodex.frontends.tui.client import log_path

    app = TuiApp(env, options)
    try:
        return asyncio.run(app.run())
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the terminal is back to normal here: say what happened
        with contextlib.suppress(Exception):
            log = log_path(env)
            log.parent.mkdir(parents=True, exist_ok=True)
            import traceback

            with log.open("a", encoding="utf-8") as out:
                traceback.print_exc(file=out)
        print(f"pycodex: {type(exc).__name__}: {exc} (details in {log_path(env)})", file=sys.stderr)
        return 1
