"""uwkernel plugin ``signals``: uWSGI's 256 signals, their targets, timers and file monitors.

* The ``uwsgi`` module: register_signal, signal, signal_wait, signal_received, signal_registered,
  add_timer, add_rb_timer, add_ms_timer, add_file_monitor.
* Options: ``timer = SIG SECS``, ``rbtimer = SIG SECS``, ``touch-signal = FILE SIG``,
  ``fs-signal = PATH SIG``, ``signal-bufsize``.
* Channel messages: "signal" (child -> master: raise; master -> child: run the handler) and "timer"
  (child -> master: arm a timer or file monitor).
* modifier1 110: signals raised by another instance (``uwsgi.signal(num, "host:port")``).

Other plugins (cron) raise signals in the master with :func:`route`. The timers and file monitors
(:mod:`.timers`) load with the first of them.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from uwkernel import hookimpl, log, osutil, runtime
from uwkernel.errors import ConfigError
from uwkernel.types import ChannelHandler, ModuleName, Option, RequestHandler

from .core import Signals

if TYPE_CHECKING:  # pragma: no cover - types only
    from .timers import Timers

OPTIONS = [
    Option("timer", kind="list", help="raise a signal every N seconds (syntax: SIGNAL SECONDS)"),
    Option("rbtimer", kind="list", help="raise a signal every N seconds from an rb timer (syntax: SIGNAL SECONDS)"),
    Option("touch-signal", kind="list", help="raise a signal when FILE is modified/touched (syntax: FILE SIGNAL)"),
    Option("fs-signal", kind="list", help="raise a signal when a filesystem object changes (syntax: PATH SIGNAL)"),
    Option("signal-bufsize", kind="int", default=0, help="socket buffer size of each process's signal queue"),
]

#: This instance's signals, made by ``uwkernel_configure`` before anything forks; its timers, made with the
#: first one; the master, once its loop started.
_signals: Signals | None = None
_timers: Timers | None = None
_master = None
#: touch-signal files: path -> (signal, last mtime or None).
_touch: dict[str, tuple[int, float | None]] = {}


def route(num: int) -> None:
    """Raise signal ``num`` from the master (cron, timers); queued until the master loop starts."""
    if _signals is not None:
        _signals.signal(num)


@hookimpl
def uwkernel_add_options() -> list[Option]:
    """The signal options."""
    return OPTIONS


def _pairs(config, name: str, number_first: bool) -> list[tuple[int, str]]:
    """``SIG VALUE`` (or ``VALUE SIG``) lines of option ``name`` as (signal, value); ConfigError when malformed."""
    pairs = []
    for value, origin in config.values(name):
        parts = str(value).rsplit(None, 1) if not number_first else str(value).split(None, 1)
        try:
            num, rest = (int(parts[0]), parts[1]) if number_first else (int(parts[1]), parts[0])
            if not 0 <= num <= 255:
                raise ValueError
        except (ValueError, IndexError):
            syntax = "SIGNAL VALUE" if number_first else "PATH SIGNAL"
            raise ConfigError(f"invalid {name} '{value}' (syntax: {syntax}, signal 0-255)", origin, name) from None
        pairs.append((num, rest.strip()))
    return pairs


def _timers_() -> Timers:
    """This instance's timers, made at the first use (and started then in a master whose loop runs)."""
    global _timers
    if _timers is None:
        from .timers import Timers

        _timers = Timers(_signals.route)
        if _master is not None and runtime.process is None:
            _timers.start(_master)
    return _timers


@hookimpl
def uwkernel_configure(config) -> None:
    """Make the shared signal table (before any fork) and take the timer and monitor options."""
    global _signals, _timers, _master, _touch
    _signals = Signals(config)
    _timers = _master = None
    for name in ("timer", "rbtimer"):
        for num, secs in _pairs(config, name, number_first=True):
            try:
                _timers_().add(name, num, float(secs))
            except ValueError as exc:
                raise ConfigError(str(exc), config.origin(name), name) from None
    for num, path in _pairs(config, "fs-signal", number_first=False):
        _timers_().add("filemon", num, path)
    _touch = {path: (num, osutil.mtime(path)) for num, path in _pairs(config, "touch-signal", number_first=False)}


def _add_timer(signum: int, seconds: int) -> None:
    """``uwsgi.add_timer(signum, seconds)``: raise ``signum`` every ``seconds``."""
    _timers_().request("timer", int(signum), seconds)


def _add_rb_timer(signum: int, seconds: int, iterations: int = 0) -> None:
    """``uwsgi.add_rb_timer(signum, seconds[, iterations])``: a timer stopping after ``iterations`` (0 = never)."""
    _timers_().request("rbtimer", int(signum), seconds, int(iterations))


def _add_ms_timer(signum: int, msecs: int) -> None:
    """``uwsgi.add_ms_timer(signum, msecs)``: raise ``signum`` every ``msecs`` milliseconds."""
    _timers_().request("mstimer", int(signum), msecs)


def _add_file_monitor(signum: int, path: str | bytes) -> None:
    """``uwsgi.add_file_monitor(signum, path)``: raise ``signum`` when ``path`` changes (inotify)."""
    _timers_().request("filemon", int(signum), os.fsdecode(path))


@hookimpl
def uwkernel_add_module_names(config) -> list[ModuleName]:
    """The signal names of the ``uwsgi`` module."""
    s = _signals
    return [ModuleName("register_signal", s.register_signal), ModuleName("signal", s.signal),
            ModuleName("signal_wait", s.signal_wait), ModuleName("signal_received", s.signal_received),
            ModuleName("signal_registered", s.signal_registered), ModuleName("add_timer", _add_timer),
            ModuleName("add_rb_timer", _add_rb_timer), ModuleName("add_ms_timer", _add_ms_timer),
            ModuleName("add_file_monitor", _add_file_monitor)]


@hookimpl
def uwkernel_add_channel_handlers() -> list[ChannelHandler]:
    """"signal" both ways, "timer" from children to the master."""
    return [ChannelHandler("signal", on_master=lambda master, child, payload: _signals.on_master(master, child, payload),
                           on_child=lambda process, payload: _signals.on_child(process, payload)),
            ChannelHandler("timer",
                           on_master=lambda master, child, payload: _timers_().on_master(master, child, payload))]


@hookimpl
def uwkernel_add_request_handlers() -> list[RequestHandler]:
    """modifier1 110: signals from other instances."""
    return [RequestHandler(110, "signal", lambda config: _remote_signal)]


def _remote_signal(*request) -> int:
    """A modifier1 110 request, served by :mod:`.remote` (imported with the first one)."""
    from . import remote

    return remote.handle(*request)


@hookimpl
def uwkernel_master_start(master) -> None:
    """Arm the timers, watch the monitored files, route the signals raised before the loop."""
    global _master
    _master = master
    _signals.start(master)
    if _timers is not None:
        _timers.start(master)


@hookimpl
def uwkernel_master_tick(master) -> None:
    """touch-signal: a file whose mtime changed (or that appeared or vanished) raises its signal."""
    for path, (num, before) in list(_touch.items()):
        now = osutil.mtime(path)
        if now != before:
            _touch[path] = (num, now)
            log.log(f"*** {path} has been touched... raising signal {num} ***")
            _signals.route(num)
