"""uwkernel plugin ``cron``: uWSGI's cron, for signals (``uwsgi.add_cron``) and shell commands.

* ``uwsgi.add_cron(signum, minute, hour, day, month, weekday)`` -> True; ``@cron`` of uwsgidecorators.
* Options: ``cron = MIN HOUR DAY MONTH WEEKDAY COMMAND``, ``unique-cron`` (same syntax, never two
  runs at once), ``cron2 = minute=..,hour=..,day=..,month=..,week=..,unique=..,harakiri=.. COMMAND``,
  ``cron-harakiri = SECONDS``. A line given twice (a configuration loaded twice) makes one entry.
* Stats: the ``crons`` section (command crons, with uWSGI's keys).

Signals are raised through the signals plugin (``uwkernel_signals.route``), which must be installed.
The entries (:mod:`.crons`, which imports subprocess and json) load with the first of them: an instance
without crons never imports them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from uwkernel import hookimpl, runtime
from uwkernel.errors import ConfigError
from uwkernel.types import ChannelHandler, ModuleName, Option, StatsFragment

if TYPE_CHECKING:  # pragma: no cover - types only
    from .crons import Cron, Crons

OPTIONS = [
    Option("cron", kind="list", help="run a command on a cron schedule (syntax: MIN HOUR DAY MONTH WEEKDAY COMMAND)"),
    Option("cron2", kind="list", help="run a command on a cron schedule (syntax: key=val,... COMMAND; keys minute, "
                                      "hour, day, month, week, unique, harakiri)"),
    Option("unique-cron", kind="list", help="like cron, but never two runs of the command at once"),
    Option("cron-harakiri", kind="int", default=0, help="kill a cron command still running after N seconds"),
]

#: This instance's entries, made with the first one; the master, once its loop started.
_crons: Crons | None = None
_master = None

_CRON2_KEYS = ("minute", "hour", "day", "month", "week", "unique", "harakiri", "legion")


def _route(num: int) -> None:
    import uwkernel_signals  # the signals plugin routes; imported when a signal cron fires

    uwkernel_signals.route(num)


def _entries() -> Crons:
    """This instance's entries, made at the first use (and started then in a master whose loop runs)."""
    global _crons
    if _crons is None:
        from .crons import Crons

        _crons = Crons(_route)
        if _master is not None and runtime.process is None:
            _crons.start(_master)
    return _crons


def parse_cron(value: str, harakiri: int, unique: bool = False) -> Cron:
    """A ``cron``/``unique-cron`` line; ValueError when malformed."""
    from .crons import Cron

    parts = value.split(None, 5)
    if len(parts) < 6:
        raise ValueError("invalid cron syntax")
    fields = [int(p) for p in parts[:5]]
    return Cron(*fields, command=parts[5], unique=unique, harakiri=harakiri)


def parse_cron2(value: str, harakiri: int) -> Cron:
    """A ``cron2`` line: ``key=val,... COMMAND`` (missing keys are -1); ValueError when malformed."""
    head, _, command = value.strip().partition(" ")
    if "=" not in head:
        if "=" in value:
            raise ValueError(f"unable to parse cron definition: {value}")
        head, command = "", value.strip()
    settings = {}
    for item in filter(None, head.split(",")):
        key, sep, val = item.partition("=")
        if not sep or key not in _CRON2_KEYS:
            raise ValueError(f"unable to parse cron definition: {value}")
        settings[key] = val
    if not command.strip():
        raise ValueError(f"[uwsgi-cron] invalid command in cron definition: {value}")
    fields = [int(settings.get(k, -1)) for k in ("minute", "hour", "day", "month", "week")]
    if "harakiri" in settings:
        harakiri = int(settings["harakiri"])  # harakiri=0 disables cron-harakiri for this entry
    from .crons import Cron

    return Cron(*fields, command=command.strip(), unique=bool(int(settings.get("unique", 0))), harakiri=harakiri)


@hookimpl
def uwkernel_add_options() -> list[Option]:
    """The cron options."""
    return OPTIONS


@hookimpl
def uwkernel_configure(config) -> None:
    """Read the command crons (a line given twice makes one entry)."""
    global _crons, _master
    _crons = _master = None
    harakiri = config.get("cron-harakiri") or 0
    parsers = {"cron": lambda v: parse_cron(v, harakiri), "unique-cron": lambda v: parse_cron(v, harakiri, True),
               "cron2": lambda v: parse_cron2(v, harakiri)}
    for name, parse in parsers.items():
        for value, origin in config.values(name):
            try:
                _entries().add(parse(str(value)))
            except ValueError as exc:
                raise ConfigError(f"{name} '{value}': {exc}", origin, name) from None


def _add_cron(signum: int, minute: int, hour: int, day: int, month: int, weekday: int) -> bool:
    """``uwsgi.add_cron(signum, minute, hour, day, month, weekday)``: raise ``signum`` on that schedule."""
    return _entries().add_signal_cron(signum, minute, hour, day, month, weekday)


@hookimpl
def uwkernel_add_module_names(config) -> list[ModuleName]:
    """``uwsgi.add_cron``."""
    return [ModuleName("add_cron", _add_cron)]


@hookimpl
def uwkernel_add_channel_handlers() -> list[ChannelHandler]:
    """"cron": a child's ``uwsgi.add_cron`` handed to the master."""
    return [ChannelHandler("cron",
                           on_master=lambda master, child, payload: _entries().on_master(master, child, payload))]


@hookimpl
def uwkernel_master_start(master) -> None:
    """Check the entries now, then at every minute boundary (entries added later start then)."""
    global _master
    _master = master
    if _crons is not None:
        _crons.start(master)


@hookimpl
def uwkernel_master_tick(master) -> None:
    """Cron harakiri: kill the commands running too long."""
    if _crons is not None:
        _crons.tick()


@hookimpl
def uwkernel_stats(master) -> list[StatsFragment]:
    """The ``crons`` section, when command crons are configured."""
    stats = _crons.stats() if _crons is not None else None
    return [StatsFragment("crons", stats)] if stats else []
