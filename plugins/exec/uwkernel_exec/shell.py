"""Shell commands: the ``exec`` and ``safeexec`` handlers and the choice of shell (``binsh``).

A command runs as ``SHELL -c COMMAND`` and is waited for; SHELL is the first ``binsh`` value that is
an executable file when the command runs, or ``/bin/sh`` (as uWSGI does).
"""
from __future__ import annotations

import os
from typing import Iterable

from uwkernel import log

DEFAULT_SHELL = "/bin/sh"

_binsh: list[str] = []


def set_binsh(candidates: Iterable[str]) -> None:
    """Remember the ``binsh`` values, in order of preference."""
    _binsh[:] = candidates


def shell() -> str:
    """The first ``binsh`` value that is an executable file, else ``/bin/sh``."""
    for candidate in _binsh:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return DEFAULT_SHELL


def exec_command(command: str) -> int:
    """``exec:COMMAND``: run a shell command, wait for it, return its exit status.

    A non-zero status (``-N`` when killed by signal N) is the hook's failure.
    """
    import subprocess  # here: an instance running no command would import it for nothing

    return subprocess.run([shell(), "-c", command], check=False).returncode


def safeexec(command: str) -> None:
    """``safeexec:COMMAND``: run a shell command and never fail; a failure is only logged."""
    try:
        status = exec_command(command)
    except OSError as exc:
        log.log(f'command "{command}" could not be run: {exc}')
        return
    if status:
        log.log(f'command "{command}" exited with non-zero code: {status}')
