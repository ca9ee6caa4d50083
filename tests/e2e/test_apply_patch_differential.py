"""apply_patch, differential: generated trees and patches (tests/support/patch_fuzz.py) go
through the reference Codex binary (`codex --codex-run-as-apply-patch PATCH`) and through
pycodex's `apply_patch` program; exit code, stdout, stderr and the resulting tree must be
identical, except that a failing patch leaves pycodex's tree untouched (atomicity).

A fresh seed each run, printed; replay one with PYCODEX_FUZZ_SEED=<seed>, change the
number of cases with PYCODEX_FUZZ_CASES. A mismatch is saved as JSON (Codex's outcome
included) to $PYCODEX_FUZZ_SAVE or the test's temporary directory: add its line to
tests/unit/apply_patch_regressions.jsonl and it becomes a regression test that needs no
Codex. Needs the reference binary ($CODEX_BIN or `codex` on PATH; `.ci/run` installs
it); skips and says why otherwise.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

import pytest

from tests.support.patch_fuzz import case_record, find_codex, judge, make_case, run

pytestmark = pytest.mark.e2e

CASES = int(os.environ.get("PYCODEX_FUZZ_CASES", "250"))
# CI runs one fixed seed (a landing must not depend on luck); elsewhere a fresh one each run
# explores. Seed 62240187 found a stray-byte UTF-8 mismatch still to be fixed.
CI_SEED = 20261204
SEED = int(
    os.environ.get("PYCODEX_FUZZ_SEED")
    or (CI_SEED if os.environ.get("CI") else random.SystemRandom().randrange(2**31))
)
MAX_REPORTED = 5


def _apply_patch_program() -> str:
    program = Path(sys.executable).parent / "apply_patch"
    if not program.exists():
        raise RuntimeError("`apply_patch` is not installed: pip install --no-deps -e .")
    return str(program)


def test_generated_patches_match_codex(tmp_path: Path) -> None:
    codex = find_codex()
    if codex is None:
        pytest.skip(
            "reference Codex not installed: set CODEX_BIN or put `codex` on PATH "
            "(pip install openai-codex-cli-bin)"
        )
    save_dir = Path(os.environ.get("PYCODEX_FUZZ_SAVE") or tmp_path / "mismatches")
    print(f"apply_patch differential: seed {SEED}, {CASES} cases (PYCODEX_FUZZ_SEED={SEED})")
    cwd = tmp_path / "case" / "cwd"
    failures: list[str] = []
    started = time.monotonic()
    for index in range(CASES):
        case = make_case(SEED, index)
        reference = run([str(codex), "--codex-run-as-apply-patch"], cwd, case)
        ours = run([_apply_patch_program()], cwd, case)
        problem = judge(case, reference, ours)
        if problem is None:
            continue
        save_dir.mkdir(parents=True, exist_ok=True)
        saved = save_dir / f"{SEED}-{index}.json"
        saved.write_text(json.dumps(case_record(case, reference, cwd), ensure_ascii=False))
        failures.append(f"case {index} {case.notes} (saved: {saved}):\n{problem}")
        if len(failures) == MAX_REPORTED:
            break
    print(f"{index + 1} cases in {time.monotonic() - started:.1f} s")
    assert not failures, f"seed {SEED}: {len(failures)} mismatch(es)\n\n" + "\n\n".join(failures)
