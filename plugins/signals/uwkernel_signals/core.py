"""The signal machinery of one instance: registration, routing in the master, handlers in children.

* ``register_signal`` writes the shared :class:`~.table.SignalTable` and keeps the handler in this
  process's dict (registered in the master before fork: every child inherits it).
* ``signal`` in a child sends a "signal" message to the master over the process's channel; in the
  master it routes directly (queued until the master loop starts).
* The master routes (:meth:`Signals.route`) by the entry's target to children picked by
  :func:`.targets.select`, sending each a "signal" message; a full channel is logged and counted,
  never waited for.
* A child runs the handler when it reads the message (a worker while idle in accept or between
  requests; a plugin process whenever its loop dispatches messages), under the harakiri of the process:
  ``harakiri`` in workers, the process's own (``spooler-harakiri``) in a plugin process whose
  ProcessSpec has a ``harakiri`` callable.
"""
from __future__ import annotations

import os
import select as select_module
import socket
import time
from typing import Any, Callable

from uwkernel import log, runtime

from .table import SIGNALS, SignalTable


def _check_num(num: Any) -> int:
    num = int(num)
    if not 0 <= num < SIGNALS:
        raise OverflowError(f"signal number {num} is not in 0..{SIGNALS - 1}")
    return num


def in_master() -> bool:
    """Whether this process is the master of an instance (or the process that becomes it)."""
    return runtime.process is None and runtime.master_pid == os.getpid()


class Signals:
    """One instance's signals: the shared table, this process's handlers, the master's routing."""

    def __init__(self, config):
        self.config = config
        self.table = SignalTable()
        self.handlers: dict[int, Callable] = {}
        self.master = None  # the Master, once its loop starts (in the master process)
        self.pending: list[int] = []  # signals raised in the master before its loop started
        self.last_received = -1
        self.received: list[int] = []  # signals handled since the last signal_wait check
        self.queue_full = 0  # messages the master could not queue
        self.handled = 0  # signals this process ran a handler for
        self.bufsize = config.get("signal-bufsize") or 0
        self._buffered: set[int] = set()  # pids whose channel got signal-bufsize
        self.farms = _farms(_option(config, "farm"))
        self.harakiri = config.get("harakiri") or 0

    # -- the uwsgi module ------------------------------------------------------------------------

    def register_signal(self, num: int, target: str | bytes, handler: Callable) -> None:
        """``uwsgi.register_signal(num, target, handler)``: ValueError without a master or on a re-registration by it."""
        num = _check_num(num)
        if isinstance(target, bytes):
            target = target.decode("latin-1")
        if not runtime.master_pid:
            log.log("you cannot register signals without a master")
            raise ValueError("unable to register signal")
        if not callable(handler):
            raise TypeError("the signal handler must be callable")
        master = in_master()
        if master and self.table.read(num).registered:
            log.log(f"you cannot re-register a signal as the master (signal {num})")
            raise ValueError("unable to register signal")
        self.table.write(num, target, 0 if master else os.getpid())
        self.handlers[num] = handler

    def signal(self, num: int, node: str | bytes | None = None) -> None:
        """``uwsgi.signal(num[, node])``: raise a signal here, or on the instance listening at ``node``."""
        num = _check_num(num)
        if node:
            from .remote import send_remote  # late: only remote signals need the client
            send_remote(node.decode() if isinstance(node, bytes) else node, num,
                        self.config.get("socket-timeout") or 4)
            return
        if in_master():
            if self.master is None:
                self.pending.append(num)
            else:
                self.route(num)
            return
        channel = getattr(runtime.process, "channel", None)
        if channel is None:
            raise ValueError("uwsgi.signal needs a master")
        if not channel.send("signal", bytes((num,))):
            log.log(f"*** SIGNAL QUEUE IS FULL: signal {num} from pid {os.getpid()} was not delivered ***")

    def signal_registered(self, num: int) -> bool | None:
        """``uwsgi.signal_registered(num)``: True or None."""
        return True if self.table.read(_check_num(num)).registered else None

    def signal_received(self) -> int:
        """``uwsgi.signal_received()``: the last signal this process handled (-1 before any)."""
        return self.last_received

    def signal_wait(self, num: int | None = None) -> bytes:
        """``uwsgi.signal_wait([num])``: run arriving handlers until ``num`` (or any signal) arrived."""
        wanted = None if num is None else _check_num(num)
        process = runtime.process
        if process is None or process.channel is None:
            raise SystemError("error waiting for signal")
        self.received.clear()
        fd = process.channel.fileno()
        while True:
            if wanted is None and self.received or wanted in self.received:
                return b""
            select_module.select([fd], [], [])
            process.dispatch_messages()

    # -- children --------------------------------------------------------------------------------

    def on_child(self, process, payload: bytes) -> None:
        """A "signal" message from the master: run the handler of each signal number in it."""
        for num in payload:
            self.run_handler(process, num)

    def run_handler(self, process, num: int) -> None:
        """Run signal ``num``'s handler here, under this process's harakiri; a failure is logged."""
        self.last_received = num
        self.received.append(num)
        handler = self.handlers.get(num)
        if handler is None:
            log.log(f"error managing signal {num} on pid {os.getpid()}: no handler registered")
            return
        board = getattr(process, "scoreboard", None) if getattr(process, "is_worker", False) else None
        if board is not None and self.harakiri:
            now = time.time()
            board.set(process.id, "request_start", now)
            board.set(process.id, "deadline", now + self.harakiri)
        process_harakiri = getattr(getattr(process, "spec", None), "harakiri", None)  # a plugin process's own
        if process_harakiri is not None:
            process_harakiri(True)
        try:
            handler(num)
        except Exception:
            import traceback  # here: only a failing handler needs it

            log.log(f"error managing signal {num} on pid {os.getpid()}:\n{traceback.format_exc().rstrip()}")
        finally:
            if process_harakiri is not None:
                process_harakiri(False)
            self.handled += 1
            if board is not None:
                if self.harakiri:
                    board.set(process.id, "deadline", 0.0)
                board.set(process.id, "signals", board.read(process.id).signals + 1)

    # -- the master ------------------------------------------------------------------------------

    def start(self, master) -> None:
        """The master loop starts: route what was raised before it."""
        self.master = master
        pending, self.pending = self.pending, []
        for num in pending:
            master.call_later(0, lambda num=num: self.route(num))

    def on_master(self, master, child, payload: bytes) -> None:
        """A "signal" message from a child: route each signal number in it."""
        for num in payload:
            self.route(num)

    def route(self, num: int) -> int:
        """Deliver signal ``num`` to the children its target names; return how many got it."""
        master = self.master
        if master is None:
            self.pending.append(num)
            return 0
        entry = self.table.read(num)
        target = entry.target if entry.registered else ""
        children = list(master.children.values())
        owner = entry.owner if entry.registered else 0
        from . import targets  # here: an instance that never raises a signal never needs it

        try:
            chosen = targets.select(target, children, lambda wid: master.scoreboard.read(wid).status, self.farms)
        except targets.UnsupportedTarget:
            log.log(f"^^^ UNSUPPORTED SIGNAL TARGET: {target} ^^^")
            return 0
        if owner:  # registered in one child: only that child has the handler
            chosen = [c for c in children if c.pid == owner]
        delivered = 0
        for child in chosen:
            self._apply_bufsize(child)
            if child.channel.send("signal", bytes((num,))):
                delivered += 1
            else:
                self.queue_full += 1
                log.log(f"*** SIGNAL QUEUE IS FULL: signal {num} to pid {child.pid} ({child.role}) "
                        f"was not delivered (signal-bufsize {self.bufsize or 'default'}) ***")
        if not chosen:
            log.log(f"signal {num}: no process for target '{target}'")
        return delivered

    def _apply_bufsize(self, child) -> None:
        if self.bufsize and child.pid not in self._buffered:
            self._buffered.add(child.pid)
            try:
                child.channel.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.bufsize)
            except OSError as exc:
                log.log(f"signal-bufsize: {exc}")


def _farms(values: list) -> list[tuple[str, list[int]]]:
    """The ``farm`` lines as :func:`.targets.parse_farms` reads them (imported only when there are some)."""
    if not values:
        return []
    from .targets import parse_farms

    return parse_farms(values)


def _option(config, name: str) -> list:
    """A list option another plugin may or may not add (``farm`` comes with the mules plugin)."""
    try:
        value = config[name]
    except KeyError:
        return []
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
