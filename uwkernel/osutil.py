"""Small OS helpers the master and plugins share: signalling a process that may be gone, a file's mtime,
the process title."""
from __future__ import annotations

import os
import sys
from typing import Callable


def kill(pid: int, signum: int) -> None:
    """Send ``signum`` to ``pid``; a process that already exited is not an error."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def mtime(path: str) -> float | None:
    """The modification time of ``path``, None when it does not exist (touch files watch both)."""
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


#: setproctitle's C function, once loaded.
_setproctitle: Callable[[str], None] | None = None


def setproctitle(title: str) -> None:
    """Set what ``ps`` shows for this process, with setproctitle's C extension (a no-op without it).

    The extension is loaded alone at the first call, without the setproctitle package, whose
    ``__init__`` imports logging (4 ms of every start-up); it is registered under its own name, where that
    package finds it if imported later.
    """
    global _setproctitle
    if _setproctitle is None:
        _setproctitle = _load_setproctitle()
    _setproctitle(title)


def _load_setproctitle() -> Callable[[str], None]:
    import importlib.machinery
    import importlib.util

    name = "setproctitle._setproctitle"
    module = sys.modules.get(name)
    if module is None:
        package = importlib.util.find_spec("setproctitle")
        spec = package and importlib.machinery.PathFinder.find_spec(name, package.submodule_search_locations)
        if spec is None:  # setproctitle is not installed
            return _no_title
        try:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except ImportError:  # an extension that cannot load here
            return _no_title
        sys.modules[name] = module
    return module.setproctitle


def _no_title(title: str) -> None:
    """What :func:`setproctitle` does without the C extension: nothing."""
