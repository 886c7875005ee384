"""The ``mount`` and ``umount`` handlers: their arguments and the mount(2) / umount2(2) calls.

``mount:FS SOURCE TARGET [FLAGS [DATA]]`` and ``umount:TARGET [FLAGS]``, fields separated by single
spaces as uWSGI splits them (DATA, the filesystem options such as ``size=10m,mode=755``, is the rest
of the line). An empty FS (a leading space) passes no filesystem type, as for bind mounts.
"""
from __future__ import annotations

import ctypes
import os
import re
from dataclasses import dataclass

from .flags import parse_mount_flags, parse_umount_flags

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


@dataclass(frozen=True)
class MountCall:
    """The arguments of one mount(2) call."""

    fs: str | None
    source: str
    target: str
    flags: int
    data: str | None


@dataclass(frozen=True)
class UmountCall:
    """The arguments of one umount2(2) call, and whether the mounts below ``target`` go first."""

    target: str
    flags: int
    recursive: bool


def parse_mount(args: str) -> MountCall:
    """Parse ``FS SOURCE TARGET [FLAGS [DATA]]``; raise ValueError on bad syntax or an unknown flag."""
    parts = args.split(" ", 4)
    if len(parts) < 3 or not parts[1] or not parts[2]:
        raise ValueError(f"expected '<fs> <source> <target> [flags [data]]', got {args!r}")
    fs, source, target = parts[:3]
    flags = parts[3] if len(parts) > 3 else None
    data = parts[4] if len(parts) > 4 else None
    return MountCall(fs or None, source, target, parse_mount_flags(flags), data)


def parse_umount(args: str) -> UmountCall:
    """Parse ``TARGET [FLAGS]``; raise ValueError on a missing target or an unknown flag."""
    target, _, flags = args.partition(" ")
    if not target:
        raise ValueError(f"expected '<target> [flags]', got {args!r}")
    value, recursive = parse_umount_flags(flags)
    return UmountCall(target, value, recursive)


def _encode(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


def _fail(call: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{call} failed: {os.strerror(err)}")


def mount(args: str) -> None:
    """``mount:FS SOURCE TARGET [FLAGS [DATA]]``: call mount(2); its errno is in the failure."""
    call = parse_mount(args)
    if _libc.mount(_encode(call.source), _encode(call.target), _encode(call.fs), call.flags, _encode(call.data)):
        raise _fail(f"mount({call.source!r}, {call.target!r}, {call.fs!r}, {call.flags:#x})")


def _mounts_below(target: str) -> list[str]:
    """Mount points strictly below ``target`` (from /proc/self/mounts), deepest first."""
    prefix = os.path.realpath(target).rstrip("/") + "/"
    with open("/proc/self/mounts", encoding="utf-8", errors="surrogateescape") as mounts:
        points = [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split(" ")[1])
                  for line in mounts if line.count(" ") >= 2]
    return sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True)


def _umount2(target: str, flags: int) -> None:
    if _libc.umount2(_encode(target), flags):
        raise _fail(f"umount2({target!r}, {flags:#x})")


def umount(args: str) -> None:
    """``umount:TARGET [FLAGS]``: call umount2(2); ``rec`` unmounts what is mounted below first."""
    call = parse_umount(args)
    if call.recursive:
        for below in _mounts_below(call.target):
            _umount2(below, call.flags)
    _umount2(call.target, call.flags)
