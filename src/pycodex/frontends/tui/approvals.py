"""The inline approval question: a command or a file change the agent wants, with the
choices the protocol offers, answered by one key."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    answer: Json


@dataclass
class ApprovalPrompt:
    title: str
    detail: list[str]
    choices: list[Choice]
    answer: asyncio.Future[Json] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def choose(self, key: str) -> bool:
        for choice in self.choices:
            if choice.key == key and not self.answer.done():
                self.answer.set_result(choice.answer)
                return True
        return False

    def lines(self) -> list[str]:
        keys = "   ".join(f"[{c.key}] {c.label}" for c in self.choices)
        return [self.title, *self.detail, keys]


def approval_prompt(method: str, params: Json) -> ApprovalPrompt | None:
    if method == "item/commandExecution/requestApproval":
        return _command(params)
    if method == "item/fileChange/requestApproval":
        return _file_change(params)
    if method == "mcpServer/elicitation/request":
        return _elicitation(params)
    return None


def _decision(value: Any) -> Json:
    return {"decision": value}


def _command(params: Json) -> ApprovalPrompt:
    detail = [f"  $ {params.get('command') or ''}", f"  in {params.get('cwd') or ''}"]
    if params.get("reason"):
        detail.append(f"  because: {params['reason']}")
    choices = [Choice("y", "yes", _decision("accept")), Choice("a", "yes, for this session", _decision("acceptForSession"))]
    prefix = params.get("proposedExecpolicyAmendment")
    if prefix:
        amendment = {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": prefix}}
        choices.append(Choice("p", f"yes, and always for `{' '.join(prefix)}`", _decision(amendment)))
    choices += [Choice("n", "no", _decision("decline")), Choice("esc", "no, and stop the turn", _decision("cancel"))]
    return ApprovalPrompt("Run this command?", detail, choices)


def _file_change(params: Json) -> ApprovalPrompt:
    detail = []
    if params.get("reason"):
        detail.append(f"  because: {params['reason']}")
    choices = [
        Choice("y", "yes", _decision("accept")), Choice("a", "yes, for this session", _decision("acceptForSession")),
        Choice("n", "no", _decision("decline")), Choice("esc", "no, and stop the turn", _decision("cancel")),
    ]
    return ApprovalPrompt("Apply these changes? (the diff is above)", detail, choices)


def _elicitation(params: Json) -> ApprovalPrompt:
    detail = [f"  {params.get('message') or ''}"]
    if params.get("url"):
        detail.append(f"  {params['url']}")
    choices = [Choice("y", "accept", {"action": "accept", "content": {}}),
               Choice("n", "decline", {"action": "decline"}), Choice("esc", "cancel", {"action": "cancel"})]
    return ApprovalPrompt(f"MCP server `{params.get('serverName')}` asks:", detail, choices)
