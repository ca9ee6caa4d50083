"""Simulate a machine without some sandbox features, then exec a command.

    python -I faultinject.py [--no-userns] [--no-landlock] [--no-seccomp] -- CMD...

Installs a seccomp filter (inherited by everything CMD starts) that makes
* --no-userns: unshare/clone with CLONE_NEWUSER fail with EPERM and clone3 with ENOSYS
  (what Docker's default profile and Ubuntu's AppArmor restriction look like);
* --no-landlock: landlock_* fail with ENOSYS (a kernel without Landlock);
* --no-seccomp: installing another seccomp filter fail with EINVAL.
Uses the shim's BPF assembler (loaded from its file, like the shim itself: no pycodex import).
"""

from __future__ import annotations

import ctypes
import errno
import importlib.util
import os
import sys
from pathlib import Path

SHIM = Path(__file__).resolve().parents[2] / "src" / "pycodex" / "sandbox" / "_shim.py"
SYS_SECCOMP = {"x86_64": 317, "aarch64": 277}
SYS_PRCTL = {"x86_64": 157, "aarch64": 167}


def load_shim() -> object:
    spec = importlib.util.spec_from_file_location("pycodex_shim_for_tests", SHIM)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fault_filter(shim: object, arch: str, faults: set[str]) -> bytes:
    s = shim
    table = s.SYSCALLS[arch]  # type: ignore[attr-defined]
    allow = s.SECCOMP_RET_ALLOW  # type: ignore[attr-defined]
    ld, jeq, jset, ret = (s.BPF_LD_W_ABS, s.BPF_JEQ_K, s.BPF_JSET_K,  # type: ignore[attr-defined]
                          s.BPF_RET_K)  # type: ignore[attr-defined]
    deny = s.deny_errno  # type: ignore[attr-defined]
    prog: list[tuple[object, ...]] = [(ld, 0, 0, 4), (jeq, "ok", 0, s.AUDIT_ARCH[arch]),  # type: ignore[attr-defined]
                                      (ret, 0, 0, allow), ("label", "ok"), (ld, 0, 0, 0)]
    n = 0

    def rule(nr: int, arg_test: tuple[int, int] | None, result: int) -> None:
        nonlocal n
        n += 1
        skip = f"s{n}"
        prog.append((jeq, 0, skip, nr))
        if arg_test is None:
            prog.append((ret, 0, 0, result))
        else:
            code, value = arg_test
            prog.extend([(ld, 0, 0, 16), (code, f"hit{n}", 0, value), (ret, 0, 0, allow),
                         ("label", f"hit{n}"), (ret, 0, 0, result)])
        prog.append(("label", skip))

    if "no-userns" in faults:
        rule(table["unshare"], (jset, 0x10000000), deny(errno.EPERM))
        rule(table["clone"], (jset, 0x10000000), deny(errno.EPERM))
        rule(table["clone3"], None, deny(errno.ENOSYS))
    if "no-landlock" in faults:
        for nr in (444, 445, 446):
            rule(nr, None, deny(errno.ENOSYS))
    if "no-seccomp" in faults:
        rule(SYS_SECCOMP[arch], None, deny(errno.EINVAL))
        rule(SYS_PRCTL[arch], (jeq, 22), deny(errno.EINVAL))  # PR_SET_SECCOMP
    prog.append((ret, 0, 0, allow))
    return s.assemble(prog)  # type: ignore[attr-defined,no-any-return]


def main(argv: list[str]) -> None:
    split = argv.index("--")
    faults = {a.lstrip("-") for a in argv[:split]}
    cmd = argv[split + 1 :]
    shim = load_shim()
    arch = shim.machine()  # type: ignore[attr-defined]
    shim.install_seccomp(fault_filter(shim, arch, faults))  # type: ignore[attr-defined]
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    ctypes.CDLL(None)
    main(sys.argv[1:])
