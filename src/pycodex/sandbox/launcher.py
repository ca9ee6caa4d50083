"""The sandbox launcher: the only interface exec code uses.

``prepare_command(argv, policy=..., cwd=..., env=...)`` returns the argv and env to spawn
(plainly, e.g. ``asyncio.create_subprocess_exec(*cmd.argv, env=cmd.env, cwd=cwd)``; never
with ``preexec_fn``) or raises :class:`SandboxUnavailable`, in which case the command must
not run. The argv is a complete program (``PYTHON -I -S <shim> ARGS -- CMD``); pycodex's own
spawn path (`pycodex.process.spawn`) hands it to the process zygote, which recognises the
shim and runs the same shim code in a fork of itself rather than starting an interpreter:
same confinement, same exit codes. Backends on Linux, first that passes a real preflight
(cached per process):

1. ``bwrap``: bubblewrap (mount/pid/ipc/net/user namespaces, ``--cap-drop ALL``) with the
   shim inside for seccomp + Landlock;
2. ``userns``: the shim builds the user + mount (+ net) namespace itself, then seccomp +
   Landlock (no pid namespace: Landlock scoping keeps signals in);
3. ``landlock``: Landlock + seccomp only. ``.git`` cannot be kept read-only inside a
   writable root, so workspace-write **degrades to read-only**, with a warning;
4. nothing: :class:`SandboxUnavailable` (fail closed).

On macOS, ``/usr/bin/sandbox-exec`` with a generated Seatbelt profile.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import marshal
import os
import platform
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pycodex.protocol.policies import (
    DangerFullAccessPolicy,
    ExternalSandboxPolicy,
    SandboxPolicy,
    WorkspaceWritePolicy,
)
from pycodex.sandbox import capabilities, seatbelt
from pycodex.sandbox.denial import SANDBOX_SETUP_FAILED_EXIT
from pycodex.sandbox.linux_bwrap import bwrap_argv
from pycodex.sandbox.policy import WritableRoot, network_allowed, writable_roots

__all__ = [
    "BACKENDS",
    "SANDBOX_SETUP_FAILED_EXIT",
    "SandboxStatus",
    "SandboxUnavailable",
    "SandboxedCommand",
    "prepare_command",
    "sandbox_status",
]

BACKENDS = ("bwrap", "userns", "landlock")
# Forces one Linux backend for every command of this process (tests, benchmarks,
# diagnosing one backend): the same as prepare_command(backend=...).
BACKEND_ENV = "PYCODEX_SANDBOX_BACKEND"
DOCTOR_HINT = "run `pycodex sandbox doctor` for details"
FIX_HINT = (
    "fix: apt-get install bubblewrap, allow unprivileged user namespaces "
    "(sysctl kernel.apparmor_restrict_unprivileged_userns=0 or the bwrap AppArmor profile; "
    "in Docker --security-opt seccomp=unconfined), or choose --sandbox danger-full-access"
)
DEGRADED_WARNING = (
    "sandbox degraded: no user namespaces, using Landlock+seccomp only; .git cannot be "
    "protected, so workspace-write commands run read-only"
)


class SandboxUnavailable(Exception):
    """No sandbox can be set up here: the caller must not run the command."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"sandbox unavailable: {self.reason}; {DOCTOR_HINT} ({FIX_HINT})"


@dataclass(frozen=True)
class SandboxedCommand:
    argv: list[str]
    env: dict[str, str]
    backend: str  # "bwrap" | "userns" | "landlock" | "seatbelt" | "none"
    warnings: tuple[str, ...] = ()


@dataclass
class SandboxStatus:
    backend: str  # a backend name, "none" (no sandbox wanted) or "unavailable"
    available: bool
    degraded: bool = False
    warnings: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # backend -> why not used
    details: dict[str, str] = field(default_factory=dict)
    reason: str | None = None  # why no backend works

    def summary(self) -> str:
        """One status line, e.g. ``sandbox: bwrap 0.8.0 + seccomp + landlock v7``."""
        if self.backend == "none":
            return "sandbox: none (danger-full-access)"
        if not self.available:
            return f"✖ sandbox unavailable: {self.reason}. {FIX_HINT}"
        parts = {
            "bwrap": f"bwrap {self.details.get('bwrap_version', '?')} + seccomp",
            "userns": "user namespaces (pure Python) + seccomp",
            "landlock": "seccomp",
            "seatbelt": "seatbelt",
        }
        text = parts.get(self.backend, self.backend)
        abi = self.details.get("landlock_abi", "0")
        if self.backend != "seatbelt" and abi != "0":
            text += f" + landlock v{abi}"
        if self.degraded:
            return f"⚠ {self.warnings[0] if self.warnings else 'sandbox degraded'} ({text})"
        return f"sandbox: {text}"


# --- the shim invocation ---------------------------------------------------------------------


@functools.cache
def _shim_bytes() -> bytes:
    # Read once, before any sandboxed command had a chance to touch the file.
    return capabilities.SHIM_PATH.read_bytes()


def _shim_source() -> str:
    return _shim_bytes().decode()


def bytecode_path(source: bytes) -> Path:
    """Where the shim compiled from `source` is cached: beside the shim, named by a hash of
    the source (so a new version never runs an old file). pycodex's process zygote finds
    it by the same rule, to recognise an invocation of the shim."""
    digest = hashlib.sha256(source).hexdigest()[:16]
    tag = sys.implementation.cache_tag
    return capabilities.SHIM_PATH.parent / "__pycache__" / f"_shim.{digest}.{tag}.pyc"


@functools.cache
def _shim_bytecode() -> Path | None:
    """The shim's cached bytecode, checked (or written) once per process; None when it
    cannot be kept beside the shim. Running it skips compiling the shim (~10 ms) in every
    interpreter that runs it (the stage inside bwrap, `pycodex sandbox`)."""
    source = _shim_bytes()
    header = (importlib.util.MAGIC_NUMBER + (3).to_bytes(4, "little")  # hash-based, checked
              + importlib.util.source_hash(source))
    path = bytecode_path(source)
    # The header names the source it was compiled from. The body is trusted as much as
    # _shim.py itself (same directory, never inside a writable root: see _shim).
    with contextlib.suppress(OSError), path.open("rb") as cached:
        if cached.read(len(header)) == header:
            return path
    code = compile(source, str(capabilities.SHIM_PATH), "exec", dont_inherit=True)
    data = header + marshal.dumps(code)
    try:
        path.parent.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".shim-", delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp.name)
        return None
    return path


def _under(path: Path, roots: Sequence[WritableRoot]) -> bool:
    return any(path == r.root or r.root in path.parents for r in roots)


def _shim(roots: Sequence[WritableRoot]) -> list[str]:
    """`python -I -S <shim>`, never from a place the command may have written to."""
    caps = capabilities.probe()
    candidates = [caps.python, os.path.realpath(getattr(sys, "_base_executable", caps.python))]
    python = next((p for p in candidates if not _under(Path(p), roots)), None)
    if python is None:
        raise SandboxUnavailable(f"the Python interpreter {caps.python} is inside a writable root")
    shim = capabilities.SHIM_PATH
    if _under(shim, roots):
        # An editable install inside the workspace: run the source read at start-up, so
        # an edited _shim.py cannot run unconfined.
        return [python, "-I", "-S", "-c", _shim_source()]
    bytecode = _shim_bytecode()
    return [python, "-I", "-S", str(bytecode if bytecode is not None else shim)]


def _root_args(roots: Sequence[WritableRoot], *, protect: bool) -> list[str]:
    args: list[str] = []
    for root in roots:
        args += ["--root", str(root.root)]
    if protect:
        for root in roots:
            for path in root.read_only_subpaths:
                if path not in root.missing_subpaths:
                    args += ["--ro", str(path)]
            for path in root.missing_subpaths:
                args += ["--placeholder", str(path)]
    return args


def _build(
    backend: str,
    argv: Sequence[str],
    roots: list[WritableRoot],
    cwd: Path,
    network: bool,
) -> list[str]:
    caps = capabilities.probe()
    net = ["--net", "on" if network else "off"]
    if backend == "bwrap":
        bwrap = caps.bwrap_path
        if bwrap is None:
            raise SandboxUnavailable("bubblewrap is not installed")
        banned = [*roots, *([WritableRoot(cwd)] if cwd != Path("/") else [])]
        if _under(Path(bwrap), banned):
            raise SandboxUnavailable(
                f"refusing bwrap at {bwrap}: it is inside the working directory or a writable root"
            )
        shim = _shim(roots)
        inner = [*shim, "--stage", "inner", "--backend", "bwrap", *net, "--landlock", "try",
                 *_root_args(roots, protect=False), "--", *argv]
        command = bwrap_argv(bwrap=bwrap, roots=roots, cwd=cwd, network=network,
                             disable_userns=caps.bwrap_disable_userns, inner=inner)
        missing = [str(p) for r in roots for p in r.missing_subpaths]
        if missing:
            outer = [*shim, "--stage", "outer"]
            for path in missing:
                outer += ["--placeholder", path]
            command = [*outer, "--", *command]
        return command
    if backend == "userns":
        return [*_shim(roots), "--backend", "userns", "--userns", *net, "--landlock", "try",
                "--scope", "--chdir", str(cwd), *_root_args(roots, protect=True), "--", *argv]
    if backend == "landlock":
        return [*_shim(roots), "--backend", "landlock", *net, "--landlock", "require",
                "--scope", "--chdir", str(cwd), *_root_args(roots, protect=False), "--", *argv]
    raise ValueError(f"unknown sandbox backend {backend!r}")


# --- preflight and selection ------------------------------------------------------------------

_preflight_cache: dict[str, str | None] = {}
# One preflight per backend per process, however many threads ask at once.
_preflight_lock = threading.Lock()


def _prerequisite(backend: str) -> str | None:
    """Why `backend` cannot work at all here (None: worth a preflight)."""
    caps = capabilities.probe()
    if caps.system != "Linux":
        return f"not available on {caps.system}"
    if not caps.seccomp_arch_supported:
        return f"no seccomp tables for {caps.arch}"
    if not caps.seccomp:
        return caps.seccomp_error or "seccomp is unavailable"
    if backend == "bwrap" and not caps.bwrap_ok:
        return caps.bwrap_error or "bubblewrap does not work"
    if backend == "userns" and not caps.userns:
        return f"no user namespaces: {caps.userns_error}"
    if backend == "landlock" and not caps.landlock_abi:
        return caps.landlock_error or "Landlock is unavailable"
    return None


def preflight(backend: str) -> str | None:
    """None if `backend` really confines `true` on this machine, else the reason (cached).
    Blocking the first time (it runs `true` confined): from a worker thread on a loop."""
    if backend in _preflight_cache:
        return _preflight_cache[backend]
    with _preflight_lock:
        if backend not in _preflight_cache:
            _preflight_cache[backend] = _run_preflight(backend)
        return _preflight_cache[backend]


def _run_preflight(backend: str) -> str | None:
    reason = _prerequisite(backend)
    if reason is None:
        try:
            argv = _build(backend, ["true"], [], Path("/"), network=False)
        except SandboxUnavailable as exc:
            reason = exc.reason
        else:
            try:
                done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, cwd="/", check=False,
                                      timeout=capabilities.PROBE_TIMEOUT_S)
                if done.returncode != 0:
                    err = done.stderr.decode(errors="replace").strip().splitlines()
                    reason = (err[-1] if err else f"preflight exited {done.returncode}")
            except (OSError, subprocess.TimeoutExpired) as exc:
                reason = f"preflight failed: {exc}"
    return reason


def reset_cache() -> None:
    """Forget probes and preflights (tests, or after installing bubblewrap)."""
    with _preflight_lock:
        _preflight_cache.clear()
    capabilities.reset()


def _select(backend: str | None) -> tuple[str, dict[str, str]]:
    failures: dict[str, str] = {}
    for name in (backend,) if backend else BACKENDS:
        if name not in BACKENDS:
            raise SandboxUnavailable(f"unknown sandbox backend {name!r} (one of "
                                     f"{', '.join(BACKENDS)})")
        reason = preflight(name)
        if reason is None:
            return name, failures
        failures[name] = reason
    summary = "; ".join(f"{name}: {why}" for name, why in failures.items())
    raise SandboxUnavailable(summary)


# --- public API -------------------------------------------------------------------------------


def prepare_command(
    argv: Sequence[str],
    *,
    policy: SandboxPolicy,
    cwd: Path,
    env: Mapping[str, str],
    backend: str | None = None,
) -> SandboxedCommand:
    """The argv/env that run `argv` in `cwd` under `policy`; raises SandboxUnavailable.

    `backend` (or ``$PYCODEX_SANDBOX_BACKEND``) forces one Linux backend (tests,
    benchmarks); by default the first working one is used. For danger-full-access the command is returned unchanged.
    """
    if not argv:
        raise ValueError("empty command")
    command = list(argv)
    out_env = dict(env)
    network = network_allowed(policy)
    roots = writable_roots(policy, cwd, env)
    if roots is None:
        if isinstance(policy, ExternalSandboxPolicy) and not network:
            out_env["CODEX_SANDBOX_NETWORK_DISABLED"] = "1"
        return SandboxedCommand(command, out_env, "none")
    cwd = Path(os.path.realpath(cwd))
    system = platform.system()
    if system == "Darwin":
        if not os.path.exists(seatbelt.SANDBOX_EXEC):
            raise SandboxUnavailable(f"{seatbelt.SANDBOX_EXEC} not found")
        return SandboxedCommand(seatbelt.seatbelt_argv(command, roots, network=network),
                                seatbelt.seatbelt_env(out_env, network=network), "seatbelt")
    if system != "Linux":
        raise SandboxUnavailable(f"no sandbox implementation for {system}")
    chosen, _ = _select(backend or os.environ.get(BACKEND_ENV) or None)
    warnings: tuple[str, ...] = ()
    if chosen == "landlock" and roots:
        roots = []
        warnings = (DEGRADED_WARNING,)
    built = _build(chosen, command, roots, cwd, network)
    out_env["PYCODEX_SANDBOX"] = chosen
    if network:
        out_env.pop("CODEX_SANDBOX_NETWORK_DISABLED", None)
    else:
        out_env["CODEX_SANDBOX_NETWORK_DISABLED"] = "1"
    return SandboxedCommand(built, out_env, chosen, warnings)


def sandbox_status(policy: SandboxPolicy | None = None) -> SandboxStatus:
    """Which backend commands would use, what is degraded, and why the others fail.

    Runs every backend's preflight (cached), so the answer names all failures.
    """
    if isinstance(policy, DangerFullAccessPolicy | ExternalSandboxPolicy):
        return SandboxStatus("none", True)
    caps = capabilities.probe()
    details = {
        "platform": f"{caps.system} {caps.arch}",
        "landlock_abi": str(caps.landlock_abi),
        "seccomp": "yes" if caps.seccomp else f"no ({caps.seccomp_error})",
        "user_namespaces": "yes" if caps.userns else f"no ({caps.userns_error})",
        "bwrap_path": caps.bwrap_path or "",
        "bwrap_version": caps.bwrap_version or "",
        "bwrap_disable_userns": "yes" if caps.bwrap_disable_userns else "no",
        "python": caps.python,
    }
    if caps.system == "Darwin":
        ok = os.path.exists(seatbelt.SANDBOX_EXEC)
        return SandboxStatus("seatbelt" if ok else "unavailable", ok, details=details,
                             reason=None if ok else f"{seatbelt.SANDBOX_EXEC} not found")
    failures: dict[str, str] = {}
    for name in BACKENDS:
        reason = preflight(name)
        if reason is not None:
            failures[name] = reason
    chosen = next((name for name in BACKENDS if name not in failures), None)
    if chosen is None:
        summary = "; ".join(f"{name}: {why}" for name, why in failures.items())
        return SandboxStatus("unavailable", False, failures=failures, details=details,
                             reason=summary or f"no sandbox for {caps.system}")
    warnings: list[str] = []
    degraded = False
    if chosen == "landlock":
        wants_write = policy is None or isinstance(policy, WorkspaceWritePolicy)
        degraded = wants_write
        if wants_write:
            warnings.append(DEGRADED_WARNING)
    elif chosen == "userns":
        warnings.append("bubblewrap unavailable: using the pure-Python user-namespace backend "
                        "(no pid namespace; host processes are visible but not signalable)")
    if caps.landlock_abi == 0:
        warnings.append("Landlock unavailable: no defence in depth for file writes")
    return SandboxStatus(chosen, True, degraded, warnings, failures, details)
