"""Command display quoting: the Rust `shlex` crate's rules, which Codex uses."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycodex.protocol.command_text import join_command, quote_word


@pytest.mark.parametrize(
    ("word", "quoted"),
    [
        ("", "''"),
        ("foobar", "foobar"),
        ("a-b_c.d/e:f@g]+1", "a-b_c.d/e:f@g]+1"),
        ("foo bar", "'foo bar'"),
        ("'\"", "\"'\\\"\""),  # a single quote forces double quotes; `"` is escaped there
        ("echo hello-from-tool", "'echo hello-from-tool'"),
        ("it's", "\"it's\""),
        ("$HOME", "'$HOME'"),
        ("a\\b", '"a\\\\b"'),  # backslashes never go inside single quotes
        ("it's $HOME", "\"it's \"'$HOME'"),  # no one style fits: two chunks
        ("^x", "'^x'"),
        ("a^b", "a'^b'"),
        ("caf\u00e9", "'caf\u00e9'"),  # non-ASCII is quoted
        ("x=1", "'x=1'"),
    ],
)
def test_quote_word(word: str, quoted: str) -> None:
    assert quote_word(word) == quoted


def test_join_matches_what_codex_printed() -> None:
    # reference/exec/shell.stdout and the differential runs against codex 0.163.
    assert join_command(["/bin/bash", "-lc", "echo hello-from-tool"]) == (
        "/bin/bash -lc 'echo hello-from-tool'"
    )
    assert join_command(["/bin/bash", "-lc", "printf 'a\\xff\\xfeb\\x00c\\n'"]) == (
        "/bin/bash -lc \"printf 'a\\\\xff\\\\xfeb\\\\x00c\\\\n'\""
    )
    assert join_command(["/bin/bash", "-lc", "seq 1 200000"]) == "/bin/bash -lc 'seq 1 200000'"


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")), max_size=5))
def test_a_posix_shell_reads_back_the_same_words(words: list[str]) -> None:
    assert shlex.split(join_command(words)) == words
