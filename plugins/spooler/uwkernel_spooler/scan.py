"""Which files of a spool dir are tasks, and in what order a spooler tries them.

A task is a file named ``uwsgi_spoolfile_on_...`` (not ending in ``.bad``) in the spool dir or in one
of its priority subdirectories, whose names are numbers. Priorities are always scanned first, lower
number first, each in full before the next (uWSGI scans them only with ``spooler-ordered``; here a
task given a priority runs either way).

Ordered (``spooler-ordered``): every listing is sorted as glibc's ``versionsort`` sorts (numbers
compared as numbers), so tasks run in the order they were written. Unordered: directory order,
rotated by a per-process offset so that several spoolers of one dir start on different tasks.

Hidden ``.uwsgi_spoolfile_on_...`` files are tasks being written; one left behind by a writer that
died (untouched for :data:`STALE_TEMP_AGE` seconds) is removed.
"""
from __future__ import annotations

import os
import re
import stat
import time
from typing import Iterator

from .spoolfile import BAD_SUFFIX, PREFIX, TEMP_PREFIX

#: A temporary spool file left this long (by a writer that died mid-write) is removed.
STALE_TEMP_AGE = 600.0

_DIGIT_RUNS = re.compile(r"(\d+)")


def version_key(name: str) -> tuple:
    """A sort key ordering names as glibc's ``strverscmp`` does: ``"9" < "10"``, ``"a2" < "a10"``.

    Runs of digits compare as numbers; runs with leading zeros as glibc's "fractional" parts
    (``"000" < "00" < "01" < "010" < "09" < "0" < "1"``); text compares by character, where a
    digit sorts as the character it is.
    """
    parts = _DIGIT_RUNS.split(name)
    last = len(parts) - 1
    key: list = []
    for index, part in enumerate(parts):
        if index % 2 == 0:  # text; "0" stands for the digit run that follows it, if any
            key.append(part + "0" if index < last else part)
        elif part[0] != "0" or part == "0":
            key.append((1, len(part), part))
        else:  # a fraction: more zeros first; then zeros only last; then digit by digit
            digits = part.lstrip("0")
            key.append((0, len(digits) - len(part), not digits, digits + parts[index + 1][:1]))
    return tuple(key)


def _listing(directory: bytes) -> tuple[list[bytes], list[bytes]]:
    """``(task names, priority subdirectory names)`` of one directory, in directory order."""
    try:
        names = os.listdir(directory)  # names only: no object, no decoding per entry
    except OSError:
        return [], []
    tasks = [name for name in names if name.startswith(PREFIX) and not name.endswith(BAD_SUFFIX)]
    priorities: list[bytes] = []
    if len(tasks) < len(names):
        for name in names:
            if name.isdigit():  # ASCII digits only (bytes)
                if _is_dir(b"%s/%s" % (directory, name)):
                    priorities.append(name)
            elif name.startswith(TEMP_PREFIX):
                _remove_if_stale(b"%s/%s" % (directory, name))
    return tasks, priorities


def _is_dir(path: bytes) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _remove_if_stale(path: bytes) -> None:
    try:
        if time.time() - os.lstat(path).st_ctime > STALE_TEMP_AGE:
            os.unlink(path)
    except OSError:
        pass


def tasks(directory: str | bytes, ordered: bool, rotation: float = 0.0) -> Iterator[bytes]:
    """Paths (bytes) of the task files of ``directory`` in the order to try them.

    ``rotation`` (0 to 1) is where in an unordered listing to start, wrapping around.
    """
    directory = os.fsencode(directory)
    names, priorities = _listing(directory)
    for priority in sorted(priorities, key=_version_key):
        yield from tasks(b"%s/%s" % (directory, priority), ordered, rotation)
    if ordered:
        names.sort(key=_version_key)
    elif rotation and names:
        start = int(len(names) * rotation) % len(names)
        names = names[start:] + names[:start]
    prefix = directory + b"/"
    for name in names:
        yield prefix + name


def _version_key(name: bytes) -> tuple:
    return version_key(os.fsdecode(name))
