"""The acceptance table of sandbox_notes.md §4, against every backend available here.

Each (backend, mode, spawn path) runs all probes in ONE sandboxed process
(tests/sandbox/probes.py) in a fresh world; the spawn paths (helpers.SPAWN_PATHS) are the
standalone argv and pycodex's own, through the process zygote; every probe is then its own test, and a separate test checks the host side:
nothing changed outside the writable roots, .git and friends intact, no placeholder left,
the loopback listeners saw nothing. Unavailable backends skip with the reason.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pycodex.protocol.policies import DangerFullAccessPolicy, WorkspaceWritePolicy
from pycodex.sandbox import launcher
from tests.sandbox.helpers import (
    PROBES,
    PYTHON,
    SPAWN_PATHS,
    World,
    attack_world,
    backend_skip_reason,
    policy_for,
    probe_spec,
    run_probes,
    run_sandboxed,
    wait_gone,
)

BACKENDS = launcher.BACKENDS
MODES = ("read-only", "workspace-write")
FS_DENIED = {"EROFS", "EACCES", "EPERM"}
NET_DENIED = {"EPERM"}

EXPECTED: dict[str, set[str]] = {
    "write_outside": FS_DENIED,
    "append_victim": FS_DENIED,
    "proc_self_root": FS_DENIED,
    "proc_neighbour_cwd": FS_DENIED | {"ENOENT"},
    "write_git": FS_DENIED,
    "git_hooks": FS_DENIED,
    "git_config": FS_DENIED,
    "gitdir_target": FS_DENIED,
    "gitdir_file": FS_DENIED,
    "rename_git": FS_DENIED | {"EBUSY"},
    "rm_git_file": FS_DENIED,
    # the placeholder exists (read-only) in workspace-write; nothing exists in read-only
    "mkdir_codex_top": FS_DENIED | {"EEXIST"},
    "mkdir_codex": FS_DENIED | {"ENOENT"},
    "mkdir_pycodex_top": FS_DENIED | {"EEXIST"},
    "mkdir_pycodex": FS_DENIED | {"ENOENT"},
    "write_codex_config": FS_DENIED | {"ENOENT"},
    "write_agents": FS_DENIED,
    "symlink_escape": FS_DENIED,
    "new_symlink_escape": FS_DENIED,
    "symlink_to_git": FS_DENIED,
    "hardlink_in": FS_DENIED | {"EXDEV"},
    "umount_git": {"EPERM", "EINVAL"},
    "remount_root_rw": {"EPERM"},
    "nested_userns": {"EPERM", "ENOSPC"},
    "ptrace_attach": {"EPERM", "ESRCH"},
    "process_vm_readv": {"EPERM", "ESRCH"},
    "proc_neighbour_mem": {"ENOENT", "EACCES", "EROFS", "EPERM"},
    "agent_environ": {"ENOENT", "EACCES", "EPERM"},
    "kill0_agent": {"ESRCH", "EPERM"},
    "kill0_neighbour": {"ESRCH", "EPERM"},
    "zygote_environ": {"ENOENT", "EACCES", "EPERM"},
    "zygote_mem": {"ENOENT", "EACCES", "EROFS", "EPERM"},
    "kill0_zygote": {"ESRCH", "EPERM"},
    "dev_kmsg": {"ENOENT", "EACCES", "EPERM"},
    "dev_null": {"ok"},
    "tcp4": NET_DENIED,
    "tcp6": NET_DENIED,
    "udp4": NET_DENIED,
    "unix_path": NET_DENIED,
    "unix_abstract": NET_DENIED,
    "netlink_socket": NET_DENIED,
    "io_uring_setup": NET_DENIED,
    "socketpair": {"ok"},
    "i386_socketcall": {"killed:SIGSYS"},
    "env_network_disabled": {"1"},
}
WRITE_PROBES = ("write_inside", "write_extra_root")


def expected(probe: str, backend: str, mode: str) -> set[str]:
    if probe in WRITE_PROBES:
        # Landlock-only cannot protect .git: workspace-write degrades to read-only.
        writes = mode == "workspace-write" and backend != "landlock"
        return {"ok"} if writes else FS_DENIED
    if probe == "env_backend":
        return {backend}
    return EXPECTED[probe]


@dataclass
class TableRun:
    world: World
    results: dict[str, str]
    hits: dict[str, int]
    before: dict[str, object]
    after: dict[str, object]
    neighbour_alive: bool
    leftovers: list[Path]


def _protected_state(world: World) -> dict[str, object]:
    return {
        "outside": world.snapshot(world.outside),
        "git": world.snapshot(world.ws / ".git"),
        "gitdir": world.snapshot(world.gitdir_target),
        "extra_git": (world.extra / ".git").read_text(),
        "agents": world.snapshot(world.ws / ".agents"),
    }


@pytest.fixture(scope="module")
def table(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str, str, str], TableRun]]:
    runs: dict[tuple[str, str, str], TableRun] = {}
    stack = contextlib.ExitStack()

    def get(backend: str, mode: str, via: str) -> TableRun:
        reason = backend_skip_reason(backend)
        if reason:
            print(reason)
            pytest.skip(reason)
        key = (backend, mode, via)
        if key not in runs:
            base = tmp_path_factory.mktemp(f"{backend}-{mode}-{via}")
            world, listeners, neighbour = stack.enter_context(attack_world(base))
            before = _protected_state(world)
            policy = policy_for(mode, extra=world.extra)
            spec = probe_spec(world, listeners, neighbour.pid, via=via)
            results = run_probes(spec, backend=backend, policy=policy, cwd=world.ws, via=via)
            leftovers = wait_gone([world.ws / ".codex", world.ws / ".pycodex"])
            runs[key] = TableRun(world, results, listeners.settle(), before,
                                 _protected_state(world), neighbour.poll() is None, leftovers)
        return runs[key]

    yield get
    stack.close()


PROBE_NAMES = [*EXPECTED, *WRITE_PROBES, "env_backend"]


@pytest.mark.parametrize("via", SPAWN_PATHS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("probe", PROBE_NAMES)
def test_probe(table: Callable[[str, str, str], TableRun], backend: str, mode: str, via: str,
               probe: str) -> None:
    run = table(backend, mode, via)
    if probe == "i386_socketcall" and probe not in run.results:
        pytest.skip("i386 syscalls only exist on x86_64")
    got = run.results[probe]
    assert got in expected(probe, backend, mode), f"{backend}/{mode}/{via}: {probe} -> {got}"


@pytest.mark.parametrize("via", SPAWN_PATHS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_host_side_unchanged(table: Callable[[str, str, str], TableRun], backend: str,
                             mode: str, via: str) -> None:
    run = table(backend, mode, via)
    assert run.after == run.before, "something outside the writable roots changed"
    assert not (run.world.outside / "new").exists()
    assert (run.world.outside / "victim").read_text() == "original\n"
    assert run.hits == dict.fromkeys(run.hits, 0), f"host listeners were reached: {run.hits}"
    assert run.neighbour_alive
    assert run.leftovers == [], f"placeholders left behind: {run.leftovers}"
    inside = run.world.ws / "inside.txt"
    assert inside.exists() == (mode == "workspace-write" and backend != "landlock")


@pytest.mark.parametrize("backend", BACKENDS)
def test_network_enabled_reaches_loopback(tmp_path: Path, backend: str) -> None:
    reason = backend_skip_reason(backend)
    if reason:
        pytest.skip(reason)
    with attack_world(tmp_path) as (world, listeners, neighbour):
        spec = probe_spec(world, listeners, neighbour.pid,
                          only=["tcp4", "write_outside", "env_network_disabled", "write_git"])
        policy = policy_for("workspace-write", network=True)
        results = run_probes(spec, backend=backend, policy=policy, cwd=world.ws)
        hits = listeners.settle()
    assert results["tcp4"] == "ok"
    assert hits["tcp4"] == 1
    assert results["env_network_disabled"] == "unset"
    assert results["write_outside"] in FS_DENIED
    assert results["write_git"] in FS_DENIED


@pytest.mark.parametrize("backend", BACKENDS)
def test_planted_modules_in_cwd_are_not_imported(tmp_path: Path, backend: str) -> None:
    reason = backend_skip_reason(backend)
    if reason:
        pytest.skip(reason)
    ws = tmp_path / "ws"
    (ws / "ctypes").mkdir(parents=True)
    marker = tmp_path / "planted-ran"
    payload = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    for module in ("json.py", "struct.py", "errno.py", "ctypes/__init__.py", "sitecustomize.py"):
        (ws / module).write_text(payload)
    env = {**os.environ, "PYTHONPATH": str(ws), "PYTHONSTARTUP": str(ws / "json.py")}
    done, _ = run_sandboxed(["true"], backend=backend, policy=policy_for("workspace-write"),
                            cwd=ws, env=env)
    assert done.returncode == 0, done.stderr
    assert not marker.exists(), f"the shim imported a planted module: {marker.read_text()}"


def test_danger_full_access_is_not_wrapped(tmp_path: Path) -> None:
    target = tmp_path / "outside-write"
    cmd = launcher.prepare_command(["touch", str(target)], policy=DangerFullAccessPolicy(),
                                   cwd=tmp_path, env={"PATH": os.environ["PATH"]})
    assert cmd.backend == "none"
    assert cmd.argv == ["touch", str(target)]
    assert cmd.env == {"PATH": os.environ["PATH"]}
    subprocess.run(cmd.argv, env=cmd.env, check=True)
    assert target.exists()


def _sandbox_processes(needle: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if needle in cmdline and "pytest" not in cmdline:
            found.append(f"{pid}: {cmdline[:200]}")
    return found


@pytest.mark.parametrize("backend", ["bwrap", "userns"])
def test_placeholders_removed_after_group_kill(tmp_path: Path, backend: str) -> None:
    reason = backend_skip_reason(backend)
    if reason:
        pytest.skip(reason)
    ws = tmp_path / "ws"
    ws.mkdir()
    cmd = launcher.prepare_command(["sleep", "30"], policy=policy_for("workspace-write"),
                                   cwd=ws, env=dict(os.environ), backend=backend)
    proc = subprocess.Popen(cmd.argv, env=cmd.env, cwd=ws, start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while not (ws / ".codex").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (ws / ".codex").is_dir(), "placeholder never appeared"
        time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert wait_gone([ws / ".codex", ws / ".pycodex"]) == []
    deadline = time.monotonic() + 3
    while _sandbox_processes(str(ws)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _sandbox_processes(str(ws)) == []


@pytest.mark.parametrize("backend", ["bwrap", "userns"])
def test_placeholder_stays_while_another_command_uses_it(tmp_path: Path, backend: str) -> None:
    reason = backend_skip_reason(backend)
    if reason:
        pytest.skip(reason)
    ws = tmp_path / "ws"
    ws.mkdir()
    policy = policy_for("workspace-write")
    slow = launcher.prepare_command(
        ["sh", "-c", "sleep 0.8; mkdir .codex/late && echo CREATED; mkdir .codex || true"],
        policy=policy, cwd=ws, env=dict(os.environ), backend=backend)
    proc = subprocess.Popen(slow.argv, env=slow.env, cwd=ws, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        time.sleep(0.3)
        done, _ = run_sandboxed(["true"], backend=backend, policy=policy, cwd=ws)
        assert done.returncode == 0, done.stderr
        time.sleep(0.2)  # the short command's janitor has run by now
        assert (ws / ".codex").is_dir(), "placeholder removed while still in use"
        out, err = proc.communicate(timeout=10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert "CREATED" not in out, err
    assert wait_gone([ws / ".codex", ws / ".pycodex"]) == []


@pytest.mark.parametrize("backend", ["bwrap", "userns"])
def test_existing_config_dir_is_read_only_and_kept(tmp_path: Path, backend: str) -> None:
    reason = backend_skip_reason(backend)
    if reason:
        pytest.skip(reason)
    ws = tmp_path / "ws"
    (ws / ".codex").mkdir(parents=True)
    (ws / ".codex" / "config.toml").write_text("model = 'x'\n")
    done, _ = run_sandboxed(
        ["sh", "-c", "echo 'sandbox_mode = \"danger-full-access\"' >> .codex/config.toml"],
        backend=backend, policy=policy_for("workspace-write"), cwd=ws)
    assert done.returncode != 0
    assert "Read-only file system" in done.stderr
    assert (ws / ".codex" / "config.toml").read_text() == "model = 'x'\n"


def test_shim_inside_a_writable_root_runs_from_memory(tmp_path: Path) -> None:
    """An editable install inside the workspace: the shim file must not be executed."""
    shim_dir = str(Path(launcher.__file__).resolve().parent)
    policy = WorkspaceWritePolicy(writable_roots=[shim_dir], exclude_slash_tmp=True,
                                  exclude_tmpdir_env_var=True)
    backend = next((b for b in BACKENDS if launcher.preflight(b) is None), None)
    if backend is None:
        pytest.skip("no sandbox backend available")
    cmd = launcher.prepare_command(["true"], policy=policy, cwd=tmp_path, env=dict(os.environ),
                                   backend=backend)
    assert "-c" in cmd.argv
    assert not any(arg.endswith("_shim.py") for arg in cmd.argv)
    assert subprocess.run(cmd.argv, env=cmd.env, cwd=tmp_path).returncode == 0
    assert PROBES.exists() and PYTHON
