"""Scripts that run inside an instance: ``python-worker-override`` and ``pyrun``.

* ``python-worker-override = script.py``: each worker runs the script instead of the WSGI loop (the
  "Overriding Workers" recipe). The script finds the listening sockets in ``uwsgi.sockets``, calls
  ``uwsgi.accepting()`` once it serves (chain reloads wait for it), and may install its own SIGINT and
  SIGHUP handlers. Without them SIGHUP/SIGTERM end it with status 17 (a reload: the master respawns
  it) and SIGINT with 30. A script that returns ends the worker with 17 too.
* ``pyrun = script.py``: once the instance is fully up (apps, workers, spoolers, mules), the script
  runs in a process of its own; when it ends, the instance stops with the script's exit status.
"""
from __future__ import annotations

import runpy
import signal

from uwkernel.process import EXIT_RELOAD
from uwkernel.types import Option, ProcessSpec

OPTIONS = [
    Option("python-worker-override", help="each worker runs this Python script instead of the WSGI loop"),
    Option("pyrun", help="run this Python script in a fully set-up instance, then stop with its exit status"),
]


def _reload(signum, frame) -> None:
    raise SystemExit(EXIT_RELOAD)


def run_override(script: str) -> int:
    """Run ``script`` as the whole life of this worker; return the worker's exit status."""
    signal.set_wakeup_fd(-1)  # the script's event loop may want the wakeup fd for itself
    signal.signal(signal.SIGHUP, _reload)
    signal.signal(signal.SIGTERM, _reload)
    runpy.run_path(script, run_name="__main__")
    return EXIT_RELOAD


def pyrun_specs(config) -> list[ProcessSpec]:
    """The ``pyrun`` process, when the option is set: it runs once and its exit ends the instance."""
    script = config["pyrun"]
    if not script:
        return []

    def target(process) -> int:
        runpy.run_path(script, run_name="__main__")
        return 0

    return [ProcessSpec("pyrun", "uWSGI pyrun", target, respawn=False)]
