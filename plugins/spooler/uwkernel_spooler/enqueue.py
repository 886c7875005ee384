"""Writing a task: choosing its dir, naming it, writing it, and waking the spoolers of its dir.

The dict keys the spooler itself reads stay in the dict, as in uWSGI: ``spooler`` (the dir; it must
be one of the instance's, its own or ``spooler-external``; none: the first one), ``priority`` (a
number: the task goes to that subdirectory, scanned before the dir, lower first) and ``at`` (a unix
time, fraction ignored: the task does not run before then).
"""
from __future__ import annotations

import itertools
import os
import random
import signal
import time

from uwkernel import log

from . import spoolfile
from .context import Spooling

#: The keys the spooler itself reads: where the task goes and when it runs.
_CONTROL_KEYS = frozenset((b"spooler", b"priority", b"at"))
_getrandbits = random.getrandbits  # the random module reseeds itself in every child after a fork
#: This process's pid, for spool file names (refreshed in every child after a fork).
_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


class Enqueuer:
    """Writes tasks for one instance; every worker, mule or spooler uses its own copy after fork."""

    def __init__(self, spooling: Spooling):
        self.spooling = spooling
        self.dirs = spooling.settings.all_dirs
        self.quiet = spooling.settings.quiet
        self._counter = itertools.count(1)
        self._host = os.fsencode(spooling.hostname)
        #: The pid :attr:`_stems` were made for.
        self._pid = 0
        #: dir -> ``DIR/uwsgi_spoolfile_on_<host>_<pid>_`` (bytes): the start of every path this process writes.
        self._stems: dict[str, bytes] = {}
        self._wakers = {d: spooling.board.waker(spooling.slots_of(d)) for d in self.dirs}

    def enqueue(self, pairs: dict[bytes, bytes], data: bytes) -> bytes:
        """Write the spool file ``data`` (the task whose dict is ``pairs``, with its body); return its path.

        Raises ``ValueError`` for an unknown ``spooler``, a ``priority`` that is not a number or an
        ``at`` that is not a time, and ``OSError`` when the file cannot be written.
        """
        if self._pid != _pid:
            self._pid = _pid
            self._stems = {}
        if self.dirs and _CONTROL_KEYS.isdisjoint(pairs):  # nearly every task: the first dir, now
            target = directory = self.dirs[0]
            at = 0
        else:
            target, directory, at = self._placement(pairs)
        stem = self._stems.get(target) or self._stem(target)
        now = time.time_ns()
        path = b"%s%d_%d_%d_%d" % (stem, next(self._counter), _getrandbits(31), now // 1_000_000_000,
                                   now // 1000 % 1_000_000)
        try:
            spoolfile.write(path, data, at)
        except FileNotFoundError:
            if target == directory:
                raise
            _make_dir(target)
            spoolfile.write(path, data, at)
        if not self.quiet:
            log.log(f"[spooler] written {len(data)} bytes to file {os.fsdecode(path)}")
        for waiting in self._wakers[directory]():
            try:
                os.kill(waiting, signal.SIGUSR1)  # wake the spoolers of the dir that wait for work
            except ProcessLookupError:
                pass
        return path

    def _stem(self, target: str) -> bytes:
        """``TARGET/uwsgi_spoolfile_on_<host>_<pid>_``, made once per dir and process."""
        stem = b"%s/%s%s_%d_" % (os.fsencode(target), spoolfile.PREFIX, self._host, self._pid)
        self._stems[target] = stem
        return stem

    def _placement(self, pairs: dict[bytes, bytes]) -> tuple[str, str, int]:
        """``(dir to write in, spool dir, at)`` from the task's ``spooler``, ``priority`` and ``at``."""
        directory = self._directory(pairs.get(b"spooler"))
        target = directory
        priority = pairs.get(b"priority")
        if priority:
            if not (priority.isdigit() and priority.isascii()):
                raise ValueError(f"spool priority must be a number, not {priority!r}")
            target = f"{directory}/{priority.decode()}"
        at = pairs.get(b"at")
        return target, directory, _parse_at(at) if at else 0

    def _directory(self, value: bytes | None) -> str:
        if not value:
            if not self.dirs:
                raise ValueError("no spooler available")
            return self.dirs[0]
        wanted = os.fsdecode(value)
        if wanted in self.dirs:
            return wanted
        real = os.path.realpath(wanted)
        if real in self.dirs:
            return real
        raise ValueError(f"unable to find spooler \"{wanted}\"")


def _make_dir(path: str) -> None:
    """Create a priority subdirectory (0750) unless another process just did."""
    try:
        os.mkdir(path, 0o750)
    except FileExistsError:
        pass


def _parse_at(value: bytes) -> int:
    """``at`` as whole seconds since the epoch (0: run now)."""
    whole = value.split(b".", 1)[0].strip()
    try:
        return max(int(whole or b"0"), 0)
    except ValueError:
        raise ValueError(f"spool 'at' must be a unix time, not {value!r}") from None
