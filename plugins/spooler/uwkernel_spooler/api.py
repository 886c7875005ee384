"""The spooler's names in the ``uwsgi`` Python module, as uWSGI 2.0 has them on Python 3.

``spool`` / ``send_to_spooler`` take a dict (or keyword arguments). Keys and values may be ``bytes``
or ``str`` (UTF-8); other values are written as ``str(value)``, so ints and floats work (uWSGI
wants bytes only). ``body`` goes to the file's body. It returns the spool file's path as ``bytes``
and raises ``ValueError`` when the task cannot be spooled. The caller's dict is left untouched.

The spooler callable (``uwsgi.spooler = func``) gets a dict with ``bytes`` keys and values, plus
``'spooler_task_name'`` (the spool file's full path, ``bytes``) and ``'body'`` when the task has
one, and returns ``SPOOL_OK`` (done: the file is removed), ``SPOOL_RETRY`` (run it again on a later
scan) or ``SPOOL_IGNORE`` (not for this callable: kept for a later scan).
"""
from __future__ import annotations

import os
from typing import Any

from uwkernel.types import ModuleName

from . import scan, spoolfile
from .context import Spooling
from .enqueue import Enqueuer

SPOOL_OK, SPOOL_RETRY, SPOOL_IGNORE = -2, -1, 0


def to_bytes(value: Any) -> bytes:
    """A dict key or value as the bytes written: bytes as they are, str as UTF-8, anything else ``str()``'d."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return str(value).encode("utf-8", "surrogateescape")


def task_dict(path: str, pairs: dict[bytes, bytes], body: bytes) -> dict:
    """The dict the spooler callable and ``spooler_get_task`` give: the pairs, the path, the body."""
    task: dict = dict(pairs)
    task["spooler_task_name"] = os.fsencode(path)
    if body:
        task["body"] = body
    return task


class SpoolerAPI:
    """The spooler functions of the ``uwsgi`` module, bound to one instance's spooling."""

    def __init__(self, spooling: Spooling):
        self.spooling = spooling
        self.enqueuer = Enqueuer(spooling)

    def spool(self, *args: Any, **kwargs: Any) -> bytes:
        """Write a task (``spool({...})`` or ``spool(key=value, ...)``); return its path as bytes."""
        if args:
            if len(args) > 1 or not isinstance(args[0], dict):
                raise ValueError("The argument of spooler callable must be a dictionary")
            given = {**args[0], **kwargs} if kwargs else args[0]
        else:
            given = kwargs
        body = b""
        pairs: dict[bytes, bytes] = {}
        for key, value in given.items():
            if key.__class__ is not bytes:
                key = to_bytes(key)
            if value.__class__ is not bytes:
                value = to_bytes(value)
            if key == b"body":
                body = value
            else:
                pairs[key] = value
        try:
            block = spoolfile.encode_vars(pairs)
            path = self.enqueuer.enqueue(pairs, block, body)
        except OSError as exc:
            raise ValueError(f"unable to spool job: {exc.strerror or exc}") from None
        return os.fsencode(path)

    def spooler_jobs(self) -> list[bytes]:
        """Paths (bytes) of the tasks waiting in the first spool dir and its priority subdirectories."""
        dirs = self.spooling.settings.all_dirs
        return [os.fsencode(path) for path in scan.tasks(dirs[0], ordered=False)] if dirs else []

    def spooler_pid(self) -> int:
        """The pid of the first spooler process (0 when there is none)."""
        return self.spooling.board.read(0).pid if self.spooling.board.slots else 0

    def spooler_pids(self) -> list[int]:
        """The pids of every spooler process."""
        board = self.spooling.board
        return [board.read(slot).pid for slot in range(board.slots)]

    def set_spooler_frequency(self, seconds: int) -> bool:
        """Set how long idle spoolers wait between scans (0: back to ``spooler-frequency``)."""
        seconds = int(seconds)
        if seconds < 0:
            raise ValueError("the spooler frequency cannot be negative")
        self.spooling.board.frequency = seconds
        return True

    def spooler_get_task(self, path: str | bytes) -> dict | None:
        """The task at ``path`` as the spooler callable would get it; None when missing, running or invalid."""
        path = os.fsdecode(path)
        found = spoolfile.read(path)
        if found is None:
            return None
        pairs, body = found
        return task_dict(path, pairs, body)

    def i_am_the_spooler(self) -> bool | None:
        """True in a spooler process, None elsewhere (as uWSGI)."""
        return True if self.spooling.current_slot is not None else None

    def module_names(self) -> list[ModuleName]:
        """The records for the ``uwsgi`` module."""
        return [
            ModuleName("spool", self.spool),
            ModuleName("send_to_spooler", self.spool),
            ModuleName("spooler_jobs", self.spooler_jobs),
            ModuleName("spooler_pid", self.spooler_pid),
            ModuleName("spooler_pids", self.spooler_pids),
            ModuleName("set_spooler_frequency", self.set_spooler_frequency),
            ModuleName("spooler_get_task", self.spooler_get_task),
            ModuleName("i_am_the_spooler", self.i_am_the_spooler),
            ModuleName("spoolers", tuple(os.fsencode(d) for d in self.spooling.settings.all_dirs)),
            ModuleName("SPOOL_OK", SPOOL_OK),
            ModuleName("SPOOL_RETRY", SPOOL_RETRY),
            ModuleName("SPOOL_IGNORE", SPOOL_IGNORE),
        ]
