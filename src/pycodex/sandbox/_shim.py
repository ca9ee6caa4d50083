"""pycodex sandbox exec shim: confine this process, then exec the command.

SELF-CONTAINED ON PURPOSE. This file is run as ``python -I -S <abs path>/_shim.py ARGS -- CMD``
or as its cached bytecode beside it (see the launcher), never with ``-m``: ``-I`` keeps the
agent-writable cwd and PYTHON* variables off ``sys.path``, ``-S`` skips ``site``. It imports
only os, sys, ctypes, struct, errno and time, never anything from pycodex, so nothing a
sandboxed command can write is imported before the sandbox is in place. pycodex's process
zygote (`pycodex.process._zygote`) runs this same code (`parse`, then `run`) in a fork of
itself instead of starting an interpreter, holding the placeholders itself.

Arguments (all paths absolute and canonical, resolved by the launcher)::

    --stage outer|inner   outer: only create/lock placeholders, then exec CMD (bwrap)
    --backend NAME        bwrap | userns | landlock (PYCODEX_SANDBOX in the command's env)
    --net on|off          off: seccomp denies network syscalls
    --root PATH           writable root (Landlock rule; userns: bind made writable)
    --ro PATH             read-only subpath of a root (userns backend)
    --placeholder PATH    protected name that must exist while CMD runs (created if
                          missing, removed afterwards by a detached janitor, or by the
                          zygote when it runs the shim)
    --landlock off|try|require
    --chdir PATH          working directory, entered after the mounts are in place
    --scope               Landlock ABI>=6: scope signals and abstract unix sockets
    --userns              build the user/mount namespace (pure-Python backend)
    --probe-userns        only check that an unprivileged user namespace can be made

Order: placeholders -> namespaces and mounts -> capabilities dropped -> Landlock ->
NO_NEW_PRIVS -> seccomp -> environment markers -> execvp. Any setup failure prints
``pycodex-sandbox: <reason>`` and exits 125 without running the command.
"""

# ruff: noqa: SIM105  (no contextlib: see the imports above)
import ctypes
import errno
import os
import struct
import sys
import time

SETUP_FAILED = 125
_PREFIX = "pycodex-sandbox: "

# --- syscall numbers ------------------------------------------------------------------------

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_AARCH64 = 0xC00000B7
X32_SYSCALL_BIT = 0x40000000

SYSCALLS = {
    "x86_64": {
        "socket": 41, "connect": 42, "accept": 43, "sendto": 44, "shutdown": 48, "bind": 49,
        "listen": 50, "getsockname": 51, "getpeername": 52, "socketpair": 53,
        "setsockopt": 54, "getsockopt": 55, "clone": 56, "ptrace": 101, "unshare": 272,
        "accept4": 288, "recvmmsg": 299, "sendmmsg": 307, "process_vm_readv": 310,
        "process_vm_writev": 311, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "clone3": 435,
    },
    "aarch64": {
        "unshare": 97, "ptrace": 117, "socket": 198, "socketpair": 199, "bind": 200,
        "listen": 201, "accept": 202, "connect": 203, "getsockname": 204,
        "getpeername": 205, "sendto": 206, "setsockopt": 208, "getsockopt": 209,
        "shutdown": 210, "clone": 220, "accept4": 242, "recvmmsg": 243, "sendmmsg": 269,
        "process_vm_readv": 270, "process_vm_writev": 271, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "clone3": 435,
    },
}
AUDIT_ARCH = {"x86_64": AUDIT_ARCH_X86_64, "aarch64": AUDIT_ARCH_AARCH64}
SYS_MOUNT_SETATTR = 442
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446

# --- seccomp BPF ----------------------------------------------------------------------------

BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_JSET_K = 0x45
BPF_RET_K = 0x06
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
AF_UNIX = 1
CLONE_NEWUSER = 0x10000000
_OFF_NR = 0
_OFF_ARCH = 4


def _arg_lo(i: int) -> int:
    return 16 + 8 * i


def _arg_hi(i: int) -> int:
    return 20 + 8 * i


def deny_errno(err: int) -> int:
    return SECCOMP_RET_ERRNO | (err & 0xFFFF)


def assemble(program: list[tuple[object, ...]]) -> bytes:
    """Resolve labels. ``program`` items: ("label", name) or (code, jt, jf, k) where jt/jf
    are label names or 0 (fall through). Returns the packed ``struct sock_filter`` array."""
    labels: dict[object, int] = {}
    insns: list[tuple[object, ...]] = []
    for item in program:
        if item[0] == "label":
            labels[item[1]] = len(insns)
        else:
            insns.append(item)
    out = []
    for pos, (code, jt, jf, k) in enumerate(insns):
        offs: list[int] = []
        for target in (jt, jf):
            if isinstance(target, str):
                delta = labels[target] - pos - 1
                if not 0 <= delta <= 255:
                    raise ValueError("bpf jump out of range")
                offs.append(delta)
            else:
                offs.append(int(target))  # type: ignore[call-overload]
        out.append(struct.pack("=HBBI", code, offs[0], offs[1], k))
    return b"".join(out)


def build_filter(arch: str, network: bool, deny_userns: bool = True) -> bytes:
    """The pycodex seccomp filter (default allow; matched rules return EPERM).

    * a foreign architecture (i386 ``int 0x80`` on x86_64) kills the process; x32 calls fail;
    * always: ptrace, process_vm_readv/writev, io_uring_* -> EPERM;
    * deny_userns: unshare/clone with CLONE_NEWUSER -> EPERM, clone3 -> ENOSYS (libc falls
      back to clone, whose flags seccomp can inspect);
    * network off: socket/socketpair unless AF_UNIX, connect, bind, listen, accept(4),
      sendto with a destination, sendmmsg, recvmmsg, get/setsockopt, getpeername,
      getsockname, shutdown -> EPERM;
    """
    table = SYSCALLS[arch]
    eperm = deny_errno(errno.EPERM)
    prog = [
        (BPF_LD_W_ABS, 0, 0, _OFF_ARCH),
        (BPF_JEQ_K, "arch_ok", 0, AUDIT_ARCH[arch]),
        (BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
        ("label", "arch_ok"),
        (BPF_LD_W_ABS, 0, 0, _OFF_NR),
    ]
    if arch == "x86_64":
        prog += [(BPF_JGE_K, "deny", 0, X32_SYSCALL_BIT)]
    counter = [0]

    def fresh() -> str:
        counter[0] += 1
        return f"l{counter[0]}"

    def unconditional(nr: int, ret: int = eperm) -> None:
        skip = fresh()
        prog.extend([(BPF_JEQ_K, 0, skip, nr), (BPF_RET_K, 0, 0, ret), ("label", skip)])

    def arg_rule(nr: int, arg: int, test_code: int, value: int, ret_if_true: int,
                 ret_if_false: int) -> None:
        skip = fresh()
        prog.extend([
            (BPF_JEQ_K, 0, skip, nr),
            (BPF_LD_W_ABS, 0, 0, _arg_lo(arg)),
            (test_code, "t" + skip, 0, value),
            (BPF_RET_K, 0, 0, ret_if_false),
            ("label", "t" + skip),
            (BPF_RET_K, 0, 0, ret_if_true),
            ("label", skip),
        ])

    for name in ("ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup",
                 "io_uring_enter", "io_uring_register"):
        unconditional(table[name])
    if deny_userns:
        arg_rule(table["unshare"], 0, BPF_JSET_K, CLONE_NEWUSER, eperm, SECCOMP_RET_ALLOW)
        arg_rule(table["clone"], 0, BPF_JSET_K, CLONE_NEWUSER, eperm, SECCOMP_RET_ALLOW)
        unconditional(table["clone3"], deny_errno(errno.ENOSYS))
    if not network:
        for name in ("socket", "socketpair"):
            arg_rule(table[name], 0, BPF_JEQ_K, AF_UNIX, SECCOMP_RET_ALLOW, eperm)
        for name in ("connect", "bind", "listen", "accept", "accept4", "sendmmsg",
                     "recvmmsg", "getsockopt", "setsockopt", "getpeername", "getsockname",
                     "shutdown"):
            unconditional(table[name])
        # sendto(fd, buf, len, flags, dest_addr, addrlen): allowed only without a
        # destination (that is send() on a connected socket, e.g. a socketpair).
        skip = fresh()
        prog.extend([
            (BPF_JEQ_K, 0, skip, table["sendto"]),
            (BPF_LD_W_ABS, 0, 0, _arg_lo(4)),
            (BPF_JEQ_K, 0, "deny", 0),
            (BPF_LD_W_ABS, 0, 0, _arg_hi(4)),
            (BPF_JEQ_K, 0, "deny", 0),
            (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
            ("label", skip),
        ])
    prog += [
        (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        ("label", "deny"),
        (BPF_RET_K, 0, 0, eperm),
    ]
    return assemble(prog)


# --- libc helpers ---------------------------------------------------------------------------

_libc = None


def libc() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        lib = ctypes.CDLL(None, use_errno=True)
        lib.syscall.restype = ctypes.c_long
        lib.prctl.restype = ctypes.c_int
        lib.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
        lib.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                              ctypes.c_ulong, ctypes.c_char_p]
        _libc = lib
    return _libc


class SetupError(Exception):
    pass


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(err)}", err)
    return result


def machine() -> str:
    arch = os.uname().machine
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)


def prctl(option: int, a2: int = 0, a3: int = 0, a4: int = 0, a5: int = 0) -> int:
    return int(libc().prctl(option, a2, a3, a4, a5))


_FILTERS: dict[tuple[str, bool], bytes] = {}


def filter_for(arch: str, network: bool) -> bytes:
    """`build_filter(arch, network)`, built once per process (see `warm`)."""
    key = (arch, network)
    if key not in _FILTERS:
        _FILTERS[key] = build_filter(arch, network)
    return _FILTERS[key]


def warm() -> None:
    """Do once, in a long-lived parent that forks confined children (pycodex's zygote), what
    every child would otherwise repeat: load libc and resolve the functions used here
    (never dlsym after fork), build the seccomp filters. Changes nothing in this process."""
    lib = libc()
    for name in ("syscall", "prctl", "mount", "unshare", "capget", "capset", "flock", "poll"):
        getattr(lib, name)
    last_cap()
    arch = machine()
    if arch in SYSCALLS:
        for network in (False, True):
            filter_for(arch, network)


PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
# NOROOT, NO_SETUID_FIXUP, KEEP_CAPS off, NO_CAP_AMBIENT_RAISE: all set and locked.
SECUREBITS_LOCKED = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80


def install_seccomp(filter_bytes: bytes) -> None:
    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buf = ctypes.create_string_buffer(filter_bytes, len(filter_bytes))
    prog = SockFprog(len(filter_bytes) // 8, ctypes.cast(buf, ctypes.c_void_p))
    _check(prctl(PR_SET_NO_NEW_PRIVS, 1), "prctl(NO_NEW_PRIVS)")
    rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog))
    _check(rc, "seccomp filter could not be installed")


# --- capabilities ---------------------------------------------------------------------------


def _capget() -> ctypes.Array[ctypes.c_uint32]:
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(libc().capget(header, data), "capget")
    return data


def drop_capabilities() -> None:
    """Empty every capability set; lock the securebits so uid 0 regains nothing on exec."""
    data = _capget()
    cap_setpcap = 8
    have_setpcap = bool(data[0] & (1 << cap_setpcap))
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    raw_prctl = libc().prctl  # ~120 calls below: no wrapper per call
    if have_setpcap:
        for cap in range(last_cap() + 1):
            _check(raw_prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"dropping capability {cap}")
        _check(prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED), "locking securebits")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    empty = (ctypes.c_uint32 * 6)()
    _check(libc().capset(header, empty), "capset")
    data = _capget()
    if any(data[i] for i in range(6)):
        raise SetupError("capabilities are still held after dropping them")
    if os.geteuid() == 0:
        for cap in range(last_cap() + 1):
            if raw_prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0:
                raise SetupError(f"uid 0 keeps capability {cap} in its bounding set")


_last_cap: list[int] = []


def last_cap() -> int:
    """The highest capability number this kernel knows (probed once: see `warm`)."""
    if not _last_cap:
        cap = 0
        while cap < 63 and prctl(PR_CAPBSET_READ, cap + 1) >= 0:
            cap += 1
        _last_cap.append(cap)
    return _last_cap[0]


# --- Landlock -------------------------------------------------------------------------------

LL_EXECUTE = 1 << 0
LL_WRITE_FILE = 1 << 1
LL_READ_FILE = 1 << 2
LL_READ_DIR = 1 << 3
LL_TRUNCATE = 1 << 14
LL_IOCTL_DEV = 1 << 15
LL_READ = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
LL_FILE_RIGHTS = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV
LL_SCOPE_ABSTRACT_UNIX_SOCKET = 1
LL_SCOPE_SIGNAL = 2
LANDLOCK_RULE_PATH_BENEATH = 1
LANDLOCK_CREATE_RULESET_VERSION = 1

# Device nodes a confined command may write: everything else under the host /dev is
# read-only to it (bwrap and userns show it a private /dev anyway).
WRITABLE_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                    "/dev/tty", "/dev/ptmx", "/dev/pts")


def landlock_abi() -> int:
    rc = libc().syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                        ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return rc if rc > 0 else 0


def _handled_fs(abi: int) -> int:
    if abi >= 5:
        return (1 << 16) - 1
    if abi >= 3:
        return (1 << 15) - 1
    if abi >= 2:
        return (1 << 14) - 1
    return (1 << 13) - 1


def apply_landlock(abi: int, roots: list[str], extra_writable: tuple[str, ...],
                   scope: bool) -> None:
    """Read (and execute) everywhere; write only beneath ``roots`` and a few devices."""
    lib = libc()
    handled = _handled_fs(abi)
    scoped = (LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL) if scope and abi >= 6 else 0
    if abi >= 6:
        attr = struct.pack("=QQQ", handled, 0, scoped)
    elif abi >= 4:
        attr = struct.pack("=QQ", handled, 0)
    else:
        attr = struct.pack("=Q", handled)
    abuf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = _check(lib.syscall(SYS_LANDLOCK_CREATE_RULESET, abuf, ctypes.c_size_t(len(attr)),
                                 ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        def add(path: str, access: int, required: bool) -> None:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError as exc:
                if required:
                    raise SetupError(
                        f"cannot open {path} for a Landlock rule: {exc.strerror}") from exc
                return
            try:
                if not os.path.isdir(f"/proc/self/fd/{fd}"):
                    access &= LL_FILE_RIGHTS
                rule = struct.pack("=Qi", access & handled, fd)
                rbuf = ctypes.create_string_buffer(rule, len(rule))
                _check(lib.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset),
                                   ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), rbuf,
                                   ctypes.c_uint32(0)), f"landlock_add_rule({path})")
            finally:
                os.close(fd)

        add("/", LL_READ, True)
        for path in WRITABLE_DEVICES + tuple(extra_writable):
            add(path, handled, False)
        for root in roots:
            add(root, handled, True)
        _check(prctl(PR_SET_NO_NEW_PRIVS, 1), "prctl(NO_NEW_PRIVS)")
        _check(lib.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)),
               "landlock_restrict_self")
    finally:
        os.close(ruleset)


# --- placeholders for protected names that do not exist yet --------------------------------

LOCK_SH = 1
LOCK_EX = 2
LOCK_NB = 4


def _flock(fd: int, op: int) -> int:
    return int(libc().flock(fd, op))


def _same_dir(fd: int, path: str) -> bool:
    try:
        a = os.fstat(fd)
        b = os.lstat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino) and a.st_nlink > 0


def acquire_placeholders(paths: list[str]) -> list[tuple[str, int]]:
    """Make each protected-but-missing path exist, and hold a shared flock on it.

    A missing ``.codex`` can only be made read-only by mounting over a real directory, so
    one is created. Returns (path, fd) for each held placeholder: whoever keeps the fds
    keeps the directories alive; `release_placeholders` removes them when no other
    sandbox holds them. Failure to create a placeholder where the user could not write
    anyway is ignored.
    """
    held: list[tuple[str, int]] = []
    try:
        for path in paths:
            fd = _acquire_one(path)
            if fd is not None:
                held.append((path, fd))
    except BaseException:
        for _, fd in held:
            os.close(fd)
        raise
    return held


def _acquire_one(path: str) -> int | None:
    for _ in range(50):
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            pass
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
                return None  # nobody can create it here: nothing to protect
            raise SetupError(f"cannot create placeholder {path}: {exc.strerror}") from exc
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                continue
            raise SetupError(f"protected path {path} is not a directory") from exc
        try:
            _lock_shared(fd, path)
        except SetupError:
            os.close(fd)
            raise
        if _same_dir(fd, path):
            return fd
        os.close(fd)  # removed by another holder meanwhile: create it again
    raise SetupError(f"cannot hold placeholder {path}")


# Another holder takes the lock exclusively only for the moment it removes the directory.
# Anyone holding it longer (a confined command can open and flock the directory) must not
# hang the caller: pycodex's zygote serves every command from one thread.
PLACEHOLDER_LOCK_WAIT_S = 1.0


def _lock_shared(fd: int, path: str) -> None:
    deadline = time.monotonic() + PLACEHOLDER_LOCK_WAIT_S
    while _flock(fd, LOCK_SH | LOCK_NB) < 0:
        err = ctypes.get_errno()
        if err not in (errno.EWOULDBLOCK, errno.EINTR):
            raise SetupError(f"flock({path}): {os.strerror(err)}")
        if time.monotonic() > deadline:
            raise SetupError(f"protected path {path} is locked by another process")
        time.sleep(0.005)


def release_placeholders(held: list[tuple[str, int]]) -> None:
    """Remove each placeholder unless another sandbox still holds it (or it is no longer
    an empty directory of ours), then drop the locks."""
    for path, fd in held:
        if _flock(fd, LOCK_EX | LOCK_NB) == 0 and _same_dir(fd, path):
            try:
                os.rmdir(path)
            except OSError:
                pass  # not empty (a real directory now) or busy: leave it
        os.close(fd)


def hold_placeholders(paths: list[str]) -> None:
    """Placeholders for the lifetime of this process and the command it becomes.

    The locks are handed to a detached janitor process (outside the command's process
    group, so a group kill does not reach it), which releases them when this process
    (the command, after exec) exits.
    """
    held = acquire_placeholders(paths)
    if held:
        _start_janitor(held)


class _PollFd(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_short), ("revents", ctypes.c_short)]


def _start_janitor(held: list[tuple[str, int]]) -> None:
    watched = os.pidfd_open(os.getpid())
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            if os.fork() != 0:
                os._exit(0)
            os.setsid()
            os.write(ready_w, b"1")
            keep = {fd for _, fd in held} | {watched}
            devnull = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            for entry in os.listdir("/proc/self/fd"):
                number = int(entry)
                if number > 2 and number not in keep:
                    try:
                        os.close(number)
                    except OSError:
                        pass
            pfd = _PollFd(watched, 1, 0)
            while libc().poll(ctypes.byref(pfd), 1, -1) < 0:
                if ctypes.get_errno() != errno.EINTR:
                    break
            release_placeholders(held)
        finally:
            os._exit(0)
    os.close(ready_w)
    os.waitpid(child, 0)
    ok = os.read(ready_r, 1)
    os.close(ready_r)
    os.close(watched)
    for _, fd in held:
        os.close(fd)  # the janitor keeps the shared locks
    if ok != b"1":
        raise SetupError("placeholder janitor did not start")


# --- pure-Python user-namespace backend -----------------------------------------------------

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _mount(src: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def enc(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    rc = libc().mount(enc(src), enc(target), enc(fstype), flags, enc(data))
    _check(rc, f"mount {target}")


def _setattr(path: str, attr_set: int, attr_clr: int, recursive: bool = True) -> int:
    attr = struct.pack("=QQQQ", attr_set, attr_clr, 0, 0)
    buf = ctypes.create_string_buffer(attr, len(attr))
    flags = AT_RECURSIVE if recursive else 0
    rc = libc().syscall(SYS_MOUNT_SETATTR, ctypes.c_int(AT_FDCWD), path.encode(),
                        ctypes.c_uint(flags), buf, ctypes.c_size_t(len(attr)))
    return rc if rc >= 0 else -ctypes.get_errno()


def enter_userns(network: bool) -> None:
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | (0 if network else CLONE_NEWNET)
    _check(libc().unshare(flags), "cannot create a user namespace (unshare)")
    try:
        _write("/proc/self/setgroups", "deny")
    except OSError:
        pass
    _write("/proc/self/uid_map", f"{uid} {uid} 1\n")
    _write("/proc/self/gid_map", f"{gid} {gid} 1\n")


def _bind_self(path: str) -> None:
    """Make ``path`` its own mount, refusing a path that turned into a symlink."""
    fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if (os.fstat(fd).st_mode & 0o170000) == 0o120000:
            raise SetupError(f"{path} became a symlink after the policy was computed")
        proc = f"/proc/self/fd/{fd}"
        _mount(proc, proc, None, MS_BIND | MS_REC)
    finally:
        os.close(fd)


def setup_mounts(roots: list[str], readonly: list[str]) -> None:
    """Private mount tree: everything read-only, nosuid, nodev except the writable roots,
    with their protected subpaths read-only again, and a few device nodes usable."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    for root in roots:
        _bind_self(root)
    for path in readonly:
        if os.path.lexists(path):
            _bind_self(path)
    rc = _setattr("/", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0)
    if rc < 0:
        raise SetupError(f"mount_setattr(/): {os.strerror(-rc)}")
    for root in roots:
        rc = _setattr(root, 0, MOUNT_ATTR_RDONLY)
        if rc == -errno.EPERM:  # a locked read-only submount: leave submounts alone
            rc = _setattr(root, 0, MOUNT_ATTR_RDONLY, recursive=False)
        if rc < 0 and rc != -errno.EPERM:
            raise SetupError(f"cannot make {root} writable: {os.strerror(-rc)}")
    for path in readonly:
        if os.path.lexists(path):
            rc = _setattr(path, MOUNT_ATTR_RDONLY, 0)
            if rc < 0:
                raise SetupError(f"cannot make {path} read-only: {os.strerror(-rc)}")
    # A private /dev/shm; a fresh devpts instance; the usual character devices usable
    # again (everything else under /dev stays nodev: /dev/kmsg, disks, ...).
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    try:
        _mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
               "newinstance,ptmxmode=0666,mode=620")
        if os.path.exists("/dev/ptmx"):
            _mount("/dev/pts/ptmx", "/dev/ptmx", None, MS_BIND)
    except SetupError:
        pass  # no pty support inside; /dev/pts stays nodev
    for dev in ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                "/dev/tty"):
        if os.path.exists(dev):
            _mount(dev, dev, None, MS_BIND)
            rc = _setattr(dev, 0, MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY, recursive=False)
            if rc < 0:
                raise SetupError(f"cannot re-enable {dev}: {os.strerror(-rc)}")


# --- main -----------------------------------------------------------------------------------


class Options:
    def __init__(self) -> None:
        self.stage = "inner"
        self.backend = ""
        self.net = "off"
        self.landlock = "try"
        self.chdir = ""
        self.root: list[str] = []
        self.ro: list[str] = []
        self.placeholder: list[str] = []
        self.scope = False
        self.userns = False
        self.probe_userns = False


_FLAGS = {"--scope": "scope", "--userns": "userns", "--probe-userns": "probe_userns"}
_LISTS = ("root", "ro", "placeholder")
_VALUES = ("stage", "backend", "net", "landlock", "chdir")


def parse(argv: list[str]) -> tuple[Options, list[str]]:
    opts = Options()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return opts, argv[i + 1:]
        if arg in _FLAGS:
            setattr(opts, _FLAGS[arg], True)
            i += 1
            continue
        if i + 1 >= len(argv):
            raise SetupError("option " + arg + " needs a value")
        key, value = arg[2:], argv[i + 1]
        if key in _LISTS:
            if not value.startswith("/"):
                raise SetupError(arg + " must be absolute: " + repr(value))
            getattr(opts, key).append(value)
        elif key in _VALUES:
            setattr(opts, key, value)
        else:
            raise SetupError("unknown option " + arg)
        i += 2
    if opts.probe_userns:
        return opts, []
    raise SetupError("no command (missing `--`)")


def confine(opts: Options, placeholders_held: bool = False) -> None:
    """Confine this process as `opts` say. `placeholders_held`: the caller (pycodex's
    zygote) already holds the placeholders and removes them when this process exits."""
    if opts.stage == "outer":
        if not placeholders_held:
            hold_placeholders(opts.placeholder)
        return
    network = opts.net == "on"
    arch = machine()
    if arch not in SYSCALLS:
        raise SetupError("unsupported architecture " + arch + " (seccomp: x86_64, aarch64)")
    filter_bytes = filter_for(arch, network)
    if opts.placeholder and not placeholders_held:
        hold_placeholders(opts.placeholder)
    if opts.userns:
        enter_userns(network)
        setup_mounts(opts.root, opts.ro + opts.placeholder)
    if opts.chdir:
        # After the mounts: a cwd taken before them would still point at the old,
        # read-only mount of the same directory.
        try:
            os.chdir(opts.chdir)
        except OSError as exc:
            raise SetupError("cannot enter " + opts.chdir + ": " + str(exc.strerror)) from exc
    try:
        os.setsid()  # no controlling terminal: TIOCSTI cannot reach the user's tty
    except OSError:
        pass  # already a session leader (the caller used start_new_session)
    drop_capabilities()
    if opts.landlock != "off":
        abi = landlock_abi()
        if abi:
            extra = ("/dev/shm",) if opts.backend in ("bwrap", "userns") else ()
            apply_landlock(abi, opts.root, extra, opts.scope)
        elif opts.landlock == "require":
            raise SetupError("Landlock is not available in this kernel")
    install_seccomp(filter_bytes)


def main(argv: list[str]) -> None:
    """Confine as `argv` says, then exec the command; never returns."""
    try:
        opts, cmd = parse(argv)
    except SetupError as exc:
        os.write(2, (_PREFIX + str(exc.args[0]) + "\n").encode())
        os._exit(SETUP_FAILED)
    run(opts, cmd)


def run(opts: Options, cmd: list[str], environ: dict[str, str] | None = None,
        placeholders_held: bool = False) -> None:
    """Confine as `opts` say, then exec `cmd`; never returns. `environ`: the command's
    environment (default: this process's); `placeholders_held`: see `confine`."""
    try:
        if opts.probe_userns:
            enter_userns(False)
            os._exit(0)
        confine(opts, placeholders_held)
    except SetupError as exc:
        os.write(2, (_PREFIX + str(exc.args[0]) + "\n").encode())
        os._exit(SETUP_FAILED)
    except Exception as exc:  # never run the command half-confined
        message = "setup failed: " + type(exc).__name__ + ": " + str(exc)
        os.write(2, (_PREFIX + message + "\n").encode())
        os._exit(SETUP_FAILED)
    env = dict(os.environ if environ is None else environ)
    if opts.stage == "inner":
        env["PYCODEX_SANDBOX"] = opts.backend or "linux"
        if opts.net != "on":
            env["CODEX_SANDBOX_NETWORK_DISABLED"] = "1"
        else:
            env.pop("CODEX_SANDBOX_NETWORK_DISABLED", None)
    try:
        os.execvpe(cmd[0], cmd, env)
    except OSError as exc:
        reason = "command not found" if exc.errno == errno.ENOENT else str(exc.strerror)
        os.write(2, (cmd[0] + ": " + reason + "\n").encode())
        os._exit(127 if exc.errno == errno.ENOENT else 126)


if __name__ == "__main__":
    main(sys.argv[1:])
