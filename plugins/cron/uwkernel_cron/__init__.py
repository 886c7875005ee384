"""uwkernel plugin ``cron``: uWSGI's cron, for signals (``uwsgi.add_cron``) and shell commands.

* ``uwsgi.add_cron(signum, minute, hour, day, month, weekday)`` -> True; ``@cron`` of uwsgidecorators.
* Options: ``cron = MIN HOUR DAY MONTH WEEKDAY COMMAND``, ``unique-cron`` (same syntax, never two
  runs at once), ``cron2 = minute=..,hour=..,day=..,month=..,week=..,unique=..,harakiri=.. COMMAND``,
  ``cron-harakiri = SECONDS``. A line given twice (a configuration loaded twice) makes one entry.
* Stats: the ``crons`` section (command crons, with uWSGI's keys).

Signals are raised through the signals plugin (``uwkernel_signals.route``), which must be installed.
"""
from __future__ import annotations

from uwkernel import hookimpl
from uwkernel.errors import ConfigError
from uwkernel.types import ChannelHandler, ModuleName, Option, StatsFragment

from .crons import Cron, Crons

OPTIONS = [
    Option("cron", kind="list", help="run a command on a cron schedule (syntax: MIN HOUR DAY MONTH WEEKDAY COMMAND)"),
    Option("cron2", kind="list", help="run a command on a cron schedule (syntax: key=val,... COMMAND; keys minute, "
                                      "hour, day, month, week, unique, harakiri)"),
    Option("unique-cron", kind="list", help="like cron, but never two runs of the command at once"),
    Option("cron-harakiri", kind="int", default=0, help="kill a cron command still running after N seconds"),
]

_crons: Crons | None = None

_CRON2_KEYS = ("minute", "hour", "day", "month", "week", "unique", "harakiri", "legion")


def _route(num: int) -> None:
    import uwkernel_signals  # the signals plugin routes; imported when a signal cron fires

    uwkernel_signals.route(num)


def parse_cron(value: str, harakiri: int, unique: bool = False) -> Cron:
    """A ``cron``/``unique-cron`` line; ValueError when malformed."""
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
    return Cron(*fields, command=command.strip(), unique=bool(int(settings.get("unique", 0))), harakiri=harakiri)


@hookimpl
def uwkernel_add_options() -> list[Option]:
    """The cron options."""
    return OPTIONS


@hookimpl
def uwkernel_configure(config) -> None:
    """Read the command crons (a line given twice makes one entry)."""
    global _crons
    _crons = Crons(_route)
    harakiri = config.get("cron-harakiri") or 0
    parsers = {"cron": lambda v: parse_cron(v, harakiri), "unique-cron": lambda v: parse_cron(v, harakiri, True),
               "cron2": lambda v: parse_cron2(v, harakiri)}
    for name, parse in parsers.items():
        for value, origin in config.values(name):
            try:
                _crons.add(parse(str(value)))
            except ValueError as exc:
                raise ConfigError(f"{name} '{value}': {exc}", origin, name) from None


def _add_cron(signum: int, minute: int, hour: int, day: int, month: int, weekday: int) -> bool:
    """``uwsgi.add_cron(signum, minute, hour, day, month, weekday)``: raise ``signum`` on that schedule."""
    return _crons.add_signal_cron(signum, minute, hour, day, month, weekday)


@hookimpl
def uwkernel_add_module_names(config) -> list[ModuleName]:
    """``uwsgi.add_cron``."""
    return [ModuleName("add_cron", _add_cron)]


@hookimpl
def uwkernel_add_channel_handlers() -> list[ChannelHandler]:
    """"cron": a child's ``uwsgi.add_cron`` handed to the master."""
    return [ChannelHandler("cron", on_master=lambda master, child, payload: _crons.on_master(master, child, payload))]


@hookimpl
def uwkernel_master_start(master) -> None:
    """Check the entries now, then at every minute boundary."""
    _crons.start(master)


@hookimpl
def uwkernel_master_tick(master) -> None:
    """Cron harakiri: kill the commands running too long."""
    _crons.tick()


@hookimpl
def uwkernel_stats(master) -> list[StatsFragment]:
    """The ``crons`` section, when command crons are configured."""
    stats = _crons.stats()
    return [StatsFragment("crons", stats)] if stats else []
