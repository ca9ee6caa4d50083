"""macOS: a Seatbelt (SBPL) profile for a policy, run with ``/usr/bin/sandbox-exec``.

The profile denies by default, allows process execution, reads everywhere, writes only
beneath the writable roots minus their protected subpaths, and network only when the
policy allows it. Paths are never spliced into the profile text: each one is passed as a
``-D`` parameter and referenced with ``(param "...")``, so a path with quotes or
parentheses cannot change the profile. ``(require-not (literal P))`` next to
``(require-not (subpath P))`` also forbids *creating* a missing protected directory
(``mkdir .codex``), which ``subpath`` alone would allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pycodex.sandbox.policy import WritableRoot

SANDBOX_EXEC = "/usr/bin/sandbox-exec"  # only this one is trusted, never one from PATH

_BASE = """\
(version 1)
(deny default)
; processes: run programs, fork, signal and inspect only inside this sandbox
(allow process-exec)
(allow process-fork)
(allow signal (target same-sandbox))
(allow process-info* (target same-sandbox))
; reads: the whole file system
(allow file-read*)
; terminals and the few character devices every tool expects
(allow file-write-data
  (require-all (path "/dev/null") (vnode-type CHARACTER-DEVICE)))
(allow file-read* file-write* file-ioctl (literal "/dev/ptmx") (literal "/dev/tty"))
(allow file-read* file-write* file-ioctl (regex #"^/dev/ttys[0-9]+$"))
(allow pseudo-tty)
(allow ipc-posix-sem)
(allow ipc-posix-shm-read-data ipc-posix-shm-read-metadata)
(allow sysctl-read
  (sysctl-name-prefix "hw.")
  (sysctl-name-prefix "kern.")
  (sysctl-name-prefix "machdep.cpu.")
  (sysctl-name "sysctl.proc_cputype")
  (sysctl-name "vm.loadavg"))
(allow mach-lookup
  (global-name "com.apple.system.opendirectoryd.libinfo")
  (global-name "com.apple.PowerManagement.control")
  (global-name "com.apple.system.logger"))
"""

_NETWORK = """\
; network: allowed by policy
(allow network-outbound)
(allow network-inbound)
(allow system-socket)
(allow mach-lookup
  (global-name "com.apple.dnssd.service")
  (global-name "com.apple.SystemConfiguration.DNSConfiguration")
  (global-name "com.apple.SystemConfiguration.configd")
  (global-name "com.apple.trustd.agent")
  (global-name "com.apple.networkd"))
"""


def seatbelt_profile(roots: Sequence[WritableRoot], *, network: bool) -> tuple[str, dict[str, str]]:
    """(profile text, -D parameters) for these writable roots."""
    params: dict[str, str] = {}
    clauses: list[str] = []
    for i, root in enumerate(roots):
        key = f"WRITABLE_ROOT_{i}"
        params[key] = str(root.root)
        excluded: list[str] = []
        for j, sub in enumerate(root.read_only_subpaths):
            sub_key = f"{key}_RO_{j}"
            params[sub_key] = str(sub)
            excluded.append(
                f'(require-not (literal (param "{sub_key}")))'
                f' (require-not (subpath (param "{sub_key}")))'
            )
        if excluded:
            clauses.append(
                f'  (require-all (subpath (param "{key}"))\n    '
                + "\n    ".join(excluded)
                + ")"
            )
        else:
            clauses.append(f'  (subpath (param "{key}"))')
    text = _BASE
    if clauses:
        text += "; writes: only beneath the writable roots, never their protected subpaths\n"
        text += "(allow file-write*\n" + "\n".join(clauses) + ")\n"
    if network:
        text += _NETWORK
    return text, params


def seatbelt_argv(
    argv: Sequence[str], roots: Sequence[WritableRoot], *, network: bool
) -> list[str]:
    profile, params = seatbelt_profile(roots, network=network)
    defines = [f"-D{key}={value}" for key, value in params.items()]
    return [SANDBOX_EXEC, "-p", profile, *defines, "--", *argv]


def seatbelt_env(env: Mapping[str, str], *, network: bool) -> dict[str, str]:
    out = dict(env)
    out["CODEX_SANDBOX"] = "seatbelt"
    out["PYCODEX_SANDBOX"] = "seatbelt"
    if network:
        out.pop("CODEX_SANDBOX_NETWORK_DISABLED", None)
    else:
        out["CODEX_SANDBOX_NETWORK_DISABLED"] = "1"
    return out
