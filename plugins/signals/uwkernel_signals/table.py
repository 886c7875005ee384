"""The signal table: 256 entries in an anonymous shared mmap, made before the first fork.

Every process of the instance sees the same table, so the master knows each signal's target (it
routes) while the Python handlers stay in each process's own dict. An entry records whether the
signal is registered, its target, and the pid of the process that registered it (0: the master,
before fork, so every child inherited the handler).
"""
from __future__ import annotations

import mmap
import struct
from typing import NamedTuple

SIGNALS = 256
_ENTRY = struct.Struct("<Bxxxi56s")  # registered, owner pid, target (NUL-padded)
TARGET_MAX = 56


class Entry(NamedTuple):
    """One signal's registration: ``registered``, ``target`` and ``owner`` (0 = the master).

    A named tuple, not a dataclass: its class is made at every start-up, a dataclass's costs ten times more.
    """

    registered: bool
    target: str
    owner: int


class SignalTable:
    """Shared memory with one :class:`Entry` per signal number."""

    def __init__(self):
        self.mem = mmap.mmap(-1, _ENTRY.size * SIGNALS)

    def read(self, num: int) -> Entry:
        """The entry of signal ``num``."""
        registered, owner, target = _ENTRY.unpack_from(self.mem, num * _ENTRY.size)
        return Entry(bool(registered), target.rstrip(b"\0").decode("latin-1"), owner)

    def write(self, num: int, target: str, owner: int) -> None:
        """Record signal ``num`` as registered for ``target`` by ``owner`` (a pid, 0 for the master)."""
        raw = target.encode("latin-1")
        if len(raw) > TARGET_MAX:
            raise ValueError(f"signal target {target!r} is longer than {TARGET_MAX} bytes")
        _ENTRY.pack_into(self.mem, num * _ENTRY.size, 1, owner, raw)
