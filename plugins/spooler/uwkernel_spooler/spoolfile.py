"""The spool file: uWSGI's on-disk form of one task, written atomically and claimed under a lock.

A spool file is a uwsgi packet: a 4-byte header (modifier1 17, datasize u16 little-endian,
modifier2 0), a vars block of ``datasize`` bytes (the task's dict: ``u16le keylen, key, u16le
vallen, value`` repeated), then the raw body, whose length is the file size less ``datasize + 4``.
A task's ``at`` is the file's mtime: a file whose mtime is in the future is not run yet. Its name is
``uwsgi_spoolfile_on_<host>_<pid>_<counter>_<random>_<sec>_<usec>``, in the spool dir or in a
numeric priority subdirectory of it.

Writing, so that a spooler, ours or uWSGI's, never sees half a task: a task of at most one page
(:data:`IN_PLACE_MAX` bytes, nearly all of them) without ``at`` is created under its name (mode 0600,
``O_EXCL``) and filled by a single ``write()``, as uWSGI writes in place but in one call: the kernel
copies a page whole before the file's size covers it, so a reader sees the file empty or whole, and a
writer killed at any point leaves it empty or whole (an empty file is never run: see
:meth:`Task.in_progress`). A bigger task, or one with an ``at`` (the mtime is set once the data is
written), goes to an unnamed file (``O_TMPFILE``) that gets its mtime and is then linked under its
real name — or, where the file system cannot, to a hidden temporary file (``.uwsgi_spoolfile_on_...``,
which no spooler scans) linked under its name once whole. Claiming: the file is opened without following
symlinks and locked with a non-blocking whole-file write lock (an open-file-description lock, which
conflicts with uWSGI's ``fcntl`` locks both ways); the lock is held while the task runs, and the file
is unlinked before it is released.
"""
from __future__ import annotations

import errno
import fcntl
import mmap
import os
import stat
import struct

from uwkernel.proto import ProtocolError
from uwkernel.proto.uwsgi import HEADER_SIZE, MAX_PAYLOAD, parse_vars

#: Every spool file's name starts with this.
PREFIX = b"uwsgi_spoolfile_on_"
#: Temporary files being written are hidden under this prefix (never scanned).
TEMP_PREFIX = b"." + PREFIX
#: A file that is not a valid spool file is renamed with this suffix.
BAD_SUFFIX = b".bad"
#: The header's modifier1: a spool request.
MODIFIER1 = 17
#: A file shorter than a header is taken for one a writer is still filling for this long.
IN_PROGRESS_GRACE = 60.0
#: The largest task written in place by one ``write()``: one page, which the kernel copies whole.
IN_PLACE_MAX = mmap.PAGESIZE

_WRITE_LOCK = struct.pack("@hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
_OPEN_FLAGS = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOATIME
_CREATE_FLAGS = os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC
_UNNAMED_FLAGS = os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC
#: Whether this file system takes O_TMPFILE files and /proc lets them be linked (else: temp + rename).
_unnamed_files = True
_anchor_fd: int | None = None


class SpoolFileError(ValueError):
    """The bytes are not a valid spool file (garbage, truncated, or a dict that does not parse)."""


# -- the format: a uwsgi packet, bytes keys and values (``encode_packet(MODIFIER1, pairs, raw=True)`` + body) --


def parse(data: bytes) -> tuple[dict[bytes, bytes], bytes]:
    """The ``(dict, body)`` of a whole spool file; :class:`SpoolFileError` if it is not one."""
    if len(data) < HEADER_SIZE:
        raise SpoolFileError(f"{len(data)} bytes: shorter than a header")
    if data[0] != MODIFIER1:
        raise SpoolFileError(f"modifier1 {data[0]} is not a spool request ({MODIFIER1})")
    end = HEADER_SIZE + (data[1] | data[2] << 8)
    if end > len(data):
        raise SpoolFileError(f"truncated: the dict is {end - HEADER_SIZE} bytes, {len(data) - HEADER_SIZE} present")
    try:  # no limit on the number of items: a spool dict is bounded by its 64 KiB only
        return parse_vars(data[HEADER_SIZE:end], MAX_PAYLOAD, True), data[end:]
    except ProtocolError as exc:
        raise SpoolFileError(exc.message) from None


# -- writing -----------------------------------------------------------------------------------------


def write(path: bytes | str, data: bytes, at: int = 0) -> None:
    """Write ``data`` (a whole spool file) at ``path`` so that no reader sees it partly.

    Up to :data:`IN_PLACE_MAX` bytes without ``at``: created under its name and filled by one
    ``write()``. Otherwise the file is written unnamed (``O_TMPFILE``) and linked under its name once
    whole; where the file system cannot do that, it is written as a hidden ``.name`` and linked (or
    renamed, without hard links) under its name.
    ``at`` > 0 becomes the file's atime and mtime (the task runs from then on). On any error nothing
    is left behind.
    """
    global _unnamed_files
    if at <= 0 and len(data) <= IN_PLACE_MAX:
        fd = os.open(path, _CREATE_FLAGS, 0o600)
        try:
            written = os.write(fd, data)
        except BaseException:
            os.close(fd)
            _unlink_quietly(path)
            raise
        os.close(fd)
        if written != len(data):  # only a full disk does that: remove what no reader can have run
            _unlink_quietly(path)
            raise OSError(errno.ENOSPC, f"{written} of {len(data)} bytes written to {os.fsdecode(path)}")
        return
    directory, name = os.path.split(os.fsencode(path))
    if _unnamed_files:
        try:
            fd = os.open(directory, _UNNAMED_FLAGS, 0o600)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise
            _unnamed_files = False
        else:
            try:
                _fill(fd, data, at)
                os.link(f"/proc/self/fd/{fd}", path, dst_dir_fd=_link_anchor())
                return
            except FileNotFoundError:
                if not os.path.isdir(directory):
                    raise
                _unnamed_files = False  # no /proc (a chroot): fall back to renaming
            finally:
                os.close(fd)
    temp = b"%s/.%s" % (directory, name)
    fd = os.open(temp, _CREATE_FLAGS, 0o600)
    try:
        _fill(fd, data, at)
        try:
            os.link(temp, path)  # unlike a rename, never replaces a task of that name
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP):
                raise
            os.rename(temp, path)  # no hard links on this file system (the names are unique anyway)
    finally:
        os.close(fd)
        _unlink_quietly(temp)


def _fill(fd: int, data: bytes, at: int) -> None:
    """Write all of ``data`` to ``fd`` and set its mtime to ``at`` (when > 0)."""
    written = os.write(fd, data)
    if written < len(data):
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view):]
    if at > 0:
        os.utime(fd, (at, at))


def _link_anchor() -> int:
    """A directory fd: ``os.link`` only calls ``linkat(..., AT_SYMLINK_FOLLOW)`` when given one (the
    destination path is absolute, so which directory does not matter)."""
    global _anchor_fd
    if _anchor_fd is None:
        _anchor_fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    return _anchor_fd


def _unlink_quietly(path: bytes | str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# -- claiming ----------------------------------------------------------------------------------------


class Task:
    """A spool file this process holds the lock of; the lock goes with :meth:`release` (or its kin)."""

    __slots__ = ("path", "fd", "stat", "data")

    def __init__(self, path: bytes | str, fd: int, st: os.stat_result, data: bytes):
        self.path = path
        self.fd = fd
        self.stat = st
        self.data = data

    @property
    def mtime(self) -> float:
        """The file's mtime: the task's ``at``."""
        return self.stat.st_mtime

    def in_progress(self, now: float) -> bool:
        """Whether a file too short for a header may still be being written (in place, by us or uWSGI).

        Such a file is left alone for :data:`IN_PROGRESS_GRACE` seconds (its writer died if it is
        still short then).
        """
        return len(self.data) < HEADER_SIZE and now - self.stat.st_ctime < IN_PROGRESS_GRACE

    def release(self) -> None:
        """Unlock the task and leave the file where it is (to run on a later scan)."""
        os.close(self.fd)

    def finish(self) -> None:
        """The task is done: remove the file, then unlock."""
        try:
            os.unlink(self.path)
        finally:
            os.close(self.fd)

    def set_aside(self) -> bytes | None:
        """Rename a file that is not a valid task to ``<name>.bad`` and unlock; return the new path (bytes).

        None when the file is no longer at its path (another process moved it first).
        """
        try:
            if os.stat(self.path).st_ino != self.stat.st_ino:
                return None
            bad = os.fsencode(self.path) + BAD_SUFFIX
            os.rename(self.path, bad)
            return bad
        except FileNotFoundError:
            return None
        finally:
            os.close(self.fd)


def claim(path: bytes | str) -> Task | bool | None:
    """Open and lock the spool file ``path`` and read it whole.

    False when the file is gone (run by another spooler: a fresh listing is due); None when it
    cannot be had now: locked by a running spooler, or not a regular file (a symlink is never followed).
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return False
    except PermissionError:  # O_NOATIME needs the file's owner: open another user's task without it
        try:
            fd = os.open(path, _OPEN_FLAGS & ~os.O_NOATIME)
        except OSError:
            return None
    except OSError:
        return None
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _WRITE_LOCK)
        st = os.fstat(fd)
        if st.st_nlink == 0 or not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return False if st.st_nlink == 0 else None
        data = _read_all(fd, st.st_size)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    return Task(path, fd, st, data)


def _read_all(fd: int, size: int) -> bytes:
    data = os.pread(fd, size, 0)
    if len(data) == size:
        return data
    chunks = [data]
    offset = len(data)
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def read(path: bytes | str) -> tuple[dict[bytes, bytes], bytes] | None:
    """The ``(dict, body)`` of the task at ``path``, or None when it is missing, locked or not valid.

    The lock is taken only to check that no spooler is running the task, and released at once.
    """
    task = claim(path)
    if not task:
        return None
    try:
        return parse(task.data)
    except SpoolFileError:
        return None
    finally:
        task.release()
