"""The click-free `exec` parser (`cli.exec_fast`) reads arguments exactly as click does.

Both parsers run over a table of argument lists: where the fast path accepts one, click
must accept it too and produce the same parameter values (captured at `launch_exec`, the
body both share); where click would complain or does something special (help, version,
`review`), the fast path must hand the arguments to click. `resume`/`fork` must also
produce the same session target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pycodex.cli import exec_launch
from pycodex.cli.exec_fast import parse_exec_args

ACCEPTED: list[list[str]] = [
    ["exec", "hi"],
    ["e", "hi"],
    ["exec"],
    ["exec", "-"],
    ["exec", ""],
    ["exec", "--json", "--dangerously-bypass-approvals-and-sandbox", "-C", "/tmp/x", "hi"],
    # The TypeScript SDK's form: prompt on stdin, flags only.
    ["exec", "--experimental-json", "--model", "gpt-5", "--sandbox", "workspace-write",
     "--config", 'model_reasoning_effort="high"', "--skip-git-repo-check", "--cd", "/w"],
    ["exec", "-mgpt-5", "-sread-only", "--model=o3", "--cd=/w", "-c", "a=1", "-c", "b=2",
     "--enable", "x", "--disable", "y", "--enable=z", "hi"],
    ["-c", "root=1", "--config", "root2=2", "exec", "-c", "own=2", "hi"],
    ["exec", "hi", "--json", "-i", "a.png", "--image", "b.png", "-o", "out.txt",
     "--output-schema", "s.json", "--color", "never"],
    ["exec", "--full-auto", "--ephemeral", "--ignore-user-config", "--ignore-rules",
     "--strict-config", "--oss", "--local-provider", "ollama", "-p", "prof", "--add-dir", "d1",
     "--add-dir=d2", "--thread-source", "sdk", "--cyber-access-program", "standard", "task"],
    ["e", "--yolo", "-o", "last.txt", "--color=always", "-iimg.png", "a task with spaces"],
    # Continuing a thread: the SDKs' form (flags first, prompt on stdin), and the others.
    ["exec", "--experimental-json", "--model", "gpt-5", "--skip-git-repo-check", "--cd", "/w",
     "resume", "01a1fedf-9850-7c21-9656-f8ba055f845d"],
    ["exec", "--json", "resume", "abc", "next step", "-c", "x=1"],
    ["exec", "resume", "--last"], ["exec", "resume", "--last", "go on"],
    ["exec", "resume", "--last", "--all", "-m", "o3"], ["exec", "resume", "abc", "--all"],
    ["exec", "-m", "resume", "hi"],  # `resume` as -m's value: a plain prompt
    ["exec", "--json", "fork", "abc"], ["exec", "fork", "abc", "--json", "branch off"],
    ["-c", "root=1", "e", "resume", "-", "--yolo"],
]

DECLINED: list[list[str]] = [
    ["exec", "--help"], ["exec", "-h"], ["exec", "--version"], ["exec", "-V"],
    ["exec", "--print-json-schema"],
    ["exec", "review", "--uncommitted"], ["exec", "--json", "review"],
    ["exec", "resume"], ["exec", "fork", "--json"], ["exec", "fork", "--last"],
    ["exec", "--last", "resume"], ["exec", "resume", "--last", "abc", "hi"],
    ["exec", "resume", "a", "b", "c"], ["exec", "hi", "resume"], ["exec", "resume", "--help"],
    ["exec", "--", "resume"], ["exec", "--bogus", "hi"], ["exec", "-s", "bogus", "hi"],
    ["exec", "--json=1", "hi"], ["exec", "one", "two"], ["exec", "--full-auto", "--yolo", "hi"],
    ["exec", "-m"], ["exec", "-m", "-x", "hi"], ["exec", "-C", "", "hi"], ["exec", "--color", "purple"],
    ["--config=x=1", "exec", "hi"], ["-c"], ["-c", "a=1"], ["-c", "a=1", "login"], ["exec-other"],
]


class _Launched(Exception):
    def __init__(self, values: dict[str, Any], root: list[str], session: Any, review: Any) -> None:
        super().__init__("launched")
        self.values, self.root, self.session, self.review = values, root, session, review


def _through_click(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> _Launched:
    from pycodex.cli.main import cli

    def capture(values: Any, *, root_overrides: Any, session: Any = None, review: Any = None) -> None:
        raise _Launched(dict(values), list(root_overrides), session, review)

    monkeypatch.setattr(exec_launch, "launch_exec", capture)
    with pytest.raises(_Launched) as caught:
        cli.main(args=argv, prog_name="pycodex", standalone_mode=False)
    return caught.value


@pytest.mark.parametrize("argv", ACCEPTED, ids=" ".join)
def test_fast_parser_agrees_with_click(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = parse_exec_args(argv)
    assert parsed is not None, "the fast path should run this common form"
    root, values, session = parsed
    launched = _through_click(argv, monkeypatch)
    assert launched.review is None
    assert session == launched.session
    assert root == launched.root
    assert values == launched.values


@pytest.mark.parametrize("argv", DECLINED, ids=" ".join)
def test_fast_parser_leaves_the_rest_to_click(argv: list[str]) -> None:
    assert parse_exec_args(argv) is None


def test_values_are_typed_as_click_types_them() -> None:
    parsed = parse_exec_args(["exec", "-C", "/w", "-i", "a.png", "-i", "b.png", "-c", "k=v", "hi"])
    assert parsed is not None
    _, values, _ = parsed
    assert values["cwd"] == Path("/w")
    assert values["images"] == (Path("a.png"), Path("b.png"))
    assert values["config_overrides"] == ("k=v",)
    assert values["prompt"] == "hi" and values["color"] == "auto" and values["json_mode"] is False


def test_the_run_has_the_gc_on_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path loads the engine with the cyclic GC off (start-up); the run itself must
    collect as usual, or a long `exec` would never free a reference cycle."""
    import gc

    import pycodex.core
    from pycodex.cli import entry
    from pycodex.frontends.exec import run as run_module

    seen: dict[str, bool] = {}

    def fake_run(args: Any) -> int:
        seen["gc"] = gc.isenabled()
        return 0

    monkeypatch.setattr(pycodex.core, "prestart_processes", lambda: None)
    monkeypatch.setattr(run_module, "run_exec", fake_run)
    try:
        with pytest.raises(SystemExit) as done:
            entry.main(["exec", "--skip-git-repo-check", "hi"])
    finally:
        gc.unfreeze()
        gc.enable()
    assert done.value.code == 0
    assert seen == {"gc": True}


def test_the_app_server_runs_with_the_gc_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same for `pycodex app-server` (loaded with the GC off, served with it on)."""
    import gc

    from pycodex.cli import entry
    from pycodex.frontends.app_server import server as server_module

    seen: dict[str, bool] = {}

    def fake_run(target: Any, env: Any, **kwargs: Any) -> int:
        seen["gc"] = gc.isenabled()
        return 0

    monkeypatch.setattr(server_module, "run", fake_run)
    try:
        assert entry.main(["app-server"]) == 0
    finally:
        gc.unfreeze()
        gc.enable()
    assert seen == {"gc": True}
