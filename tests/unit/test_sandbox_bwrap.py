"""The bubblewrap argv (codex parity) and the launcher's wrapping of it."""

from __future__ import annotations

from pathlib import Path

from pycodex.sandbox.linux_bwrap import bwrap_argv
from pycodex.sandbox.policy import WritableRoot


def _pairs(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_mount_order_and_namespaces() -> None:
    ws = Path("/w/ws")
    roots = [
        WritableRoot(Path("/w/ws/sub"), (Path("/w/ws/sub/.git"),)),
        WritableRoot(ws, (ws / ".git", ws / ".codex")),
    ]
    argv = bwrap_argv(bwrap="/usr/bin/bwrap", roots=roots, cwd=ws, network=False,
                      disable_userns=True, inner=["shim", "--", "ls"])
    assert argv[:8] == ["/usr/bin/bwrap", "--new-session", "--die-with-parent", "--ro-bind",
                        "/", "/", "--dev", "/dev"]
    assert _pairs(argv, "--bind") == ["/w/ws", "/w/ws/sub"]  # shallowest first
    ro = _pairs(argv, "--ro-bind")
    assert ro[0] == "/"
    assert ro[1:] == ["/w/ws/.codex", "/w/ws/.git", "/w/ws/sub/.git"]  # shallowest first
    # every read-only bind comes after every writable bind
    last_bind = max(i for i, a in enumerate(argv) if a == "--bind")
    first_ro = min(i for i, a in enumerate(argv) if a == "--ro-bind" and argv[i + 1] != "/")
    assert first_ro > last_bind
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-net",
                 "--disable-userns"):
        assert flag in argv
    assert _pairs(argv, "--cap-drop") == ["ALL"]
    assert _pairs(argv, "--proc") == ["/proc"]
    assert _pairs(argv, "--chdir") == ["/w/ws"]
    sep = argv.index("--")
    assert argv[sep + 1 :] == ["shim", "--", "ls"]
    assert all(a != "--bind" for a in argv[sep:])


def test_network_and_disable_userns_are_optional() -> None:
    argv = bwrap_argv(bwrap="bwrap", roots=[], cwd=Path("/"), network=True,
                      disable_userns=False, inner=["true"])
    assert "--unshare-net" not in argv
    assert "--disable-userns" not in argv
    assert "--cap-drop" in argv and "--unshare-user" in argv
    assert "--bind" not in argv
