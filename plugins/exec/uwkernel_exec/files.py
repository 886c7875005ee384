"""Handlers that act on files: mkdir, chmod, chown, sticky, create, write(n), append(n), writefifo, unlink.

Arguments follow uWSGI's hooks: ``FILE TEXT`` takes the path up to the first space and writes the
rest as it is (the ``n`` variants add a newline); new files are created with mode 0666 less the umask.
"""
from __future__ import annotations

import errno
import grp
import os
import pwd
import re
import stat

from uwkernel import log

#: An octal mode (a pattern compiled at its first use: few instances chmod).
_MODE = r"[0-7]{3,4}"


def _split(args: str, syntax: str, count: int) -> list[str]:
    """Split ``args`` at the first ``count - 1`` spaces into exactly ``count`` non-empty parts."""
    parts = args.split(" ", count - 1)
    if len(parts) != count or not all(parts[:-1]):
        raise ValueError(f"expected '{syntax}', got {args!r}")
    return parts


def _write(path: str, data: bytes, flags: int) -> None:
    fd = os.open(path, os.O_WRONLY | flags, 0o666)
    try:
        written = os.write(fd, data)
    finally:
        os.close(fd)
    if written != len(data):
        raise OSError(f"short write to {path}: {written} of {len(data)} bytes")


def mkdir(path: str) -> None:
    """``mkdir:DIR``: create one directory (mode 0777 less the umask); an existing one fails."""
    os.mkdir(path, 0o777)


def chmod(args: str) -> None:
    """``chmod:FILE MODE``: set the mode of FILE; MODE is octal (``644``, ``0755``, ``1777``)."""
    path, mode = _split(args, "<file> <octal mode>", 2)
    if not re.fullmatch(_MODE, mode):
        raise ValueError(f"invalid mode {mode!r}: expected 3 or 4 octal digits")
    os.chmod(path, int(mode, 8))


def _id(value: str, lookup, kind: str) -> int:
    if value.isdigit():
        return int(value)
    try:
        return lookup(value)
    except KeyError:
        raise LookupError(f"unknown {kind} {value!r}") from None


def chown(args: str) -> None:
    """``chown:FILE USER GROUP``: set the owner of FILE; USER and GROUP are names or numbers."""
    path, user, group = _split(args, "<file> <user> <group>", 3)
    os.chown(
        path,
        _id(user, lambda name: pwd.getpwnam(name).pw_uid, "user"),
        _id(group, lambda name: grp.getgrnam(name).gr_gid, "group"),
    )


def sticky(path: str) -> None:
    """``sticky:FILE``: add the sticky bit to FILE's mode."""
    os.chmod(path, os.stat(path).st_mode | stat.S_ISVTX)


def create(path: str) -> None:
    """``create:FILE``: create FILE empty (truncating it if it exists)."""
    _write(path, b"", os.O_CREAT | os.O_TRUNC)


def write(args: str) -> None:
    """``write:FILE TEXT``: write TEXT to FILE, truncating it."""
    path, text = _split(args, "<file> <text>", 2)
    _write(path, text.encode(), os.O_CREAT | os.O_TRUNC)


def writen(args: str) -> None:
    """``writen:FILE TEXT``: write TEXT and a newline to FILE, truncating it."""
    path, text = _split(args, "<file> <text>", 2)
    _write(path, text.encode() + b"\n", os.O_CREAT | os.O_TRUNC)


def append(args: str) -> None:
    """``append:FILE TEXT``: append TEXT to FILE."""
    path, text = _split(args, "<file> <text>", 2)
    _write(path, text.encode(), os.O_CREAT | os.O_APPEND)


def appendn(args: str) -> None:
    """``appendn:FILE [TEXT]``: append TEXT and a newline to FILE (only a newline without TEXT)."""
    path, _, text = args.partition(" ")
    _write(path, text.encode() + b"\n", os.O_CREAT | os.O_APPEND)


def writefifo(args: str) -> None:
    """``writefifo:FIFO TEXT``: write TEXT to a fifo without blocking; no reader is not a failure."""
    path, text = _split(args, "<fifo> <text>", 2)
    try:
        _write(path, text.encode(), os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno not in (errno.ENXIO, errno.ENODEV):
            raise
        log.log(f"writefifo: nobody is reading {path}, nothing written")


def unlink(path: str) -> None:
    """``unlink:FILE``: remove FILE."""
    os.unlink(path)
