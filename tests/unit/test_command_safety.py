"""Known-safe commands: read-only programs and shell scripts made only of them."""

from __future__ import annotations

import pytest

from pycodex.safety.command_safety import is_known_safe_command
from pycodex.safety.shell_parse import Word, all_command_words, plain_commands


def bash(script: str) -> list[str]:
    return ["bash", "-lc", script]


SAFE: list[list[str]] = [
    ["ls"],
    ["ls", "-la", "src"],
    ["cat", "README.md"],
    ["/bin/cat", "x"],
    ["/usr/bin/head", "-n", "5", "x"],
    ["wc", "-l", "x"],
    ["grep", "-rn", "TODO", "."],
    ["rg", "-n", "foo", "-g", "*.py"],
    ["find", ".", "-name", "*.py", "-type", "f"],
    ["git", "status"],
    ["git", "log", "--oneline", "-5"],
    ["git", "diff", "HEAD~1"],
    ["git", "show", "HEAD"],
    ["git", "branch", "--show-current"],
    ["git", "branch", "-a"],
    ["sed", "-n", "10p", "f.txt"],
    ["sed", "-n", "1,20p", "f.txt"],
    ["pwd"], ["echo", "hi"], ["true"], ["which", "python"], ["nl", "-ba", "x"],
    ["cut", "-d:", "-f1", "/etc/passwd"], ["sort", "-u", "x"], ["uniq", "-c", "x"],
    ["tr", "a-z", "A-Z"], ["file", "x"], ["stat", "x"], ["du", "-sh", "."], ["df", "-h"],
    bash("ls"),
    bash("ls -la && pwd"),
    bash("cat a.txt | grep foo | wc -l"),
    bash("git status; git diff"),
    bash("grep -rn 'x' . || true"),
    bash('echo "hello world" && echo \'single\''),
    bash("sed -n '1,5p' file.txt"),
    bash("ls 2>/dev/null"),
    bash("ls missing 2>&1 | head"),
    bash("wc -l < input.txt"),
    bash("cat *.py"),  # globs are fine for programs whose every argument is harmless
    bash("ls\npwd # just looking"),
    ["sh", "-c", "ls"],
    ["zsh", "-lc", "ls && pwd"],
    ["/bin/bash", "-c", "ls"],
]

UNSAFE: list[list[str]] = [
    [],
    ["rm", "-rf", "x"],
    ["python", "-c", "print(1)"],
    ["./ls"],  # a program in the workspace could be anything
    ["/tmp/evil/ls"],
    ["find", ".", "-exec", "rm", "{}", ";"],
    ["find", ".", "-delete"],
    ["find", ".", "-fprint", "/etc/x"],
    ["rg", "--pre", "sh", "x"],
    ["rg", "--pre=sh", "x"],
    ["rg", "--search-zip", "x"],
    ["rg", "-z", "x"],
    ["rg", "-nz", "x"],
    ["git", "-c", "core.pager=evil", "log"],
    ["git", "-C", "/elsewhere", "status"],
    ["git", "push"],
    ["git", "commit", "-m", "x"],
    ["git", "branch", "new-branch"],
    ["git", "branch", "-D", "main"],
    ["git", "diff", "--output=/tmp/x"],
    ["git", "log", "--ext-diff"],
    ["sed", "-i", "s/a/b/", "f"],
    ["sed", "-n", "1p;w out", "f"],
    ["sort", "-o", "out", "in"],
    ["sort", "--output=out", "in"],
    ["uniq", "in.txt", "out.txt"],
    ["base64", "-o", "out", "in"],
    ["file", "-C", "-m", "magic"],
    ["tree", "-o", "out"],
    ["date", "-s", "2020-01-01"],
    bash("ls && rm -rf x"),
    bash("ls; rm x"),
    bash("ls | sh"),
    bash("echo $(rm x)"),
    bash("echo `rm x`"),
    bash("echo $HOME"),
    bash('echo "hi $USER"'),
    bash("ls > out.txt"),
    bash("ls >> out.txt"),
    bash("ls >& out.txt"),
    bash("cat <<EOF\nhi\nEOF"),
    bash("(ls)"),
    bash("ls || (pwd && echo hi)"),
    bash("{ ls; }"),
    bash("ls &"),
    bash("FOO=bar ls"),
    bash("$CMD x"),
    bash("if true; then ls; fi"),
    bash("for f in *; do cat $f; done"),
    bash("find . -name '*.py' -exec rm {} \\;"),
    bash("find . *"),  # a file named -delete would be expanded into the command
    bash("git status && git push"),
    bash("ls &&"),  # parse error
    bash("ls 'unterminated"),
    bash("echo $'\\x41'"),
    bash("<(ls)"),
    ["bash", "-lc", "ls", "extra"],
    ["bash", "-x", "ls"],
    ["bash", "-lc", "bash -lc ls"],
    ["python3", "-lc", "ls"],
]


@pytest.mark.parametrize("argv", SAFE, ids=lambda a: " ".join(a) or "<empty>")
def test_known_safe(argv: list[str]) -> None:
    assert is_known_safe_command(argv)


@pytest.mark.parametrize("argv", UNSAFE, ids=lambda a: " ".join(a) or "<empty>")
def test_not_known_safe(argv: list[str]) -> None:
    assert not is_known_safe_command(argv)


def test_plain_commands_unquote_and_split_in_source_order() -> None:
    cmds = plain_commands("ls -1 && echo \"a \\\"b\\\"\" 'c d' x\\ y; rg -g\"*.py\" foo | wc")
    assert cmds is not None
    assert [[w.text for w in c] for c in cmds] == [
        ["ls", "-1"], ["echo", 'a "b"', "c d", "x y"], ["rg", "-g*.py", "foo"], ["wc"],
    ]
    # Quoted globs are literal; unquoted ones are not.
    assert cmds[2][1] == Word("-g*.py", literal=True)
    unquoted = plain_commands("ls *.py")
    assert unquoted is not None and unquoted[0][1] == Word("*.py", literal=False)


def test_all_command_words_sees_nested_commands() -> None:
    words = all_command_words("echo $(rm -rf x) && (git push) | cat")
    assert ["rm", "-rf", "x"] in words and ["git", "push"] in words
