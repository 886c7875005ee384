"""Every hook a uwkernel plugin can implement.

A plugin is a module (or object) with functions marked ``@uwkernel.hookimpl`` whose names are the
hook names below; it is found through the entry-point group ``uwkernel.plugins``::

    # pyproject.toml of a plugin distribution
    [project.entry-points."uwkernel.plugins"]
    hello = "uwkernel_hello"

Hooks come in two families. *Registration* hooks are called once at start-up; they return lists of
the records of :mod:`uwkernel.types`, which the plugin manager validates (no name claimed twice)
and caches. *Lifecycle* hooks are called as the instance runs. The request hot path never goes
through pluggy: request handlers are resolved once per worker and then called directly.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import hookspec

if TYPE_CHECKING:  # pragma: no cover - types only
    from .config import Config
    from .phases import Phase
    from .types import (
        ChannelHandler,
        HookHandler,
        ModuleName,
        Option,
        ProcessSpec,
        RequestHandler,
        StatsFragment,
        UwsgiPluginName,
    )

# ---------------------------------------------------------------------------------------------------
# Registration: called once, results cached by the plugin manager
# ---------------------------------------------------------------------------------------------------


@hookspec
def uwkernel_add_options() -> list[Option]:
    """Return the configuration options this plugin adds.

    Every option is available as ``--name`` on the command line, ``name = value`` in ini files and
    ``UWSGI_NAME`` in the environment. Two plugins adding the same name is a start-up error naming
    both distributions. Example::

        @hookimpl
        def uwkernel_add_options():
            return [Option("spooler", kind="list", short="Q", help="run a spooler on DIR")]
    """


@hookspec
def uwkernel_add_hook_handlers() -> list[HookHandler]:
    """Return the hook handlers this plugin provides (``hook-PHASE = name:args``).

    Example::

        @hookimpl
        def uwkernel_add_hook_handlers():
            return [HookHandler("print", lambda args: print(args))]
    """


@hookspec
def uwkernel_add_uwsgi_plugin_names() -> list[UwsgiPluginName]:
    """Return the uWSGI plugin names this plugin stands in for.

    Lets ``plugins = python3`` lines of existing uWSGI files be accepted. Example::

        @hookimpl
        def uwkernel_add_uwsgi_plugin_names():
            return [UwsgiPluginName("python"), UwsgiPluginName("python3*")]
    """


@hookspec
def uwkernel_add_request_handlers() -> list[RequestHandler]:
    """Return request handlers keyed by uwsgi ``modifier1`` (0 WSGI, 17 spool, 110 signal, 173 RPC).

    Example::

        @hookimpl
        def uwkernel_add_request_handlers():
            return [RequestHandler(173, "rpc", make_rpc_handler)]
    """


@hookspec
def uwkernel_add_processes(config: Config) -> list[ProcessSpec]:
    """Return the extra processes this configuration needs the master to run (spoolers, mules).

    Called once after configuration; the master forks, names and respawns them. Example::

        @hookimpl
        def uwkernel_add_processes(config):
            return [ProcessSpec(f"spooler {d}", "uWSGI spooler", run_spooler) for d in config["spooler"]]
    """


@hookspec
def uwkernel_add_module_names(config: Config) -> list[ModuleName]:
    """Return the names this plugin adds to the ``uwsgi`` Python module.

    Example::

        @hookimpl
        def uwkernel_add_module_names(config):
            return [ModuleName("rpc", rpc_call), ModuleName("SPOOL_OK", -2)]
    """


@hookspec
def uwkernel_add_channel_handlers() -> list[ChannelHandler]:
    """Return the kinds of message this plugin sends between the master and its children.

    Every child has a channel to the master (:mod:`uwkernel.ipc`); a message names its kind, and the
    kind's handler runs on the receiving side. Example::

        @hookimpl
        def uwkernel_add_channel_handlers():
            return [ChannelHandler("signal", on_master=route_signal, on_child=run_signal_handler)]
    """


# ---------------------------------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------------------------------


@hookspec
def uwkernel_configure(config: Config) -> None:
    """Check and take in the resolved configuration, before the first phase runs.

    Raise :class:`uwkernel.errors.ConfigError` to refuse it (start-up stops with that message).
    Example::

        @hookimpl
        def uwkernel_configure(config):
            if config["spooler-processes"] < 1:
                raise ConfigError("must be at least 1", option="spooler-processes")
    """


@hookspec
def uwkernel_phase(phase: Phase, config: Config) -> None:
    """Called after ``phase`` ran its hook chains (:mod:`uwkernel.phases` lists them in order).

    Example::

        @hookimpl
        def uwkernel_phase(phase, config):
            if phase is Phase.PRE_APP:
                prepare_cache(config)
    """


@hookspec
def uwkernel_post_fork(process: Any) -> None:
    """Called in every child right after fork, before its role loop (the ``@postfork`` moment).

    Example::

        @hookimpl
        def uwkernel_post_fork(process):
            reconnect_database()
    """


@hookspec(firstresult=True)
def uwkernel_worker(worker: Any) -> Any:
    """Run a worker's whole life; the first implementation returning non-None wins.

    The python plugin's default WSGI request loop returns ``True`` after the worker's loop ends;
    ``python-worker-override`` is implemented with ``tryfirst=True`` so it replaces the loop.
    Example::

        @hookimpl(tryfirst=True)
        def uwkernel_worker(worker):
            if worker.config["my-loop"]:
                run_my_loop(worker)
                return True
    """


@hookspec
def uwkernel_master_start(master: Any) -> None:
    """Called once in the master before it forks; register file descriptors and timers here.

    Example::

        @hookimpl
        def uwkernel_master_start(master):
            master.add_reader(inotify_fd, on_inotify_event)
    """


@hookspec
def uwkernel_master_tick(master: Any) -> None:
    """Called by the master about once a second (harakiri checks, cron, touch files).

    Example::

        @hookimpl
        def uwkernel_master_tick(master):
            check_touch_files(master)
    """


@hookspec
def uwkernel_reload(config: Config) -> None:
    """Called in the master when a graceful reload begins, before workers are told to stop.

    Example::

        @hookimpl
        def uwkernel_reload(config):
            flush_buffers()
    """


@hookspec
def uwkernel_atexit(config: Config) -> None:
    """Called in the master when the instance stops or reloads, after ``as-user-atexit`` ran.

    Example::

        @hookimpl
        def uwkernel_atexit(config):
            remove_pidfile(config)
    """


@hookspec
def uwkernel_stats(master: Any) -> list[StatsFragment]:
    """Return the sections this plugin adds to the stats server's JSON.

    Example::

        @hookimpl
        def uwkernel_stats(master):
            return [StatsFragment("spoolers", spooler_stats())]
    """
