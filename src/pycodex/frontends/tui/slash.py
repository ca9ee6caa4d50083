"""Slash commands: a registry of small handlers, `dispatch` for a composer line, and
`completions` for the composer's `/` menu.

Each command is one async function of the TUI context (`TuiContext`, context.py) and
the text after its name. Everything a command does goes through the app-server protocol
(`ctx.client.request`), so the TUI works the same attached to a remote app-server. A
command whose feature pycodex does not have yet is listed, and says so when run, naming
what to use instead.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pycodex.frontends.tui.pickers import PickerItem, fetch_thread_items

T = TypeVar("T")


class RequestClient(Protocol):
    async def request(self, method: str, params: dict[str, Any]) -> Any: ...


class TuiContext(Protocol):
    """What slash commands use of the running TUI (the app's context implements it)."""

    client: RequestClient
    thread_id: str | None
    cwd: str

    def add_info(self, text: str) -> None: ...
    def add_error(self, text: str) -> None: ...
    def add_diff(self, text: str) -> None: ...
    async def start_new_thread(self) -> None: ...
    async def ensure_thread(self) -> str:
        """The current thread's id, starting a thread first when there is none yet."""
    async def switch_thread(self, thread_id: str, fork: bool) -> None: ...
    async def run_picker(self, title: str, items: list[PickerItem[T]]) -> T | None: ...
    async def send_message(self, text: str) -> None:
        """Send `text` as the user's message (a turn, or into the running one)."""
    async def run_turn(self, text: str) -> str | None:
        """Send `text` as a user turn and wait for it; its last agent message."""
    def set_model(self, model: str, effort: str | None) -> None: ...
    def set_permissions(self, approval_policy: str, sandbox_mode: str) -> None: ...
    def status(self) -> dict[str, Any]:
        """model, effort, model_provider, cwd, approval_policy, sandbox, account,
        token_usage (v2 ThreadTokenUsage), context_window, thread_id, forked_from."""
    def insert_text(self, text: str) -> None: ...
    def last_agent_message(self) -> str | None: ...
    def write_terminal(self, data: str) -> None: ...
    def exit(self) -> None: ...


Handler = Callable[[TuiContext, str], Awaitable[None]]


@dataclass(frozen=True)
class SlashCommand:
    name: str
    description: str
    handler: Handler
    aliases: tuple[str, ...] = ()


COMMANDS: dict[str, SlashCommand] = {}  # by name, in menu order
_BY_ALIAS: dict[str, SlashCommand] = {}


def command(name: str, description: str, *aliases: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        entry = SlashCommand(name, description, handler, aliases)
        COMMANDS[name] = entry
        for key in (name, *aliases):
            _BY_ALIAS[key] = entry
        return handler

    return register


def parse(line: str) -> tuple[str, str] | None:
    """("name", "args") of a `/name args` line; None when the line is not a command."""
    stripped = line.strip()
    if not stripped.startswith("/") or stripped.startswith("//"):
        return None
    name, _, args = stripped[1:].partition(" ")
    if not name or "/" in name:  # "/usr/bin/foo is broken" is a message, not a command
        return None
    return name, args.strip()


def lookup(name: str) -> SlashCommand | None:
    return _BY_ALIAS.get(name)


async def dispatch(ctx: TuiContext, line: str) -> bool:
    """Run the command `line` names: `/name args`, or `!shell command` (the user's own
    command, run by the app-server outside the sandbox, its output shown as a command
    cell). False when `line` is neither (the caller then sends it as a message); an
    unknown or failing command is reported in the transcript, never raised."""
    if line.lstrip().startswith("!"):
        await _run_user_shell(ctx, line.lstrip()[1:].strip())
        return True
    parsed = parse(line)
    if parsed is None:
        return False
    name, args = parsed
    if name.startswith(PROMPTS_PREFIX):
        await _run_custom_prompt(ctx, name[len(PROMPTS_PREFIX):], args)
        return True
    entry = lookup(name)
    if entry is None:
        ctx.add_error(f"Unknown command /{name}. Type / to list the commands.")
        return True
    try:
        await entry.handler(ctx, args)
    except Exception as exc:  # a failed request must not end the session: report it
        ctx.add_error(f"/{entry.name} failed: {_message(exc)}")
    return True


async def _run_user_shell(ctx: TuiContext, command: str) -> None:
    if not command:
        ctx.add_error("Type a shell command after ! (for example: !git status).")
        return
    try:
        thread_id = await ctx.ensure_thread()
        await ctx.client.request("thread/shellCommand", {"threadId": thread_id, "command": command})
    except Exception as exc:  # reported like a failing slash command
        ctx.add_error(f"!{command} failed: {_message(exc)}")


def completions(prefix: str) -> list[tuple[str, str]]:
    """("/name", description) of the commands starting with `prefix` ("/mo" or "mo"), the
    custom prompts (`/prompts:NAME`) included."""
    wanted = prefix.removeprefix("/").lower()
    found = [(f"/{c.name}", c.description) for c in COMMANDS.values() if c.name.startswith(wanted)]
    for prompt in _custom_prompts():
        name = f"{PROMPTS_PREFIX}{prompt.name}"
        if name.startswith(wanted):
            hint = f" {prompt.argument_hint}" if prompt.argument_hint else ""
            found.append((f"/{name}", (prompt.description or "custom prompt") + hint))
    return found


PROMPTS_PREFIX = "prompts:"


def _custom_prompts() -> list[Any]:
    """$PYCODEX_HOME/prompts/*.md (the files of this machine, also with --remote)."""
    import os

    from pycodex.config.home import pycodex_home
    from pycodex.context.prompts_custom import discover_prompts

    try:
        return list(discover_prompts(pycodex_home(os.environ) / "prompts"))
    except OSError:
        return []


async def _run_custom_prompt(ctx: TuiContext, name: str, args: str) -> None:
    from pycodex.context.prompts_custom import PromptArgsError, expand_prompt

    prompt = next((p for p in _custom_prompts() if p.name == name), None)
    if prompt is None:
        ctx.add_error(f"No custom prompt “{name}” in $PYCODEX_HOME/prompts.")
        return
    try:
        text = expand_prompt(prompt.content, args)
    except PromptArgsError as exc:
        ctx.add_error(f"/{PROMPTS_PREFIX}{name}: {exc}")
        return
    await ctx.send_message(text)


def _message(exc: Exception) -> str:
    return str(getattr(exc, "message", "") or exc) or type(exc).__name__


def _need_thread(ctx: TuiContext, name: str) -> str | None:
    if ctx.thread_id is None:
        ctx.add_error(f"/{name} needs a thread: send a message first.")
    return ctx.thread_id


# --- threads ---------------------------------------------------------------------------

@command("new", "start a new thread in this directory")
async def _new(ctx: TuiContext, args: str) -> None:
    await ctx.start_new_thread()


@command("resume", "resume an earlier thread (picker with search)")
async def _resume(ctx: TuiContext, args: str) -> None:
    if args:
        await ctx.switch_thread(args, False)
        return
    items = await fetch_thread_items(ctx.client.request, exclude=ctx.thread_id)
    if not items:
        ctx.add_info("No earlier threads to resume.")
        return
    chosen = await ctx.run_picker("Resume a thread", items)
    if chosen is not None:
        await ctx.switch_thread(chosen, False)


@command("fork", "fork this thread into a new one")
async def _fork(ctx: TuiContext, args: str) -> None:
    thread_id = _need_thread(ctx, "fork")
    if thread_id is not None:
        await ctx.switch_thread(thread_id, True)


@command("rename", "name this thread: /rename NAME")
async def _rename(ctx: TuiContext, args: str) -> None:
    thread_id = _need_thread(ctx, "rename")
    if thread_id is None:
        return
    if not args:
        ctx.add_error("Usage: /rename NAME")
        return
    await ctx.client.request("thread/name/set", {"threadId": thread_id, "name": args})
    ctx.add_info(f"Thread renamed to “{args}”.")


@command("compact", "summarise the conversation to free context")
async def _compact(ctx: TuiContext, args: str) -> None:
    thread_id = _need_thread(ctx, "compact")
    if thread_id is not None:
        await ctx.client.request("thread/compact/start", {"threadId": thread_id})
        ctx.add_info("Compacting the conversation…")


@command("review", "review changes (picker), or: /review base BRANCH | commit SHA | INSTRUCTIONS")
async def _review(ctx: TuiContext, args: str) -> None:
    thread_id = _need_thread(ctx, "review")
    if thread_id is None:
        return
    target = await _review_target(ctx, args)
    if target is not None:
        await ctx.client.request("review/start", {"threadId": thread_id, "target": target})


REVIEW_KINDS = [
    PickerItem("Uncommitted changes", "uncommitted", "staged, unstaged and untracked files"),
    PickerItem("Against a base branch", "base", "what this branch changed since it left BRANCH"),
    PickerItem("A commit", "commit", "the changes one commit made"),
]


async def _review_target(ctx: TuiContext, args: str) -> dict[str, Any] | None:
    word, _, rest = args.partition(" ")
    if word == "base" and rest.strip():
        return {"type": "baseBranch", "branch": rest.strip()}
    if word == "commit" and rest.strip():
        return {"type": "commit", "sha": rest.strip()}
    if args:
        return {"type": "custom", "instructions": args}
    kind = await ctx.run_picker("Review", REVIEW_KINDS)
    if kind == "uncommitted":
        return {"type": "uncommittedChanges"}
    if kind == "base":
        branches = (await _git(ctx, "for-each-ref", "--format=%(refname:short)", "refs/heads")).get("stdout", "")
        items = [PickerItem(b, b) for b in branches.splitlines() if b]
        branch = await _pick_or_say(ctx, "Base branch", items, "There are no branches to compare with.")
        return None if branch is None else {"type": "baseBranch", "branch": branch}
    if kind == "commit":
        log = (await _git(ctx, "log", "--format=%H%x09%s", "-n", "100")).get("stdout", "")
        commits = [line.split("\t", 1) for line in log.splitlines() if "\t" in line]
        items = [PickerItem(subject, sha, sha[:10]) for sha, subject in commits]
        sha = await _pick_or_say(ctx, "Commit to review", items, "There are no commits to review.")
        title = next((subject for s, subject in commits if s == sha), None)
        return None if sha is None else {"type": "commit", "sha": sha, "title": title}
    return None


async def _pick_or_say(ctx: TuiContext, title: str, items: list[PickerItem[str]], empty: str) -> str | None:
    if not items:
        ctx.add_info(empty)
        return None
    return await ctx.run_picker(title, items)


async def _git(ctx: TuiContext, *argv: str) -> dict[str, Any]:
    """`git ARGV` in the session's directory, run by the app-server (command/exec)."""
    answer: dict[str, Any] = await ctx.client.request(
        "command/exec", {"command": ["git", *argv], "cwd": ctx.cwd, "timeoutMs": 20000}
    )
    return answer


# --- settings --------------------------------------------------------------------------

@command("model", "choose the model and reasoning effort: /model [MODEL [EFFORT]]")
async def _model(ctx: TuiContext, args: str) -> None:
    models = (await ctx.client.request("model/list", {})).get("data", [])
    words = args.split()
    if words:
        model, effort = words[0], (words[1] if len(words) > 1 else None)
    else:
        items = [
            PickerItem(m.get("displayName") or m["model"], str(m["model"]), m.get("description", ""))
            for m in models if not m.get("hidden")
        ]
        picked = await ctx.run_picker("Model", items)
        if picked is None:
            return
        model, effort = picked, None
    info = next((m for m in models if m.get("model") == model or m.get("id") == model), None)
    efforts = [e.get("reasoningEffort") for e in (info or {}).get("supportedReasoningEfforts", [])]
    if effort is None and efforts and not words:
        items = [PickerItem(str(e), str(e)) for e in efforts if e]
        effort = await ctx.run_picker(f"Reasoning effort for {model}", items)
    if effort is not None and efforts and effort not in efforts:
        ctx.add_error(f"{model} does not support effort “{effort}” (it has: {', '.join(map(str, efforts))}).")
        return
    ctx.set_model(model, effort)
    ctx.add_info(f"Model: {model}" + (f", effort {effort}" if effort else "") + " (from the next turn)")


# (label, approval policy, sandbox mode, what it means)
APPROVAL_PRESETS: list[tuple[str, str, str, str]] = [
    ("Read only", "on-request", "read-only",
     "reads files; asks before editing or running anything that writes"),
    ("Auto", "on-request", "workspace-write",
     "edits and runs commands in the workspace; asks before going outside it or online"),
    ("Full access", "never", "danger-full-access",
     "edits and runs anything without asking (use with care)"),
]


@command("approvals", "choose what pycodex may do without asking", "permissions")
async def _approvals(ctx: TuiContext, args: str) -> None:
    presets = {label.lower(): (policy, sandbox) for label, policy, sandbox, _ in APPROVAL_PRESETS}
    if args:
        chosen = presets.get(args.lower())
        if chosen is None:
            ctx.add_error(f"Unknown preset “{args}”: choose one of {', '.join(p[0] for p in APPROVAL_PRESETS)}.")
            return
    else:
        items = [PickerItem(label, label.lower(), detail) for label, _, _, detail in APPROVAL_PRESETS]
        picked = await ctx.run_picker("Approvals and sandbox", items)
        if picked is None:
            return
        chosen = presets[picked]
    ctx.set_permissions(*chosen)
    ctx.add_info(f"Approval policy {chosen[0]}, sandbox {chosen[1]} (from the next turn)")


# --- information -----------------------------------------------------------------------

@command("status", "model, policies, token usage and thread of this session")
async def _status(ctx: TuiContext, args: str) -> None:
    ctx.add_info("\n".join(status_lines(ctx.status())))


def status_lines(status: dict[str, Any]) -> list[str]:
    """The `/status` report from the context's status snapshot."""
    def row(label: str, value: object) -> str:
        return f"{label + ':':<16}{value}"

    model = str(status.get("model") or "?")
    if status.get("effort"):
        model += f" (reasoning {status['effort']})"
    lines = [
        row("Model", model),
        row("Provider", status.get("model_provider") or "?"),
        row("Directory", status.get("cwd") or "?"),
        row("Approval", status.get("approval_policy") or "?"),
        row("Sandbox", _sandbox_text(status.get("sandbox"))),
        row("Account", status.get("account") or "unknown"),
    ]
    lines.extend(_usage_rows(status, row))
    lines.append(row("Thread", status.get("thread_id") or "(none yet)"))
    if status.get("forked_from"):
        lines.append(row("Forked from", status["forked_from"]))
    return lines


def _sandbox_text(sandbox: object) -> str:
    if isinstance(sandbox, dict):
        kind = str(sandbox.get("type", "?"))
        extras = " (network on)" if sandbox.get("networkAccess") is True else ""
        return {"readOnly": "read-only", "workspaceWrite": "workspace-write",
                "dangerFullAccess": "danger-full-access"}.get(kind, kind) + extras
    return str(sandbox or "?")


def _usage_rows(status: dict[str, Any], row: Callable[[str, object], str]) -> list[str]:
    usage = status.get("token_usage") or {}
    total = usage.get("total") or {}
    if not total:
        return [row("Tokens", "none used yet")]
    rows = [row("Tokens", f"{total.get('totalTokens', 0):,} total "
                          f"({total.get('inputTokens', 0):,} in, {total.get('cachedInputTokens', 0):,} cached, "
                          f"{total.get('outputTokens', 0):,} out)")]
    window = usage.get("modelContextWindow") or status.get("context_window")
    last = (usage.get("last") or {}).get("totalTokens")
    if window and last is not None:
        left = max(0, min(100, round(100 * (1 - last / window))))
        rows.append(row("Context left", f"{left}% of {window:,} tokens"))
    return rows


@command("diff", "show the changes in the working tree (git diff)")
async def _diff(ctx: TuiContext, args: str) -> None:
    inside = await _git(ctx, "rev-parse", "--is-inside-work-tree")
    if inside.get("exitCode") != 0:
        ctx.add_info(f"{ctx.cwd} is not in a git repository: there is no diff to show.")
        return
    diff = await _git(ctx, "diff", "HEAD", "--no-color", "--no-ext-diff")
    untracked = await _git(ctx, "ls-files", "--others", "--exclude-standard")
    text = diff.get("stdout", "").rstrip("\n")
    new_files = [f for f in untracked.get("stdout", "").splitlines() if f]
    if new_files:
        text += ("\n" if text else "") + "\n".join(f"untracked: {f}" for f in new_files)
    if not text:
        ctx.add_info("No changes in the working tree.")
        return
    ctx.add_diff(text)


@command("mcp", "list the MCP servers and their tools")
async def _mcp(ctx: TuiContext, args: str) -> None:
    params: dict[str, Any] = {"detail": "toolsAndAuthOnly"}
    if ctx.thread_id is not None:
        params["threadId"] = ctx.thread_id
    servers = (await ctx.client.request("mcpServerStatus/list", params)).get("data", [])
    if not servers:
        ctx.add_info("No MCP servers are configured (see [mcp_servers] in config.toml).")
        return
    lines = ["MCP servers:"]
    for server in servers:
        state = server.get("runtimeStatus") or "not started"
        tools = sorted((server.get("tools") or {}).keys())
        lines.append(f"  {server['name']} — {state}, {len(tools)} tool{'s' if len(tools) != 1 else ''}")
        if tools:
            lines.append(f"    {', '.join(tools)}")
        if server.get("toolsError"):
            lines.append(f"    error: {server['toolsError']}")
    ctx.add_info("\n".join(lines))


# --- composer and terminal -------------------------------------------------------------

@command("mention", "mention a file: inserts @ to search for it")
async def _mention(ctx: TuiContext, args: str) -> None:
    ctx.insert_text("@" + args)


@command("copy", "copy the last answer to the clipboard (OSC 52)")
async def _copy(ctx: TuiContext, args: str) -> None:
    text = ctx.last_agent_message()
    if not text:
        ctx.add_info("There is no answer to copy yet.")
        return
    ctx.write_terminal(osc52(text))
    ctx.add_info(f"Copied the last answer ({len(text):,} characters) to the clipboard.")


def osc52(text: str) -> str:
    """The escape sequence asking the terminal to put `text` on the clipboard (works over
    ssh too: the terminal, not the machine pycodex runs on, owns the clipboard)."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"\x1b]52;c;{payload}\x07"


@command("init", "write an AGENTS.md for this repository")
async def _init(ctx: TuiContext, args: str) -> None:
    from pycodex.context.init import (
        INIT_PROMPT,
        InitError,
        agents_md_target,
        document_from,
        write_exclusive,
    )

    try:
        target = agents_md_target(Path(ctx.cwd))  # refuse before spending a turn
        answer = await ctx.run_turn(INIT_PROMPT)
        if answer is None:
            ctx.add_error("/init: the turn ended without an answer; nothing was written.")
            return
        write_exclusive(target, document_from(answer))
    except InitError as exc:
        ctx.add_error(f"/init: {exc}")
        return
    ctx.add_info(f"Wrote {target}.")


@command("undo", "restore the files the last turn changed")
async def _undo(ctx: TuiContext, args: str) -> None:
    """As `pycodex undo` for this thread: only what its last file-changing turn changed,
    never a file edited since (then nothing is restored and those are named). The
    snapshots are this machine's ($PYCODEX_HOME), so with --remote it undoes nothing."""
    import asyncio
    import os

    from pycodex.config.home import pycodex_home
    from pycodex.context.snapshot_restore import undo_last_turn

    if ctx.thread_id is None:
        ctx.add_info("Nothing to undo yet.")
        return
    result = await asyncio.to_thread(undo_last_turn, pycodex_home(os.environ), ctx.thread_id)
    (ctx.add_info if result.success else ctx.add_error)(f"/undo: {result.message}")


@command("logout", "sign out (remove the stored credentials)")
async def _logout(ctx: TuiContext, args: str) -> None:
    await ctx.client.request("account/logout", {})
    ctx.add_info("Signed out: the stored credentials are removed.")


@command("quit", "exit pycodex", "exit")
async def _quit(ctx: TuiContext, args: str) -> None:
    ctx.exit()
