"""Timers, rb timers, ms timers and file monitors: the master raises signals from its timer heap and selector.

Timers are armed on the master's monotonic heap (``master.call_later``) and re-armed from their
*scheduled* time, never from the time they ran, so a periodic timer does not drift. File monitors
are inotify watches (inotify_simple); the inotify fd is one of the master's selector readers.
Requests made before the master loop starts (apps loading in the master) are queued and armed in
``start``; requests from a child come to the master as "timer" messages.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass

from uwkernel import log, runtime

#: At most this many timers of each kind (uWSGI's limit).
MAX_PER_KIND = 64


@dataclass
class Timer:
    """A periodic signal: every ``interval`` seconds; ``iterations`` > 0 stops after that many."""

    kind: str  # timer | rbtimer | mstimer
    signum: int
    interval: float
    iterations: int = 0
    fired: int = 0
    due: float = 0.0


class Timers:
    """The master's timers and file monitors; ``route(signum)`` raises a signal."""

    def __init__(self, route):
        self.route = route
        self.master = None
        self.timers: list[Timer] = []
        self.monitors: list[tuple[str, int]] = []  # (path, signum)
        self._inotify = None
        self._watches: dict[int, tuple[str, int]] = {}

    # -- requests from the uwsgi module or the options -------------------------------------------

    def request(self, kind: str, signum: int, value, iterations: int = 0) -> None:
        """Add a timer (kind timer/rbtimer/mstimer, value in s or ms) or a file monitor (kind filemon).

        In a child the request goes to the master; in the master it is armed now or when the loop
        starts. ValueError when the master cannot take it.
        """
        if not runtime.master_pid:
            raise ValueError(f"unable to add {'file monitor' if kind == 'filemon' else 'timer'}: no master")
        process = runtime.process
        if process is not None:
            payload = json.dumps([kind, signum, value, iterations]).encode()
            if not process.channel or not process.channel.send("timer", payload):
                raise ValueError("unable to add timer: the master's queue is full")
            return
        self.add(kind, signum, value, iterations)

    def on_master(self, master, child, payload: bytes) -> None:
        """A "timer" message from a child."""
        kind, signum, value, iterations = json.loads(payload)
        try:
            self.add(kind, int(signum), value, int(iterations))
        except ValueError as exc:
            log.log(f"{exc} (asked by pid {child.pid})")

    def add(self, kind: str, signum: int, value, iterations: int = 0) -> None:
        """Add a timer or monitor in the master; the same request twice is kept once."""
        if kind == "filemon":
            path = os.path.abspath(str(value))
            if (path, signum) in self.monitors:
                return
            if len(self.monitors) >= MAX_PER_KIND:
                raise ValueError(f"unable to add file monitor: you can register max {MAX_PER_KIND} file monitors")
            self.monitors.append((path, signum))
            if self.master is not None:
                self._watch(path, signum)
            return
        interval = float(value) / 1000 if kind == "mstimer" else float(value)
        if interval <= 0:
            raise ValueError(f"unable to add timer: invalid interval {value}")
        if any(t.kind == kind and t.signum == signum and t.interval == interval and t.iterations == iterations
               for t in self.timers):
            return
        if sum(t.kind == kind for t in self.timers) >= MAX_PER_KIND:
            raise ValueError(f"unable to add timer: you can register max {MAX_PER_KIND} {kind}s")
        timer = Timer(kind, signum, interval, iterations)
        self.timers.append(timer)
        if self.master is not None:
            self._arm(timer, time.monotonic() + interval)

    # -- the master ------------------------------------------------------------------------------

    def start(self, master) -> None:
        """The master loop starts: arm every timer and watch every file requested so far."""
        self.master = master
        now = time.monotonic()
        for timer in self.timers:
            self._arm(timer, now + timer.interval)
        for path, signum in self.monitors:
            self._watch(path, signum)

    def _arm(self, timer: Timer, due: float) -> None:
        timer.due = due
        self.master.call_later(max(0.0, due - time.monotonic()), lambda: self._fire(timer))

    def _fire(self, timer: Timer) -> None:
        timer.fired += 1
        self.route(timer.signum)
        if timer.iterations and timer.fired >= timer.iterations:
            return
        due = timer.due + timer.interval
        now = time.monotonic()
        if due <= now:  # the master was held up: skip the missed ticks, keep the phase
            due += math.ceil((now - due) / timer.interval) * timer.interval
        self._arm(timer, due)

    def _watch(self, path: str, signum: int) -> None:
        from inotify_simple import INotify, flags  # only instances with file monitors need it

        if self._inotify is None:
            self._inotify = INotify()
            self.master.add_reader(self._inotify.fileno(), self._on_inotify)
        mask = (flags.ATTRIB | flags.MODIFY | flags.CREATE | flags.DELETE | flags.MOVED_TO
                | flags.MOVED_FROM | flags.DELETE_SELF | flags.MOVE_SELF)
        try:
            wd = self._inotify.add_watch(path, mask)
        except OSError as exc:
            log.log(f"unable to monitor {path} for signal {signum}: {exc.strerror or exc}")
            return
        self._watches[wd] = (path, signum)
        log.log(f"[uwsgi-fsmon] watching {path} for signal {signum}")

    def _on_inotify(self) -> None:
        signalled = []
        for event in self._inotify.read(timeout=0):
            watch = self._watches.get(event.wd)
            if watch is not None and watch not in signalled:
                signalled.append(watch)
        for _, signum in signalled:
            self.route(signum)
