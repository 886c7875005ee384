"""Which mules and farms a configuration asks for, and the message queues between them.

* ``mules = N`` adds N plain mules (repeatable, adding up); each ``mule = script.py`` adds a mule running
  that script (a bare ``mule`` / ``--mule`` adds a plain mule, as uWSGI's; on the command line the script
  needs ``--mule=script.py``, its argument being optional). Mules are numbered from 1 in configuration
  order (within one file; command-line values, which have no line, come first).
* ``farm = NAME:1,2`` groups mules under a name; a farm naming a mule that does not exist is a
  configuration error.

Queues are uWSGI's: one datagram socketpair per mule, one shared by every mule (messages for "any
mule"), one per farm, all made in the master before the first fork so every process holds both ends.
A sender writes without waiting (a full queue is an error for it at once); the mules that may read a
queue compete for each datagram, which is how a farm spreads its messages. Messages survive their
mule's death: the master keeps the queues, the respawned mule reads what was left.
"""
from __future__ import annotations

import mmap
import socket
import struct
import time
from typing import NamedTuple

from uwkernel.errors import ConfigError

DEFAULT_MSG_SIZE = 65536
_DEADLINE = struct.Struct("d")


class Mule(NamedTuple):
    """One mule: its number (1-based) and the script it runs (None: a plain, message-driven mule).

    A named tuple, not a dataclass: this module is imported at every start-up, where a dataclass costs
    a millisecond more.
    """

    id: int
    script: str | None = None

    @property
    def name(self) -> str:
        """Its ProcessSpec name, the role the master gives it: ``mule1``."""
        return f"mule{self.id}"

    @property
    def procname(self) -> str:
        """What ``ps`` shows: ``uWSGI mule 1``."""
        return f"uWSGI mule {self.id}"


class Queue:
    """A bounded message queue: a datagram socketpair; ``send`` never blocks, ``receive`` never blocks."""

    def __init__(self, msg_size: int):
        self.writer, self.reader = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        for sock in (self.writer, self.reader):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, msg_size)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, msg_size)

    def send(self, message: bytes) -> bool:
        """Queue ``message``; False when the queue is full."""
        try:
            self.writer.send(message, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        return True

    def receive(self, buffer_size: int) -> bytes | None:
        """One waiting message (truncated to ``buffer_size``), None when another reader took it first."""
        try:
            return self.reader.recv(buffer_size, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return None

    def fileno(self) -> int:
        """The reading end's descriptor (for select)."""
        return self.reader.fileno()


class Layout:
    """Mules, farms and their queues; ``deadlines`` is the shared memory of ``mule-harakiri``.

    A plain class, not a dataclass: this module is imported at every start-up.
    """

    def __init__(self, mules: list[Mule] | None = None, msg_size: int = DEFAULT_MSG_SIZE, harakiri: int = 0):
        self.mules: list[Mule] = mules or []
        self.farms: dict[str, list[int]] = {}
        self.msg_size = msg_size
        self.harakiri = harakiri
        self.shared: Queue | None = None
        self.queues: dict[int, Queue] = {}
        self.farm_queues: dict[str, Queue] = {}
        self.deadlines: mmap.mmap | None = None

    def open(self) -> None:
        """Make the queues and the deadline memory (in the master, before forking)."""
        if not self.mules:
            return
        self.shared = Queue(self.msg_size)
        self.queues = {mule.id: Queue(self.msg_size) for mule in self.mules}
        self.farm_queues = {name: Queue(self.msg_size) for name in self.farms}
        self.deadlines = mmap.mmap(-1, _DEADLINE.size * (len(self.mules) + 1))

    def farms_of(self, mule_id: int) -> list[str]:
        """The names of the farms mule ``mule_id`` belongs to."""
        return [name for name, members in self.farms.items() if mule_id in members]

    def set_deadline(self, mule_id: int, seconds: float) -> None:
        """Mule ``mule_id`` must be done within ``seconds`` (0: no deadline)."""
        if self.deadlines is not None:
            _DEADLINE.pack_into(self.deadlines, _DEADLINE.size * mule_id, time.time() + seconds if seconds else 0.0)

    def deadline(self, mule_id: int) -> float:
        """Mule ``mule_id``'s deadline (a time.time() value), 0.0 for none."""
        if self.deadlines is None:
            return 0.0
        return _DEADLINE.unpack_from(self.deadlines, _DEADLINE.size * mule_id)[0]


def _line(origin) -> int:
    return getattr(origin, "line", None) or 0


def read_layout(config) -> Layout:
    """The mules and farms of ``config`` (queues not made yet); ``ConfigError`` for a bad farm or count."""
    entries: list[tuple[int, str | None]] = []
    for value, origin in config.values("mules"):
        try:
            count = int(value)
        except ValueError:
            raise ConfigError(f"mules must be a number, not {value!r}", origin, "mules") from None
        entries += [(_line(origin), None)] * max(count, 0)
    entries += [(_line(origin), value if isinstance(value, str) and value else None)
                for value, origin in config.values("mule")]
    entries.sort(key=lambda entry: entry[0])
    layout = Layout(mules=[Mule(i, script) for i, (_, script) in enumerate(entries, 1)],
                    msg_size=config["mule-msg-size"] or DEFAULT_MSG_SIZE, harakiri=config["mule-harakiri"] or 0)
    for value, origin in config.values("farm"):
        name, sep, members = str(value).partition(":")
        if not sep or not name:
            raise ConfigError(f"invalid farm value ({value}) must be in the form name:mule[,muleN]", origin, "farm")
        ids = []
        for member in filter(None, (m.strip() for m in members.split(","))):
            if not member.isdigit() or not 1 <= int(member) <= len(layout.mules):
                raise ConfigError(f"farm {name}: invalid mule id: {member}", origin, "farm")
            ids.append(int(member))
        layout.farms[name] = ids
    return layout
