"""What this machine can do for sandboxing: probed once per process and cached.

The probe runs helper processes (up to seconds): callers on an event loop run it in a worker
thread (`asyncio.to_thread(prepare_command, ...)`). Several threads asking at once (two
engine threads' first commands) wait for one probe rather than each running its own.

Nothing here confines anything. The in-process checks only ask the kernel questions that
change nothing (the Landlock ABI version, whether a seccomp action is available); the user
namespace and bubblewrap checks run short-lived child processes. The launcher then runs a
real preflight of each backend on `true` before trusting it.
"""

from __future__ import annotations

import ctypes
import os
import platform
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

PROBE_TIMEOUT_S = 10.0
SHIM_PATH = Path(__file__).resolve().with_name("_shim.py")

_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_SECCOMP = {"x86_64": 317, "aarch64": 277}
_SECCOMP_GET_ACTION_AVAIL = 2
_SECCOMP_RET_ERRNO = 0x00050000
_BWRAP_WARNINGS = (
    "loopback: Failed RTM_NEWADDR",
    "Failed RTM_NEWLINK",
    "setting up uid map: Permission denied",
    "No permissions to create new namespace",
    "Creating new namespace failed",
)


@dataclass(frozen=True)
class Capabilities:
    system: str  # platform.system(): "Linux", "Darwin", ...
    arch: str  # x86_64 | aarch64 | ...
    python: str  # canonical interpreter used to run the shim
    landlock_abi: int  # 0 = unavailable
    landlock_error: str | None
    seccomp: bool
    seccomp_error: str | None
    userns: bool
    userns_error: str | None
    bwrap_path: str | None
    bwrap_version: str | None
    bwrap_ok: bool
    bwrap_error: str | None
    bwrap_disable_userns: bool

    @property
    def seccomp_arch_supported(self) -> bool:
        return self.arch in _SYS_SECCOMP


_probe_lock = threading.Lock()
_probed: Capabilities | None = None


def probe() -> Capabilities:
    """The cached capability probe of this process (see :func:`reset` for tests). Blocking
    the first time: on an event loop, call it from a worker thread."""
    global _probed
    caps = _probed
    if caps is not None:
        return caps
    with _probe_lock:
        if _probed is None:
            _probed = _probe()
        return _probed


def _probe() -> Capabilities:
    system = platform.system()
    arch = _machine()
    python = os.path.realpath(sys.executable)
    if system != "Linux":
        return Capabilities(system, arch, python, 0, "not Linux", False, "not Linux", False,
                            "not Linux", None, None, False, "not Linux", False)
    abi, ll_err = _landlock_abi()
    sc_ok, sc_err = _seccomp_available(arch)
    ns_ok, ns_err = _userns_available(python)
    path = find_bwrap()
    version: str | None = None
    bw_ok = False
    bw_err: str | None = "bubblewrap is not installed (apt-get install bubblewrap)"
    disable_userns = False
    if path is not None:
        version = _bwrap_version(path)
        disable_userns = _version_tuple(version) >= (0, 8, 0)
        bw_ok, bw_err = _bwrap_works(path)
    return Capabilities(system, arch, python, abi, ll_err, sc_ok, sc_err, ns_ok, ns_err,
                        path, version, bw_ok, bw_err, disable_userns)


def reset() -> None:
    global _probed
    with _probe_lock:
        _probed = None


def _machine() -> str:
    arch = platform.machine()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(arch.lower(), arch)


def _libc() -> ctypes.CDLL:
    lib = ctypes.CDLL(None, use_errno=True)
    lib.syscall.restype = ctypes.c_long
    return lib


def _landlock_abi() -> tuple[int, str | None]:
    try:
        rc = _libc().syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                             ctypes.c_uint32(1))
    except (OSError, AttributeError) as exc:  # pragma: no cover - no libc
        return 0, str(exc)
    if rc > 0:
        return int(rc), None
    err = ctypes.get_errno()
    reason = {
        38: "the kernel has no Landlock support (ENOSYS)",
        95: "Landlock is disabled at boot (EOPNOTSUPP; add `landlock` to lsm=)",
    }.get(err, f"landlock_create_ruleset failed: {os.strerror(err)}")
    return 0, reason


def _seccomp_available(arch: str) -> tuple[bool, str | None]:
    nr = _SYS_SECCOMP.get(arch)
    if nr is None:
        return False, f"no seccomp syscall table for {arch}"
    action = ctypes.c_uint32(_SECCOMP_RET_ERRNO)
    rc = _libc().syscall(nr, ctypes.c_uint(_SECCOMP_GET_ACTION_AVAIL), ctypes.c_uint(0),
                         ctypes.byref(action))
    if rc == 0:
        return True, None
    return False, f"seccomp filters are unavailable ({os.strerror(ctypes.get_errno())})"


def _run(argv: list[str]) -> tuple[int, str]:
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=PROBE_TIMEOUT_S, cwd="/",
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return -1, str(exc)
    return done.returncode, done.stderr.decode(errors="replace").strip()


def _userns_available(python: str) -> tuple[bool, str | None]:
    rc, err = _run([python, "-I", "-S", str(SHIM_PATH), "--probe-userns"])
    if rc == 0:
        return True, None
    return False, _last_line(err) or f"user namespace probe exited {rc}"


def find_bwrap(exclude: tuple[Path, ...] = ()) -> str | None:
    """The first `bwrap` on PATH that is not under the cwd or any of `exclude`.

    Relative PATH entries are ignored: a bwrap planted in the workspace must never run
    unconfined with the agent's privileges.
    """
    try:
        here = Path(os.path.realpath(os.getcwd()))
    except OSError:
        here = None
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if os.path.isabs(d)]
    for extra in ("/usr/bin", "/bin", "/usr/local/bin"):
        if extra not in dirs:
            dirs.append(extra)
    for directory in dirs:
        candidate = os.path.join(directory, "bwrap")
        if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            continue
        real = Path(os.path.realpath(candidate))
        banned = ([here] if here is not None else []) + list(exclude)
        if any(real == b or b in real.parents for b in banned if b != Path("/")):
            continue
        return str(real)
    return None


def _bwrap_version(path: str) -> str | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, timeout=PROBE_TIMEOUT_S,
                             check=False).stdout.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", out)
    return match.group(1) if match else None


def _version_tuple(version: str | None) -> tuple[int, ...]:
    if not version:
        return (0,)
    return tuple(int(part) for part in version.split("."))


def _bwrap_works(path: str) -> tuple[bool, str | None]:
    rc, err = _run([path, "--unshare-user", "--unshare-net", "--ro-bind", "/", "/", "true"])
    if rc == 0:
        for marker in _BWRAP_WARNINGS:
            if marker in err:
                return False, f"bwrap: {_last_line(err)}"
        return True, None
    return False, f"bwrap: {_last_line(err) or f'exited {rc}'}"


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""
