"""What the current process is: the instance it belongs to and its role (master, worker, plugin process).

Set once per process by the master, the workers and plugin processes; read by the code that answers
questions such as ``uwsgi.worker_id()`` or ``uwsgi.masterpid()``.
"""
from __future__ import annotations

from typing import Any

#: The :class:`uwkernel.master.Instance` of this process (None outside uwkernel).
instance: Any = None
#: The pid of the master (0 without a master).
master_pid: int = 0
#: The shared-memory :class:`uwkernel.scoreboard.Scoreboard` of the workers (None before serving).
scoreboard: Any = None
#: The current child: a :class:`uwkernel.process.Worker` or :class:`uwkernel.process.PluginProcess`,
#: or None in the master.
process: Any = None


def worker_id() -> int:
    """The id of the current worker (1-based), 0 when this process is not a worker."""
    return getattr(process, "id", 0) if getattr(process, "is_worker", False) else 0
