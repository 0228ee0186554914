"""Linux confinement primitives applied by a child process to itself before it runs student code.

Each layer is a small function that either applies fully or raises
:class:`ConfinementUnavailable` with the reason, so the caller knows exactly
which layers hold.  The order matters (see :func:`confine`): namespaces and the
private tmpfs need capabilities, so they come first; then the capabilities are
dropped, then Landlock limits the file system, then seccomp limits system calls.
Nothing here can be undone by the process afterwards: Landlock domains and
seccomp filters are inherited and irrevocable, and with no capabilities and
``no_new_privs`` there is no way back.

Everything goes through ``ctypes`` system calls so that no extra package is
needed; the numbers are the kernel's ABI for x86_64 and aarch64.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import platform
import resource
import signal
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ConfinementUnavailable(Exception):
    """A confinement layer cannot be applied on this system (the message says why)."""


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

_ARCH = platform.machine()
# System call numbers: (x86_64, aarch64).  ``None``: the call does not exist there.
_SYSCALLS: dict[str, tuple[int | None, int | None]] = {
    "socket": (41, 198),
    "fork": (57, None),
    "vfork": (58, None),
    "clone": (56, 220),
    "clone3": (435, 435),
    "execve": (59, 221),
    "execveat": (322, 281),
    "kill": (62, 129),
    "tkill": (200, 130),
    "tgkill": (234, 131),
    "rt_sigqueueinfo": (129, 138),
    "rt_tgsigqueueinfo": (297, 240),
    "pidfd_send_signal": (424, 424),
    "pidfd_open": (434, 434),
    "pidfd_getfd": (438, 438),
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "chroot": (161, 51),
    "unshare": (272, 97),
    "setns": (308, 268),
    "bpf": (321, 280),
    "perf_event_open": (298, 241),
    "userfaultfd": (323, 282),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "reboot": (169, 142),
    "kexec_load": (246, 104),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "io_uring_setup": (425, 425),
    "open_by_handle_at": (304, 265),
    "name_to_handle_at": (303, 264),
    "open_tree": (428, 428),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "landlock_create_ruleset": (444, 444),
    "landlock_add_rule": (445, 445),
    "landlock_restrict_self": (446, 446),
}
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}


def _nr(name: str) -> int | None:
    pair = _SYSCALLS[name]
    if _ARCH == "x86_64":
        return pair[0]
    if _ARCH == "aarch64":
        return pair[1]
    return None


def _syscall(name: str, *args: Any) -> int:
    nr = _nr(name)
    if nr is None:
        raise ConfinementUnavailable(f"system call {name} unknown on {_ARCH}")
    _libc.syscall.restype = ctypes.c_long
    result = int(_libc.syscall(ctypes.c_long(nr), *args))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}: {os.strerror(err)}")
    return result


# --- resource limits -----------------------------------------------------------------


@dataclass(frozen=True)
class RLimits:
    """Kernel resource limits for the child (``RLIMIT_AS`` is avoided: it breaks torch)."""

    cpu_s: int
    data_bytes: int
    file_bytes: int
    open_files: int = 256
    processes: int | None = None


def apply_rlimits(limits: RLimits) -> None:
    """Set the child's rlimits (soft = hard, so it cannot raise them back)."""
    # CPU: SIGXCPU at the soft limit, SIGKILL one second later (a handler cannot ignore that).
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    pairs = [
        (resource.RLIMIT_DATA, limits.data_bytes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    if limits.processes is not None:
        pairs.append((resource.RLIMIT_NPROC, limits.processes))
    for which, value in pairs:
        resource.setrlimit(which, (value, value))


# --- namespaces and the private tmpfs -------------------------------------------------

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18
_MS_NOSUID = 2
_MS_NODEV = 4


def isolate_namespaces(workdir: Path, size_mib: int) -> None:
    """Enter new mount and network namespaces and mount a size-capped tmpfs on ``workdir``.

    The network namespace has no interface but a loopback that is down, so no
    connection can leave (and abstract Unix sockets of the host are out of reach).
    The tmpfs caps how much the child can write in total.
    """
    if _libc.unshare(ctypes.c_int(CLONE_NEWNS | CLONE_NEWNET)) != 0:
        err = ctypes.get_errno()
        raise ConfinementUnavailable(f"namespaces: unshare failed ({os.strerror(err)})")
    if _libc.mount(b"none", b"/", None, ctypes.c_ulong(_MS_REC | _MS_PRIVATE), None) != 0:
        err = ctypes.get_errno()
        raise ConfinementUnavailable(f"namespaces: making / private failed ({os.strerror(err)})")
    options = f"size={size_mib}m,mode=0700".encode()
    flags = ctypes.c_ulong(_MS_NOSUID | _MS_NODEV)
    if _libc.mount(b"tmpfs", str(workdir).encode(), b"tmpfs", flags, options) != 0:
        err = ctypes.get_errno()
        raise ConfinementUnavailable(f"private tmpfs: mount failed ({os.strerror(err)})")


# --- capabilities ------------------------------------------------------------------------

_PR_SET_NO_NEW_PRIVS = 38
_PR_CAPBSET_DROP = 24
_PR_SET_DUMPABLE = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def drop_capabilities() -> None:
    """Drop every capability (bounding, effective, permitted, inheritable) and set no_new_privs.

    A root child keeps its uid, but without capabilities it cannot mount, unmount,
    trace, or override file permissions; Landlock then limits what uid 0 may open.
    """
    for cap in range(64):
        if _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            raise ConfinementUnavailable("capabilities: cannot drop the bounding set")
    header = struct.pack("Ii", _LINUX_CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # two __user_cap_data_struct of zeros
    hbuf = ctypes.create_string_buffer(header)
    dbuf = ctypes.create_string_buffer(data)
    if _libc.capset(hbuf, dbuf) != 0:
        raise ConfinementUnavailable(f"capabilities: capset failed ({os.strerror(ctypes.get_errno())})")
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise ConfinementUnavailable("no_new_privs could not be set")


_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` (SIGKILL unless told) to this process when its parent dies (Linux only)."""
    prctl = getattr(_libc, "prctl", None)
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)


def make_undumpable() -> None:
    """Keep other processes of the same uid from reading this one's memory via /proc (Linux only)."""
    prctl = getattr(_libc, "prctl", None)
    if prctl is not None:
        prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


# --- Landlock ------------------------------------------------------------------------------

_LL_CREATE_RULESET_VERSION = 1
_LL_RULE_PATH_BENEATH = 1
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_FILE_RIGHTS = {1: 0b111, 2: 0b111, 3: 0b111 | (1 << 14), 4: 0b111 | (1 << 14)}
_FS_ALL = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_NET_ALL = 0b11
_SCOPE_ALL = 0b11


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0 when Landlock is unavailable)."""
    nr = _nr("landlock_create_ruleset")
    if nr is None:
        return 0
    _libc.syscall.restype = ctypes.c_long
    version = int(_libc.syscall(ctypes.c_long(nr), None, ctypes.c_size_t(0), _LL_CREATE_RULESET_VERSION))
    return max(version, 0)


def _fs_all(abi: int) -> int:
    return _FS_ALL[max(k for k in _FS_ALL if k <= abi)]


def _file_rights(abi: int) -> int:
    rights = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE
    if abi >= 3:
        rights |= 1 << 14  # TRUNCATE
    if abi >= 5:
        rights |= 1 << 15  # IOCTL_DEV
    return rights


def apply_landlock(read_only: Iterable[Path], read_write: Iterable[Path]) -> int:
    """Allow reading only under ``read_only`` and writing only under ``read_write``.

    Also denies every TCP bind/connect (ABI >= 4) and signals or abstract Unix
    sockets outside the sandbox (ABI >= 6).  Returns the ABI used.
    """
    abi = landlock_abi()
    if abi < 1:
        raise ConfinementUnavailable("Landlock: not supported by this kernel")
    fs_all = _fs_all(abi)
    fields = [fs_all]
    if abi >= 4:
        fields.append(_NET_ALL)
    if abi >= 6:
        fields.append(_SCOPE_ALL)
    attr = struct.pack(f"{len(fields)}Q", *fields)
    abuf = ctypes.create_string_buffer(attr)
    try:
        ruleset = _syscall("landlock_create_ruleset", abuf, ctypes.c_size_t(len(attr)), 0)
    except OSError as exc:
        raise ConfinementUnavailable(f"Landlock: {exc}") from None
    try:
        read = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
        rules = [(p, read) for p in read_only] + [(p, fs_all) for p in read_write]
        for path, rights in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # a path that does not exist needs no rule
            try:
                if not os.path.isdir(path):
                    rights &= _file_rights(abi)
                rule = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd))
                _syscall("landlock_add_rule", ruleset, _LL_RULE_PATH_BENEATH, rule, 0)
            finally:
                os.close(fd)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise ConfinementUnavailable("no_new_privs could not be set")
        _syscall("landlock_restrict_self", ruleset, 0)
    except OSError as exc:
        raise ConfinementUnavailable(f"Landlock: {exc}") from None
    finally:
        os.close(ruleset)
    return abi


# --- seccomp -------------------------------------------------------------------------------

_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_CLONE_THREAD = 0x00010000


def _errno_ret(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def _stmt(code: int, k: int) -> bytes:
    return struct.pack("HBBI", code, 0, 0, k & 0xFFFFFFFF)


def _jump(code: int, k: int, jt: int, jf: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k & 0xFFFFFFFF)


_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JSET_K = 0x45
_RET_K = 0x06


def _seccomp_program(own_pid: int) -> list[bytes]:
    """The filter: deny process creation, exec, sockets, signals to others, and kernel-admin calls."""
    arch = _AUDIT_ARCH.get(_ARCH)
    if arch is None:
        raise ConfinementUnavailable(f"seccomp: architecture {_ARCH} not supported")
    deny = _errno_ret(errno.EPERM)
    prog: list[bytes] = [
        _stmt(_LD_W_ABS, 4),  # arch
        _jump(_JEQ_K, arch, 1, 0),
        _stmt(_RET_K, _RET_KILL_PROCESS),
        _stmt(_LD_W_ABS, 0),  # syscall number
    ]
    if _ARCH == "x86_64":  # x32 system calls bypass the numbers below
        prog += [_jump(0x35, 0x40000000, 0, 1), _stmt(_RET_K, _RET_KILL_PROCESS)]  # JGE
    # clone: threads only.
    clone = _nr("clone")
    assert clone is not None
    prog += [
        _jump(_JEQ_K, clone, 0, 4),
        _stmt(_LD_W_ABS, 16),  # args[0] low word: flags
        _jump(_JSET_K, _CLONE_THREAD, 0, 1),
        _stmt(_RET_K, _RET_ALLOW),
        _stmt(_RET_K, deny),
    ]
    # clone3 hides its flags in memory: say "not implemented" so libc falls back to clone.
    prog += [_jump(_JEQ_K, 435, 0, 1), _stmt(_RET_K, _errno_ret(errno.ENOSYS))]
    # kill and tgkill: only to itself (pid 0 = its own process group, it is a session leader).
    for name in ("kill", "tgkill"):
        nr = _nr(name)
        assert nr is not None
        prog += [
            _jump(_JEQ_K, nr, 0, 5),
            _stmt(_LD_W_ABS, 16),
            _jump(_JEQ_K, own_pid, 2, 0),
            _jump(_JEQ_K, 0, 1, 0) if name == "kill" else _jump(_JEQ_K, own_pid, 1, 0),
            _stmt(_RET_K, deny),
            _stmt(_RET_K, _RET_ALLOW),
        ]
    denied = [
        "socket", "fork", "vfork", "execve", "execveat", "tkill", "rt_sigqueueinfo",
        "rt_tgsigqueueinfo", "pidfd_send_signal", "pidfd_open", "pidfd_getfd", "ptrace",
        "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
        "unshare", "setns", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key",
        "request_key", "reboot", "kexec_load", "init_module", "finit_module", "delete_module",
        "io_uring_setup", "open_by_handle_at", "name_to_handle_at", "open_tree", "move_mount",
        "fsopen", "fsmount", "fspick", "mount_setattr",
    ]  # fmt: skip
    for name in denied:
        nr = _nr(name)
        if nr is not None:
            prog += [_jump(_JEQ_K, nr, 0, 1), _stmt(_RET_K, deny)]
    prog.append(_stmt(_RET_K, _RET_ALLOW))
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def apply_seccomp() -> None:
    """Install the seccomp filter for the calling process (and threads it starts later)."""
    prog = _seccomp_program(os.getpid())
    raw = b"".join(prog)
    buf = ctypes.create_string_buffer(raw)
    fprog = _SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise ConfinementUnavailable("no_new_privs could not be set")
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise ConfinementUnavailable(f"seccomp: {os.strerror(ctypes.get_errno())}")
