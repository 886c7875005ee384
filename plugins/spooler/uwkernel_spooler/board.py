"""The spoolers' shared memory: an anonymous shared mmap made before the master and workers fork.

It holds the frequency set by ``uwsgi.set_spooler_frequency``, one ``busy`` byte per spooler process
(1 while the spooler is sure to scan again before it waits: it ran a task since its last empty scan;
writers only wake, with SIGUSR1, spoolers that are not busy: the bytes of a dir's spoolers sit side by
side, so a writer checks them all with one comparison), and one slot per spooler process:

* ``pid``, ``spawns`` (so respawns = spawns - 1) and ``tasks`` (tasks run by the current process),
  written by the spooler;
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
# pid, spawns, tasks, started, deadline, task, crashes, crash_task
_SLOT = struct.Struct(f"<qqqdd{NAME_SIZE}sq{NAME_SIZE}s")
_FINISHED = struct.Struct("<qdd")  # tasks, started, deadline
_STARTED = struct.Struct(f"<dd{NAME_SIZE}s")  # started, deadline, task
_FLOAT = struct.Struct("<d")
_OFF_TASKS = 16
_OFF_STARTED = 24


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
        #: Where the busy bytes start, and the slots (8-byte aligned).
        self._busy_at = _FREQUENCY.size
        first = self._busy_at + (slots + 7) // 8 * 8
        self._map = mmap.mmap(-1, first + slots * _SLOT.size)
        self._offsets = tuple(first + slot * _SLOT.size for slot in range(slots))

    def _offset(self, slot: int) -> int:
        if slot < 0:
            raise IndexError(f"no spooler slot {slot}")
        return self._offsets[slot]

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
        pid, spawns, tasks, started, deadline, task, crashes, crash = _SLOT.unpack_from(self._map, self._offset(slot))
        busy = self._map[self._busy_at + slot]
        return SlotView(pid, spawns, tasks, busy, started, deadline, crashes, _text(task), _text(crash))

    def waker(self, slots: range):
        """A function returning the pids of the spoolers of ``slots`` (consecutive) that wait for work.

        Waiting means started and not busy; while all are busy (a dir being drained), the function
        compares their busy bytes and returns ``()``.
        """
        if not slots:
            return tuple
        area, start, end = self._map, self._busy_at + slots[0], self._busy_at + slots[-1] + 1
        all_busy = b"\1" * len(slots)
        self._offset(slots[-1])  # every slot exists
        pids, first = struct.Struct("<" + f"q{_SLOT.size - 8}x" * len(slots)).unpack_from, self._offset(slots[0])

        def waiting() -> list[int] | tuple:
            busy = area[start:end]
            if busy == all_busy:
                return ()
            return [pid for pid, busy in zip(pids(area, first), busy) if pid and not busy]

        return waiting

    # -- what a spooler writes in its own slot -------------------------------------------------------

    def spawned(self, slot: int, pid: int) -> SlotView:
        """A new spooler took ``slot``: count the spawn, reset it; return what its predecessor left."""
        before = self.read(slot)
        name = before.crash_task.encode("utf-8", "surrogateescape")
        self.set_busy(slot, False)
        _SLOT.pack_into(self._map, self._offset(slot), pid, before.spawns + 1, 0, 0.0, 0.0, b"", before.crashes, name)
        return before

    def set_crash(self, slot: int, task: str, crashes: int) -> None:
        """Remember that ``task`` was running when this slot's spooler died, ``crashes`` times in a row."""
        view = self.read(slot)
        _SLOT.pack_into(self._map, self._offset(slot), view.pid, view.spawns, view.tasks, view.started,
                        view.deadline, view.task.encode("utf-8", "surrogateescape"), crashes,
                        task.encode("utf-8", "surrogateescape"))

    def set_busy(self, slot: int, busy: bool) -> None:
        """Mark the spooler busy (it will scan again before waiting) or not (writers must wake it)."""
        self._offset(slot)  # IndexError for no such slot
        self._map[self._busy_at + slot] = 1 if busy else 0

    def task_started(self, slot: int, task: bytes, started: float, deadline: float) -> None:
        """Record the task now running: its path in the spool dir (``deadline`` 0: no spooler-harakiri)."""
        _STARTED.pack_into(self._map, self._offsets[slot] + _OFF_STARTED, started, deadline, task)

    def task_finished(self, slot: int, tasks: int) -> None:
        """No task is running any more; ``tasks`` have been run by this spooler."""
        _FINISHED.pack_into(self._map, self._offsets[slot] + _OFF_TASKS, tasks, 0.0, 0.0)

    def clear_deadline(self, slot: int) -> None:
        """Forget the running task's deadline (the master does it once it killed the spooler)."""
        _FLOAT.pack_into(self._map, self._offset(slot) + _OFF_STARTED + 8, 0.0)


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("utf-8", "surrogateescape")
