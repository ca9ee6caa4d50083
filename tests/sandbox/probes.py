"""Attack probes, run INSIDE a sandbox: `python -I probes.py SPEC_JSON`.

Prints one JSON object {probe name: "ok" | errno name | "killed:SIG..." | "error:..."}.
Every probe only tries its one action; the test then checks both what the probe saw and
that nothing changed on the host.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def _errcheck(rc: int) -> None:
    if rc < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def write(path: str, mode: str = "w") -> None:
    with open(path, mode) as f:
        f.write("pwned\n")


def probes(spec: dict[str, Any]) -> dict[str, Callable[[], object]]:
    ws, outside, extra = spec["ws"], spec["outside"], spec["extra"]
    nb, agent, zygote = spec["neighbour_pid"], spec["agent_pid"], spec["zygote_pid"]
    ports = spec["ports"]

    def new_symlink_escape() -> None:
        os.symlink(outside, f"{ws}/newlink")
        write(f"{ws}/newlink/via_new_link")

    def symlink_to_git() -> None:
        os.symlink(f"{ws}/.git", f"{ws}/g")
        write(f"{ws}/g/via_link")

    def hardlink_in() -> None:
        os.link(f"{outside}/victim", f"{ws}/hardlink")
        write(f"{ws}/hardlink", "a")

    def umount_git() -> None:
        _errcheck(libc.umount2(f"{ws}/.git".encode(), 2))  # MNT_DETACH

    def remount_root_rw() -> None:
        _errcheck(libc.mount(None, b"/", None, ctypes.c_ulong(32), None))  # MS_REMOUNT

    def nested_userns() -> None:
        _errcheck(libc.unshare(0x10000000 | 0x00020000))

    def ptrace_attach() -> None:
        _errcheck(libc.ptrace(ctypes.c_long(16), ctypes.c_long(nb), None, None))

    def process_vm_readv() -> None:
        class Iov(ctypes.Structure):
            _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

        buf = ctypes.create_string_buffer(8)
        local = Iov(ctypes.cast(buf, ctypes.c_void_p), 8)
        remote = Iov(0x400000, 8)
        rc = libc.process_vm_readv(nb, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        _errcheck(rc)

    def proc_mem() -> None:
        with open(f"/proc/{nb}/mem", "r+b"):
            pass

    def tcp(family: int, host: str, port: int) -> Callable[[], None]:
        def run() -> None:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect((host, port))
        return run

    def udp4() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"x", ("127.0.0.1", ports["udp4"]))

    def unix(address: str) -> Callable[[], None]:
        def run() -> None:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(address)
        return run

    def socketpair() -> None:
        a, b = socket.socketpair()
        with a, b:
            a.send(b"ping")
            os.write(b.fileno(), b"pong")
            if b.recv(4) != b"ping" or a.recv(4) != b"pong":
                raise RuntimeError("socketpair data lost")

    def netlink() -> None:
        socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close()

    def io_uring() -> None:
        params = ctypes.create_string_buffer(120)
        fd = libc.syscall(425, 8, params)
        _errcheck(fd)
        os.close(fd)

    def i386_socketcall() -> str:
        # int 0x80 with eax=102 (socketcall) from a child: the arch check must kill it.
        import mmap

        code = bytes([0xB8, 102, 0, 0, 0, 0x31, 0xDB, 0xCD, 0x80, 0xC3])  # mov eax,102; xor ebx,ebx; int 0x80; ret
        pid = os.fork()
        if pid == 0:
            mem = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
            mem.write(code)
            addr = ctypes.addressof(ctypes.c_char.from_buffer(mem))
            ctypes.CFUNCTYPE(None)(addr)()
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            return "killed:" + signal.Signals(os.WTERMSIG(status)).name
        return "ok"

    table: dict[str, Callable[[], object]] = {
        "write_outside": lambda: write(f"{outside}/new"),
        "append_victim": lambda: write(f"{outside}/victim", "a"),
        "proc_self_root": lambda: write(f"/proc/self/root{outside}/via_proc_root"),
        "proc_neighbour_cwd": lambda: write(f"/proc/{nb}/cwd/via_proc_cwd"),
        "write_inside": lambda: write(f"{ws}/inside.txt"),
        "write_extra_root": lambda: write(f"{extra}/extra.txt"),
        "write_git": lambda: write(f"{ws}/.git/x"),
        "git_hooks": lambda: write(f"{ws}/.git/hooks/pre-commit"),
        "git_config": lambda: write(f"{ws}/.git/config", "a"),
        "gitdir_target": lambda: write(f"{spec['gitdir_target']}/HEAD", "a"),
        "gitdir_file": lambda: write(f"{extra}/.git", "a"),
        "rename_git": lambda: os.rename(f"{ws}/.git", f"{ws}/.git2"),
        "rm_git_file": lambda: os.unlink(f"{ws}/.git/config"),
        "mkdir_codex_top": lambda: os.mkdir(f"{ws}/.codex"),
        "mkdir_codex": lambda: os.mkdir(f"{ws}/.codex/sub"),
        "mkdir_pycodex_top": lambda: os.mkdir(f"{ws}/.pycodex"),
        "write_codex_config": lambda: write(f"{ws}/.codex/config.toml"),
        "mkdir_pycodex": lambda: os.mkdir(f"{ws}/.pycodex/sub"),
        "write_agents": lambda: write(f"{ws}/.agents/skills/x"),
        "symlink_escape": lambda: write(f"{ws}/link/via_link"),
        "new_symlink_escape": new_symlink_escape,
        "symlink_to_git": symlink_to_git,
        "hardlink_in": hardlink_in,
        "umount_git": umount_git,
        "remount_root_rw": remount_root_rw,
        "nested_userns": nested_userns,
        "ptrace_attach": ptrace_attach,
        "process_vm_readv": process_vm_readv,
        "proc_neighbour_mem": proc_mem,
        "agent_environ": lambda: open(f"/proc/{agent}/environ", "rb").close(),
        "kill0_agent": lambda: os.kill(agent, 0),
        "kill0_neighbour": lambda: os.kill(nb, 0),
        # The process that forked this one (pycodex's zygote, or the agent itself): it
        # runs unconfined and can start anything, so it must be as out of reach.
        "zygote_environ": lambda: open(f"/proc/{zygote}/environ", "rb").close(),
        "zygote_mem": lambda: open(f"/proc/{zygote}/mem", "r+b").close(),
        "kill0_zygote": lambda: os.kill(zygote, 0),
        "dev_kmsg": lambda: open("/dev/kmsg", "w").close(),
        "dev_null": lambda: write("/dev/null"),
        "tcp4": tcp(socket.AF_INET, "127.0.0.1", ports["tcp4"]),
        "tcp6": tcp(socket.AF_INET6, "::1", ports["tcp6"]),
        "udp4": udp4,
        "unix_path": unix(spec["unix_path"]),
        "unix_abstract": unix("\0" + spec["unix_abstract"]),
        "socketpair": socketpair,
        "netlink_socket": netlink,
        "io_uring_setup": io_uring,
        "env_network_disabled": lambda: os.environ.get("CODEX_SANDBOX_NETWORK_DISABLED", "unset"),
        "env_backend": lambda: os.environ.get("PYCODEX_SANDBOX", "unset"),
    }
    if os.uname().machine == "x86_64":
        table["i386_socketcall"] = i386_socketcall
    return table


def main() -> None:
    spec = json.loads(sys.argv[1])
    results: dict[str, str] = {}
    for name, probe in probes(spec).items():
        if spec.get("only") and name not in spec["only"]:
            continue
        try:
            value = probe()
            results[name] = value if isinstance(value, str) else "ok"
        except OSError as exc:
            results[name] = errno.errorcode.get(exc.errno or 0, f"errno{exc.errno}")
        except Exception as exc:
            results[name] = f"error:{type(exc).__name__}:{exc}"
    print(json.dumps(results))


if __name__ == "__main__":
    main()
