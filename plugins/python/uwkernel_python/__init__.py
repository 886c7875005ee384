"""uwkernel's python plugin: WSGI apps loaded as uWSGI loads them, and the default worker loop.

* Options: ``wsgi-file``, ``module``, ``callable``, ``mount``, ``manage-script-name``, ``pythonpath``,
  ``import``, ``need-app``, ``home``, ``threads``, ``post-buffering``... (:mod:`.options`).
* Apps load in the pre-app phase, in the master before it forks (:mod:`.loader`); with ``lazy-apps``
  each worker loads them when it starts. ``need-app`` without an app: exit status 22.
* The ``uwkernel_worker`` hook is the WSGI loop over the uwsgi and HTTP protocols (:mod:`.loop`);
  ``python-worker-override`` replaces it with a script, ``pyrun`` runs one in its own process
  (:mod:`.scripts`).
* The ``uwsgi`` module is assembled from every plugin's names at pre-app (:mod:`.uwsgi_module`); this
  plugin adds the core ones (:mod:`.uwsgi_core`) and calls ``uwsgi.post_fork_hook`` in every child.

Modules: ``options`` (what is configurable), ``loader`` and ``apps`` (loading, picking an app per
request), ``environ`` (the WSGI environ), ``inputs`` (``wsgi.input``), ``response`` (sending),
``wsgi`` (running an app safely), ``loop`` (the worker loop), ``scripts`` (override and pyrun),
``uwsgi_module`` and ``uwsgi_core`` (the ``uwsgi`` module).
"""
from __future__ import annotations

import sys

from uwkernel import hookimpl, log, runtime
from uwkernel.phases import Phase
from uwkernel.types import ModuleName, Option, ProcessSpec, UwsgiPluginName

from . import scripts, uwsgi_core, uwsgi_module, uwsgi_request
from .apps import AppTable
from .loader import EXIT_NO_APP, NoAppError, load_apps, run_import, setup_sys_path
from .loop import Server
from .options import OPTIONS, Settings

#: Apps loaded in the master (pre-app phase); forked workers inherit them. None with lazy-apps.
_master_apps: AppTable | None = None


@hookimpl
def uwkernel_add_options() -> list[Option]:
    """The python plugin's options."""
    return OPTIONS + uwsgi_core.CORE_OPTIONS + scripts.OPTIONS


@hookimpl
def uwkernel_add_uwsgi_plugin_names() -> list[UwsgiPluginName]:
    """``plugins = python`` / ``python3`` / ``python311`` lines of uWSGI files mean this plugin."""
    return [UwsgiPluginName("python"), UwsgiPluginName("python3*")]


@hookimpl
def uwkernel_configure(config) -> None:
    """Apply ``log-date`` to the instance's log lines; make the ``uwsgi.lock`` locks before any fork."""
    log.set_date_format(config["log-date"])
    uwsgi_core.make_locks(config["locks"])


@hookimpl
def uwkernel_add_module_names(config) -> list[ModuleName]:
    """The core names of the ``uwsgi`` module, and those acting on the current request."""
    return uwsgi_core.module_names(config) + uwsgi_request.module_names()


@hookimpl
def uwkernel_add_processes(config) -> list[ProcessSpec]:
    """The ``pyrun`` process, when configured."""
    return scripts.pyrun_specs(config)


@hookimpl
def uwkernel_post_fork(process) -> None:
    """In every child: load lazy apps (workers), then run ``uwsgi.post_fork_hook`` (``@postfork``)."""
    global _master_apps
    if process.is_worker and _master_apps is None and not process.config["python-worker-override"]:
        try:
            _master_apps = load_apps(Settings.from_config(process.config))
        except NoAppError as exc:
            log.log(str(exc))
            raise SystemExit(EXIT_NO_APP) from None
    module = sys.modules.get("uwsgi")
    hook = getattr(module, "post_fork_hook", None) if module else None
    if hook is not None:
        hook()


@hookimpl
def uwkernel_phase(phase: Phase, config) -> None:
    """In pre-app: set up sys.path, run ``shared-import``, and load the apps unless they load lazily."""
    global _master_apps
    if phase is not Phase.PRE_APP:
        return
    settings = Settings.from_config(config)
    module = uwsgi_module.install(runtime.instance.plugins, config)
    module.sockets = [lsock.fileno for lsock in runtime.instance.sockets]
    setup_sys_path(settings)
    for spec in settings.shared_imports:
        run_import(spec)
    if not (config["lazy-apps"] or config["lazy"]):
        _master_apps = load_apps(settings)


@hookimpl(tryfirst=True, specname="uwkernel_worker")
def worker_override(worker):
    """``python-worker-override``: the script is the worker's whole life (before the WSGI loop)."""
    script = worker.config["python-worker-override"]
    return scripts.run_override(script) if script else None


@hookimpl
def uwkernel_worker(worker):
    """The default worker: serve WSGI until the worker stops; True then."""
    Server(worker, _master_apps, Settings.from_config(worker.config)).run()
    return True
