"""The shim's hand-built seccomp filter, run through a small BPF interpreter (both arches)."""

from __future__ import annotations

import errno
import struct

import pytest

from pycodex.sandbox import _shim

ALLOW = _shim.SECCOMP_RET_ALLOW
KILL = _shim.SECCOMP_RET_KILL_PROCESS
EPERM = _shim.deny_errno(errno.EPERM)
ENOSYS = _shim.deny_errno(errno.ENOSYS)


def run_filter(prog: bytes, nr: int, arch: int, args: tuple[int, ...] = ()) -> int:
    full = (*args, *(0,) * (6 - len(args)))
    data = struct.pack("=iIQ6Q", nr, arch, 0, *full)
    insns = [struct.unpack_from("=HBBI", prog, i) for i in range(0, len(prog), 8)]
    acc, pc = 0, 0
    for _ in range(len(insns) + 1):
        code, jt, jf, k = insns[pc]
        if code == _shim.BPF_LD_W_ABS:
            acc = struct.unpack_from("=I", data, k)[0]
            pc += 1
        elif code == _shim.BPF_RET_K:
            return k
        else:
            taken = {
                _shim.BPF_JEQ_K: acc == k,
                _shim.BPF_JGE_K: acc >= k,
                _shim.BPF_JSET_K: bool(acc & k),
            }[code]
            pc += 1 + (jt if taken else jf)
    raise AssertionError("filter did not return")


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_network_off_filter(arch: str) -> None:
    prog = _shim.build_filter(arch, network=False)
    audit = _shim.AUDIT_ARCH[arch]
    nr = _shim.SYSCALLS[arch]

    def decide(name: str, *args: int) -> int:
        return run_filter(prog, nr[name], audit, args)

    assert decide("socket", 2, 1, 0) == EPERM  # AF_INET
    assert decide("socket", 10, 1, 0) == EPERM  # AF_INET6
    assert decide("socket", 16, 3, 0) == EPERM  # AF_NETLINK
    assert decide("socket", 1, 1, 0) == ALLOW  # AF_UNIX
    assert decide("socketpair", 1, 1, 0) == ALLOW
    assert decide("socketpair", 2, 1, 0) == EPERM
    for name in ("connect", "bind", "listen", "accept", "accept4", "getsockopt", "setsockopt",
                 "getpeername", "getsockname", "shutdown", "sendmmsg", "recvmmsg"):
        assert decide(name) == EPERM, name
    assert decide("sendto", 3, 0, 4, 0, 0, 0) == ALLOW  # send() on a connected socket
    assert decide("sendto", 3, 0, 4, 0, 0x7FFF0000, 16) == EPERM
    assert decide("sendto", 3, 0, 4, 0, 0x1_0000_0000, 16) == EPERM  # high half only
    for name in ("ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup",
                 "io_uring_enter", "io_uring_register"):
        assert decide(name) == EPERM, name
    assert decide("unshare", 0x10000000) == EPERM
    assert decide("unshare", 0x00020000) == ALLOW  # CLONE_NEWNS alone
    assert decide("clone", 0x10000000 | 17) == EPERM
    assert decide("clone", 0x01200011) == ALLOW  # what fork() passes
    assert decide("clone3") == ENOSYS
    assert run_filter(prog, 0, audit) == ALLOW  # read / io_setup
    assert run_filter(prog, nr["socket"], 0x40000003, (2,)) == KILL  # i386 on x86_64


def test_network_on_keeps_the_always_denied_set() -> None:
    prog = _shim.build_filter("x86_64", network=True)
    nr = _shim.SYSCALLS["x86_64"]
    audit = _shim.AUDIT_ARCH["x86_64"]
    assert run_filter(prog, nr["socket"], audit, (2,)) == ALLOW
    assert run_filter(prog, nr["connect"], audit) == ALLOW
    assert run_filter(prog, nr["ptrace"], audit) == EPERM
    assert run_filter(prog, nr["io_uring_setup"], audit) == EPERM
    assert run_filter(prog, nr["socket"] | 0x40000000, audit, (2,)) == EPERM  # x32


def test_filter_size_is_small() -> None:
    assert len(_shim.build_filter("x86_64", network=False)) // 8 < 120
