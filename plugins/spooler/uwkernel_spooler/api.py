"""The spooler's names in the ``uwsgi`` Python module, as uWSGI 2.0 has them on Python 3.

``spool`` / ``send_to_spooler`` take a dict (or keyword arguments). Keys and values may be ``bytes``
or ``str`` (UTF-8); other values are written as ``str(value)``, so ints and floats work (uWSGI
wants bytes only). ``body`` goes to the file's body. It returns the spool file's path as ``bytes``
and raises ``ValueError`` when the task cannot be spooled. The caller's dict is left untouched.

The spooler callable (``uwsgi.spooler = func``) gets a dict with ``bytes`` keys and values, plus
``'spooler_task_name'`` and ``'body'`` when the task has one, and returns ``SPOOL_OK`` (done: the
file is removed), ``SPOOL_RETRY`` (run it again on a later scan) or ``SPOOL_IGNORE`` (not for this
callable: kept for a later scan). As in uWSGI, ``spooler_task_name`` is the spool file's name
(``bytes``, no directory) and the task runs in the file's directory (the spool dir or its priority
subdirectory; ``spooler-chdir`` instead when set), so ``spooler_get_task(spooler_task_name)``
finds it.
"""
from __future__ import annotations

import os
from typing import Any

from uwkernel.proto.uwsgi import encode_packet
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


def task_dict(name: bytes, pairs: dict[bytes, bytes], body: bytes) -> dict:
    """The dict the spooler callable and ``spooler_get_task`` give: ``pairs`` (a fresh dict, completed in
    place) with the task's name and its body."""
    task: dict = pairs  # str keys beside the bytes ones
    task["spooler_task_name"] = name
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
        pairs, data = given, None
        if b"body" not in given and "body" not in given:
            try:  # nearly every task: bytes only, encoded as it is (the caller's dict is not copied)
                data = encode_packet(spoolfile.MODIFIER1, given, raw=True)
            except TypeError:  # a str or another type somewhere: converted first
                pass
        if data is None:
            pairs = {}
            for key, value in given.items():
                pairs[key if key.__class__ is bytes else to_bytes(key)] = \
                    value if value.__class__ is bytes else to_bytes(value)
            body = pairs.pop(b"body", b"")
            data = encode_packet(spoolfile.MODIFIER1, pairs, raw=True) + body
        try:
            return self.enqueuer.enqueue(pairs, data)
        except OSError as exc:
            raise ValueError(f"unable to spool job: {exc.strerror or exc}") from None

    def spooler_jobs(self) -> list[bytes]:
        """Paths (bytes) of the tasks waiting in the first spool dir and its priority subdirectories."""
        dirs = self.spooling.settings.all_dirs
        return list(scan.tasks(dirs[0], ordered=False)) if dirs else []

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
        """The task at ``path`` as the spooler callable would get it; None when missing, running or invalid.

        A relative path (a ``spooler_task_name``) is taken from the current directory, and the task
        this spooler process is running is no "running" task for it, as in uWSGI; ``spooler_task_name``
        in the result is ``path`` as given.
        """
        path = os.fsencode(path)
        running = self.spooling.running
        if running is not None and os.path.abspath(path) == running.path:
            found = spoolfile.parse(running.data)
        else:
            found = spoolfile.read(path)
            if found is None:
                return None
        return task_dict(path, *found)

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
