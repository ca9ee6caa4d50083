"""What the model is told about its sandbox and approval policy, at the start of a thread.

The `<environment_context>` names the mode; this developer message says what the mode
*means* for the model's next command: what will fail, whom it can ask, and how. Without
it a model under `on-request` does not know it may ask for escalation, and a model under
`never` keeps asking for it. The text is pycodex's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

_OPEN = "<permissions instructions>"
_CLOSE = "</permissions instructions>"

_SANDBOX = {
    "read-only": (
        "Commands run in a read-only sandbox: they can read any file, but every write fails "
        "(typically with \"Read-only file system\") and the network is unreachable."
    ),
    "workspace-write": (
        "Commands run in a sandbox that lets them write only inside the writable roots "
        "listed below{protected}; writes anywhere else fail. {network}"
    ),
    "danger-full-access": (
        "Commands run without a sandbox, with all of the user's rights: nothing stops a "
        "destructive command, so be deliberate."
    ),
    "external-sandbox": (
        "Commands run inside a sandbox the user set up outside pycodex; its limits are not "
        "known here. If a command fails for lack of permission, report it."
    ),
}

_APPROVAL = {
    "never": (
        "Approval policy `never`: nobody can be asked. A command the sandbox blocks simply "
        "fails; work within the limits or explain what you could not do. Do not request "
        "escalated permissions: such requests are refused."
    ),
    "on-request": (
        "Approval policy `on-request`: when a command needs more than the sandbox allows "
        "(network access, writing outside the writable roots, a tool that needs its own "
        "files), run it with `sandbox_permissions: \"require_escalated\"` and a one-sentence "
        "`justification`; the user is asked and, if they agree, it runs without the sandbox. "
        "Ask only when the task really needs it, and never to work around a failure the "
        "sandbox did not cause. You may add `prefix_rule` (e.g. [\"npm\", \"install\"]) to "
        "suggest a command prefix the user can allow for the future."
    ),
    "on-failure": (
        "Approval policy `on-failure`: commands run in the sandbox first; when one fails "
        "because of the sandbox, the user is asked whether to run it again without it. "
        "Do not request escalated permissions yourself."
    ),
    "untrusted": (
        "Approval policy `untrusted`: commands that only read (ls, cat, rg, git status...) "
        "run directly; any other command waits for the user's approval, so batch work into "
        "few commands and expect some to be declined."
    ),
}


def permissions_instructions(
    *,
    sandbox_mode: str,
    approval_policy: str,
    network_access: bool,
    writable_roots: Sequence[Path],
) -> str:
    """The developer-message text for these settings."""
    sandbox = _SANDBOX.get(sandbox_mode, _SANDBOX["external-sandbox"])
    if sandbox_mode == "workspace-write":
        network = (
            "Network access is allowed."
            if network_access
            else "The network is unreachable from commands."
        )
        sandbox = sandbox.format(
            protected=" (their `.git`, `.codex` and `.pycodex` directories stay read-only)",
            network=network,
        )
    lines = [_OPEN, sandbox]
    if sandbox_mode == "workspace-write" and writable_roots:
        lines.append("Writable roots:")
        lines.extend(f"- {root}" for root in writable_roots)
    approval = _APPROVAL.get(approval_policy)
    if approval is not None:
        lines.append(approval)
    lines.append(_CLOSE)
    return "\n".join(lines)
