"""One instance's spooling: its settings, its shared board, and which spooler slot serves which dir.

Made once in the master by the ``uwkernel_configure`` hook, before anything forks, so workers and
spoolers share the board. Spooler slot ``i`` serves ``settings.dirs[i // settings.processes]``.
"""
from __future__ import annotations

import socket

from .board import Board
from .options import Settings


class Spooling:
    """The spool dirs, the spooler slots and the board of one instance."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.board = Board(settings.slots)
        #: uWSGI puts the host name in every spool file name; taken once, as uWSGI does.
        self.hostname = socket.gethostname()
        #: The slot of this process when it is a spooler (set after fork), else None.
        self.current_slot: int | None = None
        #: The task (a :class:`~.spoolfile.Task`) this spooler process is running, else None.
        self.running = None

    def dir_of(self, slot: int) -> str:
        """The spool dir spooler slot ``slot`` serves."""
        return self.settings.dirs[slot // self.settings.processes]

    def slots_of(self, directory: str) -> range:
        """The spooler slots serving ``directory`` (empty for an external dir)."""
        try:
            first = self.settings.dirs.index(directory) * self.settings.processes
        except ValueError:
            return range(0)
        return range(first, first + self.settings.processes)

    def frequency(self) -> int:
        """Seconds between two scans of an idle spooler: the run-time value, else the option's."""
        return self.board.frequency or self.settings.frequency
