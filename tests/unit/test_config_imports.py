"""Loading config stays light: no pydantic, no engine, no HTTP stack.

`import pycodex.config.config` and `load_config` are on every `pycodex exec` start-up;
which modules they pull in is the behaviour checked here (timings belong to benchmarks/).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

FORBIDDEN = (
    "pydantic",
    "pydantic_core",
    "httpx2",
    "pycodex.core",
    "pycodex.client",
    "pycodex.protocol",
)

# Loads a config with an unknown key and a bad provider table in a later layer, so the
# slow validation path (the walk that finds every issue) runs too, then lists modules.
SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pycodex.config.config import ConfigOverrides, load_config
    from pycodex.config.errors import ConfigError

    root = Path(sys.argv[1])
    env = {"HOME": str(root), "PYCODEX_HOME": str(root / "p"), "CODEX_HOME": str(root / "c")}
    config = load_config(ConfigOverrides(cwd=root, config_overrides=["zz=1"]), env=env)
    assert config.warnings, config.warnings
    try:
        load_config(ConfigOverrides(cwd=root, config_overrides=["model_providers.x.name=1"]), env=env)
    except ConfigError:
        pass
    else:
        raise AssertionError("a bad provider name was accepted")
    print("\\n".join(sorted(sys.modules)))
    """
)


def test_loading_config_imports_neither_pydantic_nor_the_engine(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    modules = set(result.stdout.split())
    # Not vacuous: the listing holds what loading config really imports.
    assert {"msgspec", "pycodex.config.config", "pycodex.config.validation"} <= modules
    forbidden = sorted(
        m for m in modules for bad in FORBIDDEN if m == bad or m.startswith(bad + ".")
    )
    assert forbidden == []
