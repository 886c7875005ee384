"""What the master does for the spoolers: ``spooler-harakiri``, ``touch-spoolers-reload``, the stats section.

The master forks, respawns and stops spooler processes like any plugin process; this module only
reads the board once a second (the master's tick) and answers the stats server.
"""
from __future__ import annotations

import signal
import time

from uwkernel import log

from .context import Spooling
from uwkernel import osutil


def stats(spooling: Spooling) -> list[dict]:
    """The stats server's ``spoolers`` section: one entry per spooler process, as uWSGI's."""
    entries = []
    for slot in range(spooling.board.slots):
        view = spooling.board.read(slot)
        entries.append({"dir": spooling.dir_of(slot), "pid": view.pid, "tasks": view.tasks,
                        "respawns": view.respawns, "running": int(bool(view.started))})
    return entries


class Supervisor:
    """The master's once-a-second look at the spoolers."""

    def __init__(self, spooling: Spooling):
        self.spooling = spooling
        self.touch = {path: osutil.mtime(path) for path in spooling.settings.touch}

    def tick(self) -> None:
        """Kill spoolers over ``spooler-harakiri``; reload them when a touch file changed."""
        self.check_harakiri(time.time())
        for path, before in self.touch.items():
            now = osutil.mtime(path)
            if now != before:
                self.touch[path] = now
                log.log(f"*** {path} has been touched... reloading spoolers ***")
                self.reload()

    def check_harakiri(self, now: float) -> None:
        """SIGKILL every spooler whose task has run past its deadline."""
        board = self.spooling.board
        for slot in range(board.slots):
            view = board.read(slot)
            if view.deadline and now > view.deadline and view.pid:
                log.log(f"*** HARAKIRI ON THE SPOOLER (pid: {view.pid}) *** task {view.task} "
                        f"running for {now - view.started:.1f} s")
                board.clear_deadline(slot)
                osutil.kill(view.pid, signal.SIGKILL)

    def reload(self) -> None:
        """Gracefully restart every spooler process (each finishes its task first; the master respawns)."""
        for slot in range(self.spooling.board.slots):
            pid = self.spooling.board.read(slot).pid
            if pid:
                osutil.kill(pid, signal.SIGHUP)
