"""The single-threaded loop the master (and the Emperor plugin's process) run around one selector.

Signal handlers only queue the signal: Python writes its byte to the wakeup pipe, which wakes the
selector, and :meth:`EventLoop.run_once` hands the queued signals to the owner after the readable fds'
callbacks ran. Timers are a heap of monotonic deadlines: the selector waits at most until the next one.
Nothing polls with sleep.
"""
from __future__ import annotations

import heapq
import itertools
import os
import selectors
import signal
import time
from collections import deque
from typing import Callable, Iterable


class EventLoop:
    """One selector over file descriptors, a timer heap, and a queue of caught signals."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.signals: deque[int] = deque()
        self._caught: tuple[int, ...] = ()

    def add_reader(self, fd: int, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever ``fd`` is readable."""
        self.selector.register(fd, selectors.EVENT_READ, callback)

    def remove_reader(self, fd: int) -> None:
        """Stop watching ``fd`` (before closing it)."""
        self.selector.unregister(fd)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once, ``delay`` seconds from now, from the loop."""
        heapq.heappush(self.timers, (time.monotonic() + delay, next(self._seq), callback))

    def catch_signals(self, signums: Iterable[int], wakeup_fd: int | None = None) -> None:
        """Queue ``signums`` for :meth:`run_once` instead of acting on them in the handler.

        ``wakeup_fd`` is the read end of a pipe already given to :func:`signal.set_wakeup_fd` (a
        :class:`~uwkernel.process.PluginProcess` has one); without it a new pipe is made and set.
        """
        if wakeup_fd is None:
            wakeup_fd, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        self.add_reader(wakeup_fd, lambda: _drain(wakeup_fd))
        self._caught = tuple(signums)
        for signum in self._caught:
            signal.signal(signum, lambda signum, frame: self.signals.append(signum))

    def abandon(self) -> None:
        """In a child forked from the loop's process: default signal handling, no wakeup fd, selector closed."""
        signal.set_wakeup_fd(-1)
        for signum in self._caught:
            signal.signal(signum, signal.SIG_DFL)
        self.selector.close()

    def run_once(self, on_signal: Callable[[int], None], reap: Callable[[], None]) -> None:
        """One turn: wait for a readable fd or the next timer and run the fds' callbacks; pass each
        queued signal to ``on_signal``; call ``reap()`` (children may have exited); run the due timers."""
        timeout = max(0.0, self.timers[0][0] - time.monotonic()) if self.timers else None
        for key, _ in self.selector.select(timeout):
            key.data()
        while self.signals:
            on_signal(self.signals.popleft())
        reap()
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            heapq.heappop(self.timers)[2]()


def _drain(fd: int) -> None:
    """Read everything waiting in the non-blocking ``fd``."""
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass
