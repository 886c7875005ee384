"""Small OS helpers the master and plugins share: signalling a process that may be gone, a file's mtime."""
from __future__ import annotations

import os


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
