"""The bubblewrap command line for a policy (codex parity, plus ``--disable-userns``).

Mount order matters: the whole host read-only, a minimal ``/dev``, then every writable
root bound read-write (shallowest first), then every protected subpath bound read-only
again on top (so a protected path inside a nested root stays protected). Protected names
that do not exist yet (``.codex`` in the cwd) are created as empty placeholders by the
shim's outer stage before bwrap runs, and removed when the sandbox is gone; bwrap itself
never creates anything in the user's workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pycodex.sandbox.policy import WritableRoot


def bwrap_argv(
    *,
    bwrap: str,
    roots: Sequence[WritableRoot],
    cwd: Path,
    network: bool,
    disable_userns: bool,
    inner: Sequence[str],
) -> list[str]:
    """`bwrap ... -- INNER...`; `inner` is the shim invocation that ends with the command."""
    argv = [bwrap, "--new-session", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev"]
    ordered = sorted(roots, key=lambda r: (len(r.root.parts), str(r.root)))
    for root in ordered:
        argv += ["--bind", str(root.root), str(root.root)]
    protected: list[Path] = []
    for root in ordered:
        protected.extend(p for p in root.read_only_subpaths if p not in protected)
    for path in sorted(protected, key=lambda p: (len(p.parts), str(p))):
        argv += ["--ro-bind", str(path), str(path)]
    argv += ["--unshare-user", "--unshare-pid", "--unshare-ipc"]
    if not network:
        argv.append("--unshare-net")
    argv += ["--proc", "/proc", "--cap-drop", "ALL"]
    if disable_userns:
        argv.append("--disable-userns")
    argv += ["--chdir", str(cwd), "--", *inner]
    return argv
