"""The ``uwsgi`` Python module: assembled from the names every plugin contributes.

Each plugin returns :class:`~uwkernel.types.ModuleName` records from ``uwkernel_add_module_names``;
:func:`install` puts them on one module object in ``sys.modules["uwsgi"]`` before the apps load, so
``import uwsgi`` works in workers, spoolers, mules and scripts of the instance (and, as in uWSGI,
nowhere else). A name whose plugin is absent or not configured raises an AttributeError saying which
plugin and which option provide it.
"""
from __future__ import annotations

import sys
import types

from uwkernel.errors import PluginError

#: Names other plugins provide, and what enables them: for the error when one is missing.
PROVIDED_BY = {
    **dict.fromkeys(("spool", "send_to_spooler", "spooler_jobs", "spooler_pid", "spooler_pids",
                     "set_spooler_frequency", "spooler_get_task", "i_am_the_spooler", "spoolers",
                     "SPOOL_OK", "SPOOL_RETRY", "SPOOL_IGNORE"), ("uwkernel-spooler", "spooler = DIR")),
    **dict.fromkeys(("register_signal", "signal", "signal_wait", "signal_received", "signal_registered",
                     "add_timer", "add_rb_timer", "add_ms_timer", "add_file_monitor"),
                    ("uwkernel-signals", "master = true")),
    "add_cron": ("uwkernel-cron", "master = true"),
    **dict.fromkeys(("register_rpc", "rpc", "call", "rpc_list"), ("uwkernel-rpc", "master = true")),
    **dict.fromkeys(("mule_id", "mule_msg", "mule_get_msg", "farm_msg", "farm_get_msg", "in_farm"),
                    ("uwkernel-mules", "mules = N")),
}


def _missing(name: str):
    provider = PROVIDED_BY.get(name)
    if provider:
        raise AttributeError(f"uwsgi.{name} is provided by the plugin {provider[0]}: install it and set "
                             f"`{provider[1]}` in the configuration")
    raise AttributeError(f"module 'uwsgi' has no attribute '{name}'")


def install(plugins, config) -> types.ModuleType:
    """Build the ``uwsgi`` module from every plugin's names and register it in ``sys.modules``.

    Two plugins adding one name is a :class:`~uwkernel.errors.PluginError` naming both.
    """
    module = types.ModuleType("uwsgi", "uWSGI's Python API, provided by uwkernel and its plugins.")
    owners: dict[str, str] = {}
    for record in plugins.collect("uwkernel_add_module_names", config=config):
        if record.name in owners:
            raise PluginError(f"uwsgi.{record.name} is provided by both {plugins.describe(owners[record.name])} "
                              f"and {plugins.describe(record.plugin)}")
        owners[record.name] = record.plugin
        setattr(module, record.name, record.value)
    module.__getattr__ = _missing
    sys.modules["uwsgi"] = module
    return module
