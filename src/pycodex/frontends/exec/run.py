"""`pycodex exec`: run one turn headlessly and report it (human text or JSONL)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, TextIO, TypeVar

import msgspec

from pycodex.config.config import Config, ConfigOverrides, load_config
from pycodex.config.errors import ConfigError
from pycodex.context.instructions import InstructionsError, find_repo_root
from pycodex.core import (
    CodexThread,
    InternalAgentDied,
    ThreadManager,
    ThreadOptions,
    effective_reasoning_effort,
    sandbox_policy_for,
)
from pycodex.protocol.events import (
    ErrorEvent,
    EventMsg,
    ShutdownCompleteEvent,
    TaskCompleteEvent,
    TurnAbortedEvent,
    WarningEvent,
)
from pycodex.protocol.ops import InterruptOp, ReviewOp, ShutdownOp, UserTurnOp
from pycodex.protocol.policies import AskForApproval, ReasoningEffort, ReasoningSummary
from pycodex.protocol.review import ReviewRequest
from pycodex.protocol.user_input import LocalImageInput, TextInput, UserInput

from .approvals import auto_deny
from .human import HumanRenderer, Style
from .jsonl import JsonlProcessor
from .resume import SessionLookupError, open_thread, resolve_session
from .target import SessionTarget

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ExecUsageError(Exception):
    """Bad input detected before any model request; exits 1 with the message."""


class ExecArgs(msgspec.Struct):
    prompt: str | None
    overrides: ConfigOverrides
    images: list[Path] = msgspec.field(default_factory=list)
    json: bool = False
    output_last_message: Path | None = None
    output_schema: Path | None = None
    color: str = "auto"
    skip_git_repo_check: bool = False
    # `exec resume|fork`: the recorded thread to continue (None: a new thread).
    session: SessionTarget | None = None
    session_path: Path | None = None
    # `exec review` / `pycodex review`: the review target (Codex's ReviewTarget shape) run
    # instead of a prompt; a `custom` target takes its instructions from the prompt.
    review_target: dict[str, Any] | None = None


def read_prompt(prompt: str | None, stdin: TextIO, err: TextIO) -> str:
    """The prompt from the argument, stdin, or both (stdin appended as a `<stdin>` block)."""
    if prompt is None or prompt == "-":
        if prompt is None and stdin.isatty():
            raise ExecUsageError("No prompt provided. Pass one as an argument or pipe it on stdin.")
        print("Reading prompt from stdin...", file=err, flush=True)
        text = _read_text(stdin)
        if not text.strip():
            raise ExecUsageError("No prompt provided via stdin.")
        return text
    _utf8(prompt.encode("utf-8", "surrogateescape"), "the prompt argument")
    if not stdin.isatty():
        print("Reading additional input from stdin...", file=err, flush=True)
        extra = _read_text(stdin)
        if extra.strip():
            return f"{prompt}\n\n<stdin>\n{extra.rstrip(chr(10))}\n</stdin>"
    return prompt


def _read_text(stdin: TextIO) -> str:
    """All of stdin as UTF-8: anything else is refused here, naming the first bad byte,
    before it can reach the model, the rollout or the history."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:  # an in-memory stream (tests, embedding): already text
        text = stdin.read()
        _utf8(text.encode("utf-8", "surrogateescape"), "stdin")
        return text
    return _utf8(buffer.read(), "stdin")


def _utf8(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExecUsageError(
            f"{source} is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "(convert it first, e.g. with `iconv -t UTF-8`)"
        ) from None


def read_output_schema(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExecUsageError(f"Failed to read output schema file {path}: {exc.strerror}") from exc
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExecUsageError(
            f"Output schema file {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(schema, dict):
        raise ExecUsageError(f"Output schema file {path} must contain a JSON object")
    return schema


def write_last_message(path: Path, text: str) -> None:
    """Atomically, so a reader never sees half a message."""
    import tempfile  # (with shutil, bz2, lzma, random: not worth it before the request)

    path = path if path.is_absolute() else Path.cwd() / path
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _use_color(mode: str, stream: TextIO) -> bool:
    if mode == "always":
        return True
    if mode == "never":
        return False
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _header(config: Config) -> dict[str, str]:
    return {
        "workdir": str(config.cwd),
        "model": config.model,
        "provider": config.model_provider_id,
        "approval": config.approval_policy,
        "sandbox": config.sandbox_mode,
        # What is actually requested (Codex prints `none` here while sending `medium`).
        "reasoning effort": effective_reasoning_effort(config.model, config.model_reasoning_effort)
        or "none",
        "reasoning summaries": config.model_reasoning_summary or "none",
    }


def run_exec(args: ExecArgs, *, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        config = load_config(args.overrides)
        if not args.skip_git_repo_check and not config.project_trusted and find_repo_root(config.cwd) is None:
            raise ExecUsageError(
                "Not inside a trusted directory and --skip-git-repo-check was not specified."
            )
        schema = read_output_schema(args.output_schema) if args.output_schema else None
        for image in args.images:
            if not image.is_file():
                raise ExecUsageError(f"image not found: {image}")
        if args.session is not None:
            args.session_path = resolve_session(config, args.session)
        target = args.review_target
        if target is not None and target.get("type") == "custom":
            target = {**target, "instructions": read_prompt(args.prompt, stdin, err)}
        prompt = read_prompt(args.prompt, stdin, err) if target is None else _review_label(target)
    except (ConfigError, ExecUsageError, InstructionsError, SessionLookupError) as exc:
        print(f"Error: {exc}", file=err)
        return EXIT_FAILED
    items: list[UserInput] = [LocalImageInput(path=str(p.resolve())) for p in args.images]
    items.append(TextInput(text=prompt))
    review = ReviewRequest(target=target) if target is not None else None
    return asyncio.run(_drive(config, args, items, schema, out, err, review))


def _review_label(target: dict[str, Any]) -> str:
    """What the human header shows as the "prompt" of a review run."""
    kind = target.get("type")
    if kind == "uncommittedChanges":
        return "code review: uncommitted changes"
    if kind == "baseBranch":
        return f"code review: changes against {target.get('branch')}"
    if kind == "commit":
        return f"code review: commit {target.get('sha')}"
    return f"code review: {target.get('instructions', '')}"


async def _drive(
    config: Config,
    args: ExecArgs,
    items: list[UserInput],
    schema: dict[str, Any] | None,
    out: TextIO,
    err: TextIO,
    review: ReviewRequest | None = None,
) -> int:
    display = _Display(config, args, items, out, err)
    # SDKs name themselves this way (the TypeScript SDK sends `codex_sdk_ts`).
    originator = os.environ.get("CODEX_INTERNAL_ORIGINATOR_OVERRIDE") or "pycodex_exec"
    manager = ThreadManager(ThreadOptions(originator=originator, source="exec", replay_events=False))
    try:
        thread = await open_thread(manager, config, args.session, args.session_path)
    except OSError as exc:
        print(f"Error: failed to start session: {exc}", file=err)
        return EXIT_FAILED
    stops = _StopSignals(asyncio.get_running_loop(), thread)
    stops.install()
    try:
        first = await thread.next_event()
        display.show(first.msg)
        for warning in config.warnings:
            display.warn(warning)
        await thread.submit(ReviewOp(review_request=review) if review else _user_turn(config, items, schema))
        outcome = await _pump_turn(thread, display.show)
    finally:
        stops.remove()
        await _shutdown(thread, display.show)
    if outcome == "aborted" or stops.interrupted.is_set():
        if display.human is not None:
            print("Interrupted.", file=err, flush=True)
        return 128 + stops.stopped_by[0] if stops.stopped_by else EXIT_INTERRUPTED
    return _finish(args, display, out, err)


class _Display:
    """Where the run's events go: JSONL on stdout (--json), or the human renderer."""

    def __init__(
        self, config: Config, args: ExecArgs, items: list[UserInput], out: TextIO, err: TextIO
    ) -> None:
        self._out, self._err = out, err
        self.jsonl = JsonlProcessor() if args.json else None
        self.human = None if args.json else HumanRenderer(
            err=err,
            style=Style(_use_color(args.color, err)),
            header=_header(config),
            prompt=items[-1].text if isinstance(items[-1], TextInput) else "",
            show_reasoning=not config.hide_agent_reasoning,
        )

    def _emit_json(self, obj: dict[str, Any]) -> None:
        self._out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._out.flush()

    def show(self, msg: EventMsg) -> None:
        if self.jsonl is not None:
            for obj in self.jsonl.process(msg):
                self._emit_json(obj)
        elif self.human is not None:
            self.human.process(msg)

    def warn(self, warning: str) -> None:
        if self.jsonl is not None:
            self._emit_json(self.jsonl.warning(warning))
        else:
            print(f"warning: {warning}", file=self._err)

    @property
    def turn_error(self) -> str | None:
        shown = self.jsonl if self.jsonl is not None else self.human
        return shown.turn_error if shown is not None else None

    @property
    def last_agent_message(self) -> str | None:
        shown = self.jsonl if self.jsonl is not None else self.human
        return shown.last_agent_message if shown is not None else None


class _StopSignals:
    """SIGINT, SIGTERM (a CI timeout, `kill`) and SIGHUP (the terminal went away) interrupt
    the turn: otherwise Python dies on the spot and the commands the model started, each
    in its own process group, outlive it. A second signal ends the run at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, thread: Any) -> None:
        self._loop = loop
        self._thread = thread
        self.interrupted = asyncio.Event()
        self._pending: set[asyncio.Task[str]] = set()
        # The signal that stopped the run decides the exit code (128 + its number).
        self.stopped_by: list[int] = []
        self._handled: list[signal.Signals] = []

    def install(self) -> None:
        for signum in _STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                self._loop.add_signal_handler(signum, self._on_signal, int(signum))
                self._handled.append(signum)

    def remove(self) -> None:
        for signum in self._handled:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                self._loop.remove_signal_handler(signum)

    def _on_signal(self, signum: int) -> None:
        if self.interrupted.is_set():
            # A second signal: the user (or supervisor) means it. Skip the graceful path,
            # not the cleanup of the commands we started.
            from pycodex.core import kill_all_processes

            kill_all_processes()
            os._exit(128 + self.stopped_by[0])
        self.stopped_by.append(signum)
        self.interrupted.set()
        self._pending.add(self._loop.create_task(self._thread.submit(InterruptOp())))


def _finish(args: ExecArgs, display: _Display, out: TextIO, err: TextIO) -> int:
    """The exit code of a turn that ran to its end; writes its last message where asked."""
    last = display.last_agent_message
    if display.turn_error is not None:
        return EXIT_FAILED
    if args.output_last_message is not None and last is not None:
        try:
            write_last_message(args.output_last_message, last)
        except OSError as exc:
            print(f"Error: failed to write {args.output_last_message}: {exc.strerror}", file=err)
            return EXIT_FAILED
    if display.human is not None and last is not None:
        out.write(last + "\n")
        out.flush()
    return EXIT_OK


def _user_turn(config: Config, items: list[UserInput], schema: dict[str, Any] | None) -> UserTurnOp:
    return UserTurnOp(
        items=items,
        cwd=str(config.cwd),
        approval_policy=AskForApproval(config.approval_policy),
        sandbox_policy=sandbox_policy_for(config),
        model=config.model,
        effort=_enum_or_none(ReasoningEffort, config.model_reasoning_effort),
        summary=_enum_or_none(ReasoningSummary, config.model_reasoning_summary) or ReasoningSummary.NONE,
        final_output_json_schema=schema,
    )


_E = TypeVar("_E", ReasoningEffort, ReasoningSummary)


def _enum_or_none(enum: type[_E], value: str | None) -> _E | None:
    # Unknown efforts are passed through to the provider by the client's own settings;
    # the op only carries values the protocol knows.
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        return None


async def _pump_turn(thread: CodexThread, show: Any) -> str:
    """Forward events until the turn ends: "completed" or "aborted"."""
    while True:
        event = await thread.next_event()
        show(event.msg)
        denial = auto_deny(event.msg)
        if denial is not None:
            answer, warning = denial
            show(WarningEvent(message=warning))
            await thread.submit(answer)
        if isinstance(event.msg, TaskCompleteEvent):
            return "completed"
        if isinstance(event.msg, TurnAbortedEvent):
            return "aborted"


async def _shutdown(thread: CodexThread, show: Any) -> None:
    """Shut the engine down cleanly: rollout flushed, client closed, processes reaped."""
    try:
        await thread.submit(ShutdownOp())
        while True:
            event = await thread.next_event()
            if isinstance(event.msg, ShutdownCompleteEvent):
                return
            if isinstance(event.msg, ErrorEvent):
                show(event.msg)
    except InternalAgentDied:
        return
