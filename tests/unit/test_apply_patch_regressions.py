"""Cases where pycodex once differed from Codex 0.163, each with the outcome recorded from
the real binary (tests/unit/apply_patch_regressions.jsonl, `{cwd}` standing for the
working directory), replayed through the installed `apply_patch` program: no Codex needed.

One case per class the differential fuzzer found (tests/e2e/test_apply_patch_differential
.py), and any case it saves later: append the JSON line it wrote. The atomic deviation
holds here too: where Codex failed, the tree must be left as it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.patch_fuzz import decode_tree, read_tree, write_tree

CASES_FILE = Path(__file__).with_name("apply_patch_regressions.jsonl")
CASES = [json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_replays_as_codex_did(case: dict[str, Any], tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    before = decode_tree(case["files"])
    write_tree(cwd, before)
    program = Path(sys.executable).parent / "apply_patch"
    proc = subprocess.run(
        [str(program), case["patch"]], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    expected = [case["rc"], case["stdout"], case["stderr"].replace("{cwd}", str(cwd))]
    assert [proc.returncode, proc.stdout, proc.stderr] == expected
    assert read_tree(cwd) == (decode_tree(case["tree_after"]) if case["rc"] == 0 else before)
