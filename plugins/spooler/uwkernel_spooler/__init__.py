"""uwkernel plugin ``spooler``: uWSGI's spooler, with spool files byte-compatible with uWSGI's.

* Options (:mod:`.options`): ``spooler`` (-Q, repeatable), ``spooler-external``,
  ``spooler-processes``, ``spooler-ordered``, ``spooler-frequency``, ``spooler-chdir``,
  ``spooler-quiet``, ``spooler-max-tasks``, ``spooler-harakiri``, ``spooler-import``,
  ``touch-spoolers-reload``.
* Processes: ``spooler-processes`` "uWSGI spooler" processes per spool dir, declared to the master
  (which then runs even without ``master``), respawned when they die, reloaded with the instance.
* The ``uwsgi`` module (:mod:`.api`): spool, send_to_spooler, spooler_jobs, spooler_pid,
  spooler_pids, set_spooler_frequency, spooler_get_task, i_am_the_spooler, spoolers, SPOOL_OK,
  SPOOL_RETRY, SPOOL_IGNORE — only when a spool dir is configured.
* modifier1 17 (:mod:`.remote`): tasks spooled over the uwsgi protocol.
* Stats: the ``spoolers`` section (dir, pid, tasks, respawns, running).

Modules: ``spoolfile`` (the file format, atomic writes, claiming), ``scan`` (which files, in which
order), ``board`` (shared memory), ``context`` (one instance's spooling), ``enqueue`` (writing a
task), ``api``, ``loop`` (the spooler process), ``remote``, ``supervise`` (the master's part). Only
``options`` is imported with the plugin: the others when a spool dir is configured (or a spool
request arrives), so an instance without a spooler does not pay for them at start-up.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from uwkernel import hookimpl
from uwkernel.types import ModuleName, Option, ProcessSpec, RequestHandler, StatsFragment

from .options import OPTIONS, Settings

if TYPE_CHECKING:
    from .api import SpoolerAPI
    from .context import Spooling
    from .supervise import Supervisor

#: This instance's spooling, made by ``uwkernel_configure`` before anything forks (None: no spool dir).
_spooling: Spooling | None = None
_api: SpoolerAPI | None = None
_supervisor: Supervisor | None = None


@hookimpl
def uwkernel_add_options() -> list[Option]:
    """The spooler options."""
    return OPTIONS


@hookimpl
def uwkernel_configure(config) -> None:
    """Check the options, create the spool dirs, and make the shared board (before any fork)."""
    global _spooling, _api, _supervisor
    settings = Settings.from_config(config)
    if settings.all_dirs:
        from .api import SpoolerAPI
        from .context import Spooling
        from .supervise import Supervisor
        _spooling = Spooling(settings)
        _api = SpoolerAPI(_spooling)
        _supervisor = Supervisor(_spooling)
    else:
        _spooling = _api = _supervisor = None


@hookimpl
def uwkernel_add_processes(config) -> list[ProcessSpec]:
    """One "uWSGI spooler" process per spool dir and ``spooler-processes``."""
    if _spooling is None:
        return []
    from . import loop, supervise
    return [ProcessSpec(f"spooler {_spooling.dir_of(slot)} #{slot % _spooling.settings.processes + 1}",
                        "uWSGI spooler", functools.partial(loop.run, _spooling, slot),
                        harakiri=functools.partial(supervise.signal_harakiri, _spooling, slot))
            for slot in range(_spooling.settings.slots)]


@hookimpl
def uwkernel_add_module_names(config) -> list[ModuleName]:
    """The spooler's names of the ``uwsgi`` module, when a spool dir is configured."""
    return _api.module_names() if _api is not None else []


@hookimpl
def uwkernel_add_request_handlers() -> list[RequestHandler]:
    """modifier1 17: spool requests over the uwsgi protocol."""
    return [RequestHandler(17, "spool", _make_remote_handler)]


def _make_remote_handler(config):
    from . import remote
    if _spooling is None:
        return remote.make_handler(None)
    from .enqueue import Enqueuer
    return remote.make_handler(Enqueuer(_spooling))


@hookimpl
def uwkernel_master_tick(master) -> None:
    """``spooler-harakiri`` and ``touch-spoolers-reload``."""
    if _supervisor is not None:
        _supervisor.tick()


@hookimpl
def uwkernel_stats(master) -> list[StatsFragment]:
    """The ``spoolers`` section of the stats JSON."""
    if _spooling is None:
        return []
    from .supervise import stats
    return [StatsFragment("spoolers", stats(_spooling))]
