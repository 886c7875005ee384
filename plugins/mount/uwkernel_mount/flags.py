"""Mount and umount flag names, as uWSGI's ``core/mount.c`` spells them, and their Linux values.

uWSGI keeps one table for both calls, so ``force`` given to mount(2) would mean ``MS_RDONLY``;
here mount(2) and umount2(2) each accept only their own flags. Beyond uWSGI's names this adds
``slave``, ``unbindable``, ``nodiratime``, ``relatime``, ``strictatime`` (mount) and ``lazy``
(= ``detach``), ``expire``, ``nofollow`` (umount).
"""
from __future__ import annotations

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_SYNCHRONOUS = 16
MS_REMOUNT = 32
MS_MANDLOCK = 64
MS_DIRSYNC = 128
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24

MNT_FORCE = 1
MNT_DETACH = 2
MNT_EXPIRE = 4
UMOUNT_NOFOLLOW = 8

MOUNT_FLAGS: dict[str, int] = {
    "bind": MS_BIND,
    "dirsync": MS_DIRSYNC,
    "mandlock": MS_MANDLOCK,
    "move": MS_MOVE,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "nosuid": MS_NOSUID,
    "rdonly": MS_RDONLY,
    "readonly": MS_RDONLY,
    "ro": MS_RDONLY,
    "remount": MS_REMOUNT,
    "sync": MS_SYNCHRONOUS,
    "rec": MS_REC,
    "recursive": MS_REC,
    "private": MS_PRIVATE,
    "shared": MS_SHARED,
    "slave": MS_SLAVE,
    "unbindable": MS_UNBINDABLE,
}

#: umount2(2) flags; ``rec``/``recursive`` is not a kernel flag: it unmounts what is below first.
UMOUNT_FLAGS: dict[str, int] = {
    "force": MNT_FORCE,
    "detach": MNT_DETACH,
    "lazy": MNT_DETACH,
    "expire": MNT_EXPIRE,
    "nofollow": UMOUNT_NOFOLLOW,
    "rec": MS_REC,
    "recursive": MS_REC,
}


def _parse(text: str | None, table: dict[str, int], what: str, ignored: tuple[str, ...] = ()) -> int:
    value = 0
    for name in (text or "").split(","):
        if not name or name in ignored:
            continue
        try:
            value |= table[name]
        except KeyError:
            raise ValueError(f"unknown {what} flag '{name}' (known: {', '.join(sorted(table))})") from None
    return value


def parse_mount_flags(text: str | None) -> int:
    """The mount(2) flags of a comma-separated list (``bind,rec,ro``); ``defaults`` adds nothing."""
    return _parse(text, MOUNT_FLAGS, "mount", ignored=("defaults",))


def parse_umount_flags(text: str | None) -> tuple[int, bool]:
    """The umount2(2) flags of a comma-separated list, and whether ``rec``/``recursive`` was asked."""
    value = _parse(text, UMOUNT_FLAGS, "umount")
    return value & ~MS_REC, bool(value & MS_REC)
