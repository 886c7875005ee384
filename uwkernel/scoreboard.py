"""The scoreboard: an anonymous shared mmap, made before forking, with one slot per worker.

Each worker writes only its own slot (its status, counters and the deadline of the running request);
the master reads every slot to enforce harakiri and max-requests and to answer the stats server
without asking any worker. Writes are a few ``struct.pack_into`` calls per request.
"""
from __future__ import annotations

import mmap
import struct
import time
from functools import partial
from typing import NamedTuple

try:  # the optional C versions of Slot.begin and Slot.end (uwkernel/proto/_speedups.c)
    from .proto._speedups import slot_begin as _slot_begin_c, slot_end as _slot_end_c
except ImportError:  # no compiler at install time, or a big-endian host: the Python methods serve
    _slot_begin_c = _slot_end_c = None

# One slot: the fields below, little-endian, 8 bytes each. The master writes the first four, the
# worker the others. The worker's fields are ordered so that one pack writes each request's start
# (status, deadline, request_start) and one its end (the counters through status and deadline).
_FIELDS = ("pid", "harakiri_count", "last_spawn", "respawn_count",
           "accepting", "signals",
           "requests", "delta_requests", "exceptions", "tx", "running_time", "avg_rt",
           "status", "deadline", "request_start", "user_deadline")
_FORMAT = "<" + "q" * 13 + "ddd"
_SLOT = struct.Struct(_FORMAT)
SLOT_SIZE = 128
assert _SLOT.size <= SLOT_SIZE

STATUS_IDLE, STATUS_BUSY, STATUS_PAUSE, STATUS_CHEAP = 0, 1, 2, 3
STATUS_NAMES = {STATUS_IDLE: "idle", STATUS_BUSY: "busy", STATUS_PAUSE: "pause", STATUS_CHEAP: "cheap"}

_OFF = {name: i * 8 for i, name in enumerate(_FIELDS)}
_COUNTERS = struct.Struct("<qqqqqq")  # requests .. avg_rt
_BEGIN = struct.Struct("<qdd")  # status, deadline, request_start
_END = struct.Struct("<qqqqqqqd")  # requests .. avg_rt, status, deadline
_Q = struct.Struct("<q")
_D = struct.Struct("<d")


class SlotView(NamedTuple):
    """A snapshot of one slot, as the master and the stats server read it (fields in slot order).

    A named tuple, not a dataclass: this module is imported at every start-up, where a dataclass of
    this size costs a millisecond more.
    """

    id: int
    pid: int
    harakiri_count: int
    last_spawn: int
    respawn_count: int
    accepting: int
    signals: int
    requests: int
    delta_requests: int
    exceptions: int
    tx: int
    running_time: int
    avg_rt: int
    status: int
    deadline: float
    request_start: float
    user_deadline: float

    @property
    def status_name(self) -> str:
        """The status as the stats server names it (idle, busy, pause, cheap)."""
        return STATUS_NAMES.get(self.status, "idle")


class Scoreboard:
    """Shared memory with ``size`` slots numbered 1..size (worker ids)."""

    def __init__(self, size: int):
        self.size = size
        self.mem = mmap.mmap(-1, SLOT_SIZE * (size + 1))

    def read(self, worker_id: int) -> SlotView:
        """A snapshot of slot ``worker_id``."""
        return SlotView(worker_id, *_SLOT.unpack_from(self.mem, worker_id * SLOT_SIZE))

    def total_requests(self) -> int:
        """Requests served by every worker."""
        offset = _OFF["requests"]
        return sum(_Q.unpack_from(self.mem, i * SLOT_SIZE + offset)[0] for i in range(1, self.size + 1))

    def slot(self, worker_id: int, harakiri: float = 0) -> "Slot":
        """The writer for slot ``worker_id`` (used in that worker), giving requests ``harakiri`` seconds."""
        return Slot(self.mem, worker_id * SLOT_SIZE, harakiri)

    def set(self, worker_id: int, field: str, value: float) -> None:
        """Set one field of a slot (the master uses it for pid, spawn time, respawns, harakiri count)."""
        packer = _D if field in ("deadline", "request_start", "user_deadline") else _Q
        packer.pack_into(self.mem, worker_id * SLOT_SIZE + _OFF[field], value)


class Slot:
    """One worker's writer: request start and end, accepting flag, user harakiri deadline.

    The counters live in the slot only (read them with :meth:`Scoreboard.read`): ``requests``,
    ``exceptions``, ``tx`` and ``running_time`` carry on from the slot's previous occupant (they count
    for the worker id); ``delta_requests`` counts this process's requests, from 0. ``harakiri``
    (seconds, 0 for none) is the deadline :meth:`begin` gives each request.

    :meth:`begin` and :meth:`end` run once each per request: when the optional C extension is built,
    the instance's ``begin`` and ``end`` are its C versions (same arguments, same writes) and the
    methods below are the reference.
    """

    def __init__(self, mem: mmap.mmap, base: int, harakiri: float = 0):
        self.mem = mem
        self.base = base
        self.harakiri = harakiri
        self._status = base + _OFF["status"]
        self._counters = base + _OFF["requests"]
        _Q.pack_into(mem, base + _OFF["delta_requests"], 0)
        if _slot_begin_c is not None:
            self.begin = partial(_slot_begin_c, mem, self._status, float(harakiri))
            self.end = partial(_slot_end_c, mem, self._counters)

    def set_accepting(self, value: bool = True) -> None:
        """Mark the worker as accepting requests (chain reload waits for it)."""
        _Q.pack_into(self.mem, self.base + _OFF["accepting"], int(value))

    def begin(self) -> float:
        """Mark a request as running, with its harakiri deadline when ``harakiri`` is set; return the
        start time."""
        now = time.time()
        harakiri = self.harakiri
        _BEGIN.pack_into(self.mem, self._status, STATUS_BUSY, now + harakiri if harakiri else 0.0, now)
        return now

    def end(self, start: float, tx: int, exception: bool = False) -> int:
        """Mark the request done: counters and average response time; return this process's count."""
        requests, delta, exceptions, sent, running_time, _ = _COUNTERS.unpack_from(self.mem, self._counters)
        requests += 1
        delta += 1
        running_time += int((time.time() - start) * 1_000_000)
        _END.pack_into(self.mem, self._counters, requests, delta, exceptions + 1 if exception else exceptions,
                       sent + tx, running_time, running_time // requests, STATUS_IDLE, 0.0)
        return delta

    def set_user_deadline(self, deadline: float) -> None:
        """Set (or clear with 0) a deadline of the application's own (``uwsgi.set_user_harakiri``)."""
        _D.pack_into(self.mem, self.base + _OFF["user_deadline"], deadline)
