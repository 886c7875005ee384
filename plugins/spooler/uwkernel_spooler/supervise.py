"""What the master does for the spoolers: ``spooler-harakiri``, ``touch-spoolers-reload``, the stats section.

The master forks, respawns and stops spooler processes like any plugin process; this module only
reads the board once a second (the master's tick) and answers the stats server. A spooler arms its
deadline on the board for each task (:mod:`.loop`) and, through :func:`signal_harakiri`, for each
signal handler it runs.
"""
from __future__ import annotations

import signal
import time

from uwkernel import log

from .context import Spooling
from uwkernel import osutil


def signal_harakiri(spooling: Spooling, slot: int, running: bool) -> None:
    """The ProcessSpec ``harakiri`` of spooler ``slot``: signal handlers run under ``spooler-harakiri``.

    Only the deadline is written (no task runs, so a successor has no task to delay). Inside a task
    (``uwsgi.signal_wait`` in the spooler function) the task's deadline already covers the handler.
    """
    seconds = spooling.settings.harakiri
    if not seconds or spooling.board.read(slot).started:
        return
    if running:
        spooling.board.task_started(slot, b"", 0.0, time.time() + seconds)
    else:
        spooling.board.clear_deadline(slot)


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
                running = f" task {view.task} running for {now - view.started:.1f} s" if view.started else ""
                log.log(f"*** HARAKIRI ON THE SPOOLER (pid: {view.pid}) ***{running}")
                board.clear_deadline(slot)
                osutil.kill(view.pid, signal.SIGKILL)

    def reload(self) -> None:
        """Gracefully restart every spooler process (each finishes its task first; the master respawns)."""
        for slot in range(self.spooling.board.slots):
            pid = self.spooling.board.read(slot).pid
            if pid:
                osutil.kill(pid, signal.SIGHUP)
