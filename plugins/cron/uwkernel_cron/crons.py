"""Cron entries: signal crons (``uwsgi.add_cron``) and command crons (``cron``, ``cron2``, ``unique-cron``).

The master checks every entry when its loop starts and then at each minute boundary of the wall
clock (a timer re-armed from ``time.time()``, so it fires within milliseconds of the boundary); an
entry fires at most once per minute. Command crons run through ``/bin/sh -c`` in their own session,
never waited for: the master reaps them and tells :meth:`Crons.exited` (``master.watch_child``), which
logs uWSGI's line with the exit status added; their harakiri is checked on the master's 1 s tick.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

from uwkernel import log, runtime

from .schedule import matches

#: At most this many signal crons (uWSGI's MAX_CRONS).
MAX_SIGNAL_CRONS = 64
#: How long after the minute boundary the check runs (the clock must be past it).
BOUNDARY_SLACK = 0.002


@dataclass
class Cron:
    """One entry: its fields, and either a signal number or a shell command."""

    minute: int
    hour: int
    day: int
    month: int
    week: int
    signum: int | None = None
    command: str | None = None
    unique: bool = False
    harakiri: int = 0  # seconds a command may run (0: forever)
    last_minute: int = -1  # the minute (time // 60) it last fired
    process: subprocess.Popen | None = field(default=None, repr=False)
    started_at: int = 0
    deadline: float = 0.0

    @property
    def fields(self) -> tuple[int, int, int, int, int]:
        """(minute, hour, day, month, week)."""
        return self.minute, self.hour, self.day, self.month, self.week

    @property
    def pid(self) -> int:
        """The running command's pid, -1 when none runs."""
        return self.process.pid if self.process is not None else -1


class Crons:
    """One instance's cron entries and the master's part of running them; ``route(n)`` raises a signal."""

    def __init__(self, route):
        self.route = route
        self.entries: list[Cron] = []
        self.master = None

    # -- adding ----------------------------------------------------------------------------------

    def add(self, cron: Cron) -> bool:
        """Add an entry (an identical one already there is kept once); check it now when the master runs."""
        for other in self.entries:
            if (other.fields, other.signum, other.command, other.unique, other.harakiri) == \
                    (cron.fields, cron.signum, cron.command, cron.unique, cron.harakiri):
                return False
        if cron.signum is not None and sum(e.signum is not None for e in self.entries) >= MAX_SIGNAL_CRONS:
            raise ValueError(f"you can register max {MAX_SIGNAL_CRONS} cron !!!")
        self.entries.append(cron)
        if self.master is not None and self.master.children:
            self._check(cron, time.time())
        return True

    def add_signal_cron(self, signum: int, minute: int, hour: int, day: int, month: int, week: int) -> bool:
        """``uwsgi.add_cron``: in a child the entry goes to the master; returns True."""
        if not runtime.master_pid:
            raise ValueError("unable to add cron: no master")
        signum = int(signum)
        if not 0 <= signum <= 255:
            raise OverflowError(f"signal number {signum} is not in 0..255")
        values = [int(v) for v in (minute, hour, day, month, week)]
        process = runtime.process
        if process is not None:
            if not process.channel or not process.channel.send("cron", json.dumps([signum, *values]).encode()):
                raise ValueError("unable to add cron: the master's queue is full")
            return True
        self.add(Cron(*values, signum=signum))
        return True

    def on_master(self, master, child, payload: bytes) -> None:
        """A "cron" message from a child: add its signal cron."""
        signum, *values = json.loads(payload)
        try:
            self.add(Cron(*values, signum=signum))
        except ValueError as exc:
            log.log(f"{exc} (asked by pid {child.pid})")

    # -- the master ------------------------------------------------------------------------------

    def start(self, master) -> None:
        """Check every entry once the children are forked (the loop's first turn), then at every minute boundary."""
        self.master = master
        master.call_later(0, lambda: self.check(time.time()))
        self._arm()

    def _arm(self) -> None:
        delay = 60 - time.time() % 60 + BOUNDARY_SLACK
        self.master.call_later(delay, self._on_boundary)

    def _on_boundary(self) -> None:
        self._arm()
        self.check(time.time())

    def check(self, now: float) -> None:
        """Fire every entry due at ``now`` that did not fire in this minute yet."""
        for cron in self.entries:
            self._check(cron, now)

    def _check(self, cron: Cron, now: float) -> None:
        minute = int(now // 60)
        if cron.last_minute == minute or not matches(time.localtime(now), *cron.fields):
            return
        if cron.unique and cron.process is not None:
            return
        cron.last_minute = minute
        if cron.signum is not None:
            self.route(cron.signum)
        else:
            self._run(cron, now)

    def _run(self, cron: Cron, now: float) -> None:
        try:
            process = subprocess.Popen(["/bin/sh", "-c", cron.command], start_new_session=True)
        except OSError as exc:
            log.log(f"[uwsgi-cron] unable to run \"{cron.command}\": {exc}")
            return
        cron.process, cron.started_at = process, int(now)
        cron.deadline = now + cron.harakiri if cron.harakiri > 0 else 0.0
        self.master.watch_child(process.pid, lambda status: self.exited(cron, process, int(now), status))
        log.log(f"[uwsgi-cron] running \"{cron.command}\" (pid {process.pid})")

    def exited(self, cron: Cron, process: subprocess.Popen, started_at: int, status: int) -> None:
        """The master reaped ``process``, the run of ``cron`` started at ``started_at``: log it as uWSGI does.

        uWSGI's line gets the exit ``status`` added (the exit code, or minus the signal that killed the command).
        """
        process.returncode = status  # reaped by the master: Popen must never wait for this pid
        how = f"exit status {status}" if status >= 0 else f"killed by signal {-status}"
        log.log(f"[uwsgi-cron] command \"{cron.command}\" running with pid {process.pid} exited after "
                f"{int(time.time()) - started_at} second(s) ({how})")
        if cron.process is process:  # not overtaken by a later run of a non-unique cron
            cron.process, cron.started_at, cron.deadline = None, 0, 0.0

    def tick(self) -> None:
        """The master's 1 s tick: kill the commands past their harakiri."""
        now = time.time()
        for cron in self.entries:
            if cron.process is not None and cron.deadline and now >= cron.deadline:
                log.log(f"*** HARAKIRI ON CRON \"{cron.command}\" (pid: {cron.pid}) ***")
                try:
                    os.killpg(cron.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                cron.deadline = 0.0

    def stats(self) -> list[dict]:
        """The stats server's ``crons`` section: uWSGI's keys, one object per command cron."""
        return [{"minute": c.minute, "hour": c.hour, "day": c.day, "month": c.month, "week": c.week,
                 "command": c.command, "unique": int(c.unique), "pid": c.pid, "started_at": c.started_at}
                for c in self.entries if c.command is not None]
