"""The spoolers' shared memory: an anonymous shared mmap made before the master and workers fork.

It holds the frequency set by ``uwsgi.set_spooler_frequency`` and one slot per spooler process:

* ``pid``, ``spawns`` (so respawns = spawns - 1) and ``tasks`` (tasks run by the current process),
  written by the spooler;
* ``busy``: 1 while the spooler is sure to scan again before it waits (it ran a task since its last
  empty scan), so writers only wake (SIGUSR1) spoolers that are not busy;
* ``started``, ``deadline`` and ``task``: the task running now (0, 0, empty between tasks). The
  master enforces ``spooler-harakiri`` from ``deadline``; a new spooler finding ``started`` set
  knows its predecessor died in the middle of ``task``;
* ``crashes`` and ``crash_task``: how many times in a row ``crash_task`` was running when this slot's
  spooler died (the growing retry delay).

Each slot is written by its own spooler only (the master reads); readers tolerate a torn read.
"""
from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass

NAME_SIZE = 512
_FREQUENCY = struct.Struct("<q")
_SLOT = struct.Struct(f"<qqqqddq{NAME_SIZE}s{NAME_SIZE}s")
_PID_BUSY = struct.Struct("<q16xq")  # pid, (spawns, tasks), busy
_NAME = struct.Struct(f"{NAME_SIZE}s")
_FINISHED = struct.Struct("<qqdd")  # tasks, busy, started, deadline
_STARTED = struct.Struct("<dd")  # started, deadline
_INT = struct.Struct("<q")
_FLOAT = struct.Struct("<d")
_OFF_TASKS = 16
_OFF_BUSY = 24
_OFF_STARTED = 32
_OFF_TASK = 56


@dataclass(frozen=True)
class SlotView:
    """A snapshot of one spooler slot."""

    pid: int
    spawns: int
    tasks: int
    busy: int
    started: float
    deadline: float
    crashes: int
    task: str
    crash_task: str

    @property
    def respawns(self) -> int:
        """How many times the spooler of this slot was respawned."""
        return max(self.spawns - 1, 0)


class Board:
    """``slots`` spooler slots in shared memory (fork after creating it)."""

    def __init__(self, slots: int):
        self.slots = slots
        self._map = mmap.mmap(-1, _FREQUENCY.size + slots * _SLOT.size)

    def _offset(self, slot: int) -> int:
        if not 0 <= slot < self.slots:
            raise IndexError(f"no spooler slot {slot}")
        return _FREQUENCY.size + slot * _SLOT.size

    # -- frequency ----------------------------------------------------------------------------------

    @property
    def frequency(self) -> int:
        """The frequency set at run time (0: none, the ``spooler-frequency`` option applies)."""
        return _FREQUENCY.unpack_from(self._map, 0)[0]

    @frequency.setter
    def frequency(self, seconds: int) -> None:
        _FREQUENCY.pack_into(self._map, 0, seconds)

    # -- reading ------------------------------------------------------------------------------------

    def read(self, slot: int) -> SlotView:
        """A snapshot of ``slot``."""
        pid, spawns, tasks, busy, started, deadline, crashes, task, crash = _SLOT.unpack_from(
            self._map, self._offset(slot))
        return SlotView(pid, spawns, tasks, busy, started, deadline, crashes, _text(task), _text(crash))

    def waker(self, slots: range):
        """A function returning the pids of the spoolers of ``slots`` (consecutive) that wait for work.

        Waiting means started and not busy; the function reads every slot in one unpack.
        """
        if not slots:
            return tuple
        gap = _SLOT.size - _PID_BUSY.size
        many = struct.Struct("<" + f"{_PID_BUSY.format[1:]}{gap}x" * len(slots))
        unpack, area, offset = many.unpack_from, self._map, self._offset(slots[0])
        self._offset(slots[-1])  # every slot exists
        pids = range(0, 2 * len(slots), 2)

        def waiting() -> list[int] | tuple:
            values = unpack(area, offset)  # pid, busy, pid, busy, ...
            if 0 not in values[1::2]:
                return ()
            return [values[i] for i in pids if values[i] and not values[i + 1]]

        return waiting

    # -- what a spooler writes in its own slot -------------------------------------------------------

    def spawned(self, slot: int, pid: int) -> SlotView:
        """A new spooler took ``slot``: count the spawn, reset it; return what its predecessor left."""
        before = self.read(slot)
        name = before.crash_task.encode("utf-8", "surrogateescape")
        _SLOT.pack_into(self._map, self._offset(slot), pid, before.spawns + 1, 0, 0, 0.0, 0.0,
                        before.crashes, b"", name)
        return before

    def set_crash(self, slot: int, task: str, crashes: int) -> None:
        """Remember that ``task`` was running when this slot's spooler died, ``crashes`` times in a row."""
        view = self.read(slot)
        _SLOT.pack_into(self._map, self._offset(slot), view.pid, view.spawns, view.tasks, view.busy,
                        view.started, view.deadline, crashes, view.task.encode("utf-8", "surrogateescape"),
                        task.encode("utf-8", "surrogateescape"))

    def set_busy(self, slot: int, busy: bool) -> None:
        """Mark the spooler busy (it will scan again before waiting) or not (writers must wake it)."""
        _INT.pack_into(self._map, self._offset(slot) + _OFF_BUSY, int(busy))

    def task_started(self, slot: int, task: str, started: float, deadline: float) -> None:
        """Record the task now running (``deadline`` 0: no spooler-harakiri)."""
        offset = self._offset(slot)
        _NAME.pack_into(self._map, offset + _OFF_TASK, task.encode("utf-8", "surrogateescape"))
        _STARTED.pack_into(self._map, offset + _OFF_STARTED, started, deadline)

    def task_finished(self, slot: int, tasks: int) -> None:
        """No task is running any more (the spooler stays busy); ``tasks`` have been run by this spooler."""
        _FINISHED.pack_into(self._map, self._offset(slot) + _OFF_TASKS, tasks, 1, 0.0, 0.0)

    def clear_deadline(self, slot: int) -> None:
        """Forget the running task's deadline (the master does it once it killed the spooler)."""
        _FLOAT.pack_into(self._map, self._offset(slot) + _OFF_STARTED + 8, 0.0)


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("utf-8", "surrogateescape")
