"""The `apply_patch` program's start-up budget, guarded structurally (not by wall time):
applying a patch imports pycodex's engine and nothing else, so typing, dataclasses,
pathlib, re, contextlib and friends (~35 ms together, more than the interpreter's own
start) cannot creep back unnoticed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Run in a fresh interpreter: what this test process has imported says nothing.
PROBE = """
import json, sys
before = set(sys.modules)
from pycodex.cli.apply_patch_entry import run
code = run([sys.argv[1]])
new = sorted(set(sys.modules) - before)
print(json.dumps(new), file=sys.stderr)
sys.exit(code)
"""

PATCHES = {
    "success": (
        "*** Begin Patch\n*** Add File: a.txt\n+x\n*** Update File: old.txt\n@@\n keep\n-x\n+y\n"
        "*** Update File: crlf.txt\n@@\n-a\n+b\n*** Delete File: gone.txt\n*** End Patch"
    ),
    "verification_error": "*** Begin Patch\n*** Update File: old.txt\n@@\n-nowhere\n+y\n*** End Patch",
    "parse_error": "*** Begin Patch\n*** Frobnicate File: x\n*** End Patch",
}


@pytest.mark.parametrize("case", sorted(PATCHES))
def test_applying_a_patch_imports_only_the_engine(case: str, tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("keep\nx\n")
    (tmp_path / "crlf.txt").write_bytes(b"a\r\nz\r\n")
    (tmp_path / "gone.txt").write_text("bye\n")
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, PATCHES[case]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == (0 if case == "success" else 1), proc.stderr
    imported = json.loads(proc.stderr.splitlines()[-1])
    outside = [m for m in imported if m != "__future__" and not m.startswith("pycodex.")]
    assert [m for m in outside if m != "pycodex"] == []
    if case == "success":
        assert (tmp_path / "crlf.txt").read_bytes() == b"b\r\nz\r\n"
