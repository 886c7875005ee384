"""uwkernel plugin ``mules``: uWSGI's mules and farms.

* Options: ``mules = N``, ``mule = script.py`` (repeatable), ``farm = NAME:1,2``, ``mule-msg-size``
  (65536: the longest message and each queue's buffer), ``mule-harakiri`` (seconds a mule may spend on
  one message), ``touch-mules-reload`` (touching the file reloads the mules).
* Each mule is a process of the master (ProcessSpec ``muleN``, procname ``uWSGI mule N``), respawned
  when it dies and reloaded with the instance (:mod:`.api`).
* ``uwsgi`` names: mule_id, mule_msg, mule_get_msg, farm_msg, farm_get_msg, in_farm — mule_id always
  (0 outside mules). Queues: :mod:`.layout`.
* For other plugins (signal targets): :func:`mule_ids` and :func:`farms`; the master's
  :class:`uwkernel.ipc.Child` of mule N has the role ``muleN``.
"""
from __future__ import annotations

import functools
import signal
import time

from uwkernel import hookimpl, log, osutil
from uwkernel.types import ModuleName, Option, ProcessSpec

from . import api
from .layout import DEFAULT_MSG_SIZE, read_layout

OPTIONS = [
    Option("mules", kind="list", help="add N plain mules (repeatable: the counts add up)"),
    Option("mule", kind="list", help="add a mule running this Python script"),
    Option("farm", kind="list", help="a farm of mules: NAME:1,2"),
    Option("mule-msg-size", kind="int", default=DEFAULT_MSG_SIZE,
           help="longest mule message, and the buffer of each mule queue, in bytes"),
    Option("mule-harakiri", kind="int", default=0,
           help="kill a mule spending more than this many seconds on a message"),
    Option("touch-mules-reload", kind="list", help="reload the mules when this file is touched"),
]

#: mtime of every ``touch-mules-reload`` file (in the master).
_touched: dict[str, float | None] = {}


def mule_ids() -> list[int]:
    """The numbers of this instance's mules (1-based)."""
    return [mule.id for mule in api.LAYOUT.mules]


def farms() -> list[tuple[str, list[int]]]:
    """This instance's farms in configuration order: ``[(name, [mule numbers])]``."""
    return [(name, list(members)) for name, members in api.LAYOUT.farms.items()]


@hookimpl
def uwkernel_add_options() -> list[Option]:
    """mules, mule, farm, mule-msg-size, mule-harakiri, touch-mules-reload."""
    return OPTIONS


@hookimpl
def uwkernel_configure(config) -> None:
    """Read the mules and farms, and make their queues before anything forks."""
    api.LAYOUT = read_layout(config)
    api.LAYOUT.open()
    _touched.clear()
    _touched.update({path: osutil.mtime(path) for path in config["touch-mules-reload"]})
    for index, (name, members) in enumerate(farms(), 1):
        log.log(f"created farm {index} name: {name} mules:{','.join(map(str, members))}")


@hookimpl
def uwkernel_add_processes(config) -> list[ProcessSpec]:
    """One ``muleN`` process per mule."""
    return [ProcessSpec(mule.name, mule.procname, api.run_mule(mule), harakiri=functools.partial(api.signal_harakiri, mule.id))
            for mule in api.LAYOUT.mules]


@hookimpl
def uwkernel_add_module_names(config) -> list[ModuleName]:
    """mule_id, mule_msg, mule_get_msg, farm_msg, farm_get_msg, in_farm."""
    return [ModuleName(name, getattr(api, name)) for name in
            ("mule_id", "mule_msg", "mule_get_msg", "farm_msg", "farm_get_msg", "in_farm")]


@hookimpl(tryfirst=True)
def uwkernel_post_fork(process) -> None:
    """In a new mule, before ``@postfork`` code (``@mule``, ``@muleloop``...) runs: set its number."""
    spec = getattr(process, "spec", None)
    for mule in api.LAYOUT.mules:
        if spec is not None and spec.name == mule.name:
            api.become_mule(mule)


@hookimpl
def uwkernel_master_tick(master) -> None:
    """Each second in the master: ``mule-harakiri`` deadlines and ``touch-mules-reload`` files."""
    mules = {child.role: child for child in master.children.values()}
    now = time.time()
    for mule in api.LAYOUT.mules:
        child = mules.get(mule.name)
        deadline = api.LAYOUT.deadline(mule.id)
        if child is not None and deadline and now > deadline:
            log.log(f"*** HARAKIRI ON MULE {mule.id} HANDLING SIGNAL/MESSAGE (pid: {child.pid}) ***")
            api.LAYOUT.set_deadline(mule.id, 0)
            osutil.kill(child.pid, signal.SIGKILL)
    for path, before in _touched.items():
        now_mtime = osutil.mtime(path)
        if now_mtime != before:
            _touched[path] = now_mtime
            log.log(f"*** {path} has been touched... reloading mules ***")
            for mule in api.LAYOUT.mules:
                if mule.name in mules:
                    osutil.kill(mules[mule.name].pid, signal.SIGHUP)
