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


def _listing(directory: str) -> tuple[list[str], list[str]]:
    """``(task names, priority subdirectory names)`` of one directory, in directory order."""
    tasks: list[str] = []
    priorities: list[str] = []
    try:
        entries = os.scandir(directory)
    except OSError:
        return tasks, priorities
    with entries:
        for entry in entries:
            name = entry.name
            if name.startswith(PREFIX):
                if not name.endswith(BAD_SUFFIX):
                    tasks.append(name)
            elif name.isdigit() and name.isascii():
                if entry.is_dir(follow_symlinks=False):
                    priorities.append(name)
            elif name.startswith(TEMP_PREFIX):
                _remove_if_stale(entry)
    return tasks, priorities


def _remove_if_stale(entry: os.DirEntry) -> None:
    try:
        if time.time() - entry.stat(follow_symlinks=False).st_ctime > STALE_TEMP_AGE:
            os.unlink(entry.path)
    except OSError:
        pass


def tasks(directory: str, ordered: bool, rotation: float = 0.0) -> Iterator[str]:
    """Paths of the task files of ``directory`` in the order to try them.

    ``rotation`` (0 to 1) is where in an unordered listing to start, wrapping around.
    """
    names, priorities = _listing(directory)
    for priority in sorted(priorities, key=version_key):
        yield from tasks(f"{directory}/{priority}", ordered, rotation)
    if ordered:
        names.sort(key=version_key)
    elif rotation and names:
        start = int(len(names) * rotation) % len(names)
        names = names[start:] + names[:start]
    for name in names:
        yield f"{directory}/{name}"
