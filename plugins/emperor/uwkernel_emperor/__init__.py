"""uwkernel plugin ``emperor``: uWSGI's Emperor, which runs one vassal instance per config file.

``emperor = DIR`` (or a glob, ``emperor = /etc/vassals/*.ini``; repeatable) makes the instance run an
Emperor process ("uWSGI Emperor") under its master: every config file found there (``.ini``,
``.json``, ``.yaml``, ``.toml``) is a vassal, ``uwkernel --ini FILE``, spawned when the file appears,
reloaded (SIGHUP) when it is touched, stopped when it is removed, respawned with a back-off when it
dies. Changes are seen through inotify, with a rescan every ``emperor-freq`` seconds behind it.

Options: ``emperor``, ``emperor-tyrant`` (when root, each vassal runs as its file's owner),
``vassals-include``/``-before``, ``vassals-inherit``/``-before``, ``vassal-set`` (each vassal gets
``--set NAME=VALUE``), ``emperor-stats`` (the JSON uwsgitop reads), ``emperor-pidfile``,
``emperor-procname``, ``emperor-freq``, ``emperor-throttle``, ``emperor-max-throttle``,
``call-as-vassal1``/``3`` and ``call-as-emperor1``/``2``/``4`` (C functions given the vassal's file,
pid, uid, gid).

Phases: ``as-vassal`` of the Emperor's configuration runs in each vassal's process before it executes
uwkernel (as uWSGI does; the vassal's own as-vassal lines run first thing in the vassal);
``as-emperor`` runs in the Emperor after each spawn, not fatal, with ``UWSGI_VASSAL_CONFIG``,
``UWSGI_VASSAL_PID``, ``UWSGI_VASSAL_UID`` and ``UWSGI_VASSAL_GID`` in the environment of every hook.
"""
from __future__ import annotations

from uwkernel import hookimpl
from uwkernel.errors import ConfigError
from uwkernel.sockets import parse_address
from uwkernel.types import Option, ProcessSpec

#: The call-as-* options (:mod:`.calls` runs them): option name -> what the function receives, in order
#: (from "path", "pid", "uid", "gid").
CALL_OPTIONS = {
    "call-as-vassal1": ("path",),
    "call-as-vassal3": ("path", "uid", "gid"),
    "call-as-emperor1": ("path",),
    "call-as-emperor2": ("path", "pid"),
    "call-as-emperor4": ("path", "pid", "uid", "gid"),
}

OPTIONS: list[Option] = [
    Option("emperor", kind="list", help="run the Emperor on a directory or a glob of vassal config files"),
    Option("emperor-tyrant", kind="bool", help="(as root) run each vassal as the owner (uid, gid) of its file"),
    Option("vassals-include", kind="list", help="every vassal also loads this config file (--include), after its own"),
    Option("vassals-include-before", kind="list", help="every vassal loads this config file before its own"),
    Option("vassals-inherit", kind="list", help="every vassal inherits this config file (--inherit), after its own"),
    Option("vassals-inherit-before", kind="list", help="every vassal inherits this config file before its own"),
    Option("vassal-set", kind="list", aliases=("vassals-set",),
           help="every vassal gets this NAME=VALUE option (--set NAME=VALUE)"),
    Option("emperor-stats", aliases=("emperor-stats-server",),
           help="serve the Emperor's stats JSON (vassals, pids) on this address, as uwsgitop reads it"),
    Option("emperor-pidfile", help="write the Emperor's pid to this file"),
    Option("emperor-procname", help="the Emperor's process name (default: uWSGI Emperor)"),
    Option("emperor-freq", kind="int", default=3,
           help="seconds between rescans of the vassal sources (inotify reports changes at once)"),
    Option("emperor-throttle", kind="int", default=1000,
           help="milliseconds before respawning a vassal that died quickly, doubled at each quick death"),
    Option("emperor-max-throttle", kind="int", default=30000,
           help="the longest respawn back-off, in milliseconds (uWSGI's default: 180000)"),
    *(Option(name, kind="list", help=f"call a C function ({', '.join(fields)} of the vassal) "
             + ("in the vassal before it executes" if "vassal" in name else "in the Emperor after a spawn"))
      for name, fields in CALL_OPTIONS.items()),
]


@hookimpl
def uwkernel_add_options() -> list[Option]:
    """The emperor, emperor-* and vassal* options."""
    return OPTIONS


@hookimpl
def uwkernel_configure(config) -> None:
    """Check that every emperor-stats address is one."""
    if config["emperor-stats"]:
        try:
            parse_address(config["emperor-stats"])
        except ValueError as exc:
            raise ConfigError(str(exc), config.origin("emperor-stats"), "emperor-stats") from None


@hookimpl
def uwkernel_add_processes(config) -> list[ProcessSpec]:
    """The Emperor process, when ``emperor`` is set."""
    if not config["emperor"]:
        return []
    return [ProcessSpec("emperor", config["emperor-procname"] or "uWSGI Emperor", run_emperor)]


def run_emperor(process) -> int:
    """The Emperor process's role loop (a :class:`~uwkernel.process.PluginProcess` target).

    The Emperor's modules (inotify, vassals) are imported here, in its process: an instance without
    ``emperor`` never needs them.
    """
    from .emperor import Emperor

    return Emperor(process).run()
