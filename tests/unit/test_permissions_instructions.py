"""The permissions developer message: what each sandbox/approval combination means."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.context.permissions import permissions_instructions


def text(sandbox: str, approval: str, network: bool = False, roots: tuple[Path, ...] = ()) -> str:
    return permissions_instructions(
        sandbox_mode=sandbox, approval_policy=approval, network_access=network, writable_roots=roots
    )


def test_framed_and_names_the_limits_of_read_only() -> None:
    out = text("read-only", "never")
    assert out.startswith("<permissions instructions>\n") and out.endswith("\n</permissions instructions>")
    assert "every write fails" in out and "network is unreachable" in out
    assert "Do not request escalated permissions" in out


def test_workspace_write_lists_roots_and_network() -> None:
    roots = (Path("/work/repo"), Path("/tmp"))
    closed, opened = text("workspace-write", "on-request", False, roots), text("workspace-write", "on-request", True, roots)
    assert "Writable roots:\n- /work/repo\n- /tmp" in closed
    assert "`.git`" in closed and "The network is unreachable from commands." in closed
    assert "Network access is allowed." in opened


@pytest.mark.parametrize(
    ("approval", "must_say"),
    [
        ("on-request", 'sandbox_permissions: "require_escalated"'),
        ("on-failure", "asked whether to run it again without it"),
        ("untrusted", "waits for the user's approval"),
        ("never", "nobody can be asked"),
    ],
)
def test_each_approval_policy_says_how_to_get_more(approval: str, must_say: str) -> None:
    assert must_say in text("workspace-write", approval, roots=(Path("/w"),))


def test_full_access_warns_there_is_no_sandbox() -> None:
    assert "without a sandbox" in text("danger-full-access", "never")
