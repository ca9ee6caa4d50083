#!/usr/bin/env python3
"""Create or refresh the project's virtualenv (.venv) using only the standard library.

Called by `./pycodex` and `make` before anything else, so a fresh machine with just
python3 (>= 3.11), git and make can run pycodex and its tests. It is a no-op (a stat and
a hash) when the virtualenv is already up to date with pyproject.toml.

Debian's python3 ships without ensurepip unless python3-venv is installed; in that case
the venv is made --without-pip and pip is brought in from the system pip or, failing
that, from PyPI's pip wheel (a wheel of pip can run itself).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("PYCODEX_VENV", ROOT / ".venv"))
STAMP = VENV / ".pycodex-bootstrap"


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _wanted(dev: bool) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return f"{digest} dev={int(dev)}"


def _up_to_date(dev: bool) -> bool:
    if not _venv_python().exists() or not STAMP.exists():
        return False
    have = STAMP.read_text().split()
    want = _wanted(dev).split()
    # A venv with dev extras also serves a run that does not need them.
    return have[0] == want[0] and (have[1] == want[1] or have[1] == "dev=1")


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True)


def _has_pip() -> bool:
    return subprocess.run(
        [str(_venv_python()), "-m", "pip", "--version"], capture_output=True
    ).returncode == 0


def _bring_pip() -> None:
    system_pip = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True
    ).returncode == 0
    if system_pip:
        r = subprocess.run([sys.executable, "-m", "pip", "--python", str(_venv_python()),
                            "install", "-q", "pip"])
        if r.returncode == 0 and _has_pip():
            return
    with urllib.request.urlopen("https://pypi.org/pypi/pip/json", timeout=60) as resp:
        meta = json.load(resp)
    wheel = next(u for u in meta["urls"] if u["filename"].endswith(".whl"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / wheel["filename"]
        with urllib.request.urlopen(wheel["url"], timeout=120) as resp:
            path.write_bytes(resp.read())
        _run([str(_venv_python()), f"{path}/pip", "install", "-q", str(path)])


def ensure(dev: bool) -> Path:
    if _up_to_date(dev):
        return _venv_python()
    print(f"pycodex: preparing virtualenv in {VENV} ...", file=sys.stderr)
    if not _venv_python().exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(VENV)],
                              capture_output=True, text=True)
        if made.returncode != 0:
            _run([sys.executable, "-m", "venv", "--without-pip", str(VENV)])
    if not _has_pip():
        _bring_pip()
    target = f"{ROOT}[dev]" if dev else str(ROOT)
    _run([str(_venv_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check",
          "-e", target])
    STAMP.write_text(_wanted(dev) + "\n")
    return _venv_python()


def main() -> int:
    if sys.version_info < (3, 11):
        print(f"pycodex needs Python >= 3.11 (this is {sys.version.split()[0]})", file=sys.stderr)
        return 1
    dev = "--dev" in sys.argv[1:]
    try:
        ensure(dev)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"pycodex: could not prepare the virtualenv: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
