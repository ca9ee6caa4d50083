"""Exec policy rules files: safe parsing, clear errors, strictest-wins evaluation, amending."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pycodex.safety.exec_policy import (
    Decision,
    ExecPolicyManager,
    RulesError,
    append_allow_rule,
    load_exec_policy,
    parse_rules,
    rules_from,
)

VALID = """
# Team rules.
prefix_rule(
    pattern = ["git", ["push", "pull"]],
    decision = "prompt",
    justification = "talks to the remote",
    match = [["git", "push"], "git pull origin main"],
    not_match = ["git status", ["git"]],
)
prefix_rule(pattern=["rm"], decision="forbidden", justification="use trash instead",)
prefix_rule(pattern=["cargo", "test"])  # decision defaults to allow
host_executable(name="git", paths=["/usr/bin/git"])
"""


def test_valid_file_parses() -> None:
    rules = parse_rules(VALID, "team.rules")
    assert [r.decision for r in rules] == [Decision.PROMPT, Decision.FORBIDDEN, Decision.ALLOW]
    assert rules[0].pattern == (("git",), ("push", "pull"))
    assert rules[0].justification == "talks to the remote"
    assert rules[0].source == "team.rules:3"


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("prefix_rule(pattern=['a']\n", 1, "syntax error"),
        ("\n\nimport os\n", 3, "only prefix_rule"),
        ("x = 1\n", 1, "only prefix_rule"),
        ("prefix_rule(pattern=['a'])\nos.system('x')\n", 2, "only prefix_rule"),
        ("prefix_rule(['a'])\n", 1, "keyword arguments only"),
        ("prefix_rule(pattern=[])\n", 1, "non-empty list"),
        ("prefix_rule(pattern='git')\n", 1, "non-empty list"),
        ("prefix_rule(pattern=[1])\n", 1, "string or a list"),
        ("prefix_rule(pattern=['a'], decision='maybe')\n", 1, "allow, prompt or forbidden"),
        ("prefix_rule(pattern=['a'], colour='red')\n", 1, "unexpected argument `colour`"),
        ("prefix_rule(pattern=['a'], pattern=['b'])\n", 1, "duplicate argument"),
        ("prefix_rule(**{'pattern': ['a']})\n", 1, "**kwargs"),
        ("prefix_rule(\n  pattern=['a'],\n  justification=open('/etc/passwd').read(),\n)\n", 3, "literals only"),
        ("prefix_rule(pattern=['git', 'push'], match=['git pull'])\n", 1, "does not match its `match` example"),
        ("prefix_rule(pattern=['git'], not_match=[['git', 'x']])\n", 1, "matches its `not_match` example"),
        ("prefix_rule(pattern=[x for x in 'ab'])\n", 1, "literals only"),
        ("prefix_rule(pattern=['a'])\0\n", 1, "null bytes"),
    ],
)
def test_malformed_rules_name_file_and_line(text: str, line: int, needle: str) -> None:
    with pytest.raises(RulesError) as info:
        parse_rules(text, "/home/u/.pycodex/rules/bad.rules")
    message = str(info.value)
    assert message.startswith(f"/home/u/.pycodex/rules/bad.rules:{line}: "), message
    assert needle in message
    assert "\n" not in message


def test_rules_files_are_never_executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rules = tmp_path / "home" / "rules"
    rules.mkdir(parents=True)
    pwned = tmp_path / "pwned"
    attacks = [
        f"__import__('os').system('touch {pwned}')\n",
        f"prefix_rule(pattern=[__import__('os').system('touch {pwned}')])\n",
        f"prefix_rule(pattern=['a'], justification=exec(\"open('{pwned}','w')\"))\n",
        f"prefix_rule(pattern=['a'], decision=eval(\"open('{pwned}','w') and 'allow'\"))\n",
    ]
    for i, text in enumerate(attacks):
        (rules / f"{i}.rules").write_text(text)
    (rules / "ok.rules").write_text('prefix_rule(pattern=["ls"])\n')
    policy, warnings = load_exec_policy(tmp_path / "home")
    assert not pwned.exists()
    assert len(warnings) == len(attacks)
    assert all(w.startswith("ignoring rules file: ") for w in warnings)
    # The good file still counts.
    assert [r.pattern for r in policy.rules] == [(("ls",),)]


def test_missing_rules_dir_is_no_rules(tmp_path: Path) -> None:
    policy, warnings = load_exec_policy(tmp_path)
    assert policy.rules == [] and warnings == []


def test_strictest_decision_wins() -> None:
    policy = rules_from({
        "a.rules": 'prefix_rule(pattern=["git"], decision="allow")\n'
                   'prefix_rule(pattern=["git", "push"], decision="prompt")\n'
                   'prefix_rule(pattern=["git", "push", "--force"], decision="forbidden")\n',
    })
    assert policy.evaluate(["git", "status"]).decision is Decision.ALLOW
    assert policy.evaluate(["git", "push", "origin"]).decision is Decision.PROMPT
    assert policy.evaluate(["git", "push", "--force"]).decision is Decision.FORBIDDEN
    assert policy.evaluate(["/usr/bin/git", "push", "--force"]).decision is Decision.FORBIDDEN
    assert policy.evaluate(["hg", "push"]).decision is None


def test_shell_scripts_are_judged_by_their_commands() -> None:
    policy = rules_from({
        "a.rules": 'prefix_rule(pattern=["npm", "test"])\n'
                   'prefix_rule(pattern=["rm"], decision="forbidden")\n',
    })
    # Every command allowed or known-safe: allow.
    assert policy.evaluate(["bash", "-lc", "npm test && ls"]).decision is Decision.ALLOW
    # An unmatched, unsafe command: no opinion.
    assert policy.evaluate(["bash", "-lc", "npm test && make"]).decision is None
    # A forbidden command anywhere, even nested in a substitution or subshell.
    assert policy.evaluate(["bash", "-lc", "npm test; rm -rf x"]).decision is Decision.FORBIDDEN
    assert policy.evaluate(["bash", "-lc", "echo $(rm -rf x)"]).decision is Decision.FORBIDDEN
    assert policy.evaluate(["bash", "-lc", "(cd x && rm y) > log"]).decision is Decision.FORBIDDEN
    # A non-plain script never gets `allow` from its parts.
    assert policy.evaluate(["bash", "-lc", "npm test > log"]).decision is None


def test_append_allow_rule_is_atomic_and_loadable(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "default.rules").write_text('prefix_rule(pattern=["ls"])')  # no final newline
    path = append_allow_rule(tmp_path, ["git", "push", 'we"ird'])
    assert path == rules / "default.rules"
    text = path.read_text()
    assert text == (
        'prefix_rule(pattern=["ls"])\n'
        'prefix_rule(pattern=["git", "push", "we\\"ird"], decision="allow")\n'
    )
    policy, warnings = load_exec_policy(tmp_path)
    assert warnings == []
    assert policy.evaluate(["git", "push", 'we"ird']).decision is Decision.ALLOW
    assert sorted(p.name for p in rules.iterdir()) == ["default.rules"]  # no temp files left


def test_concurrent_appends_lose_nothing(tmp_path: Path) -> None:
    threads = [threading.Thread(target=append_allow_rule, args=(tmp_path, ["cmd", str(i)])) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    policy, _ = load_exec_policy(tmp_path)
    assert len(policy.rules) == 20


def test_manager_remembers_in_memory_and_on_disk(tmp_path: Path) -> None:
    manager = ExecPolicyManager.load(tmp_path)
    assert manager.evaluate(["make", "test"]).decision is None
    manager.remember_allow(["make", "test"])
    assert manager.evaluate(["make", "test", "-j4"]).decision is Decision.ALLOW
    assert ExecPolicyManager.load(tmp_path).evaluate(["make", "test"]).decision is Decision.ALLOW
    with pytest.raises(ValueError, match="non-empty"):
        append_allow_rule(tmp_path, [])
