"""Errors the kernel reports to users as one line, never as a traceback."""
from __future__ import annotations

from collections import namedtuple


class Origin(namedtuple("Origin", ("source", "line"), defaults=(None,))):
    """Where a configuration value came from: a file and line, the command line, or the environment.

    ``source`` is a file path, "command line" or "environment"; ``line`` the 1-based line in ``source``
    when it is a file (None otherwise). A named tuple, not a dataclass: it is made at every start-up,
    where a dataclass costs a millisecond more; and ``collections.namedtuple``, not ``typing.NamedTuple``:
    ``uwkernel.cli`` imports this module before typing, which it imports with the garbage collector off.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return f"{self.source}:{self.line}" if self.line is not None else self.source


class UwkernelError(Exception):
    """Base of the errors that end start-up with a one-line message and a non-zero status."""

    exit_status = 1


class ConfigError(UwkernelError):
    """A configuration error, naming where it came from and which option."""

    def __init__(self, message: str, origin: Origin | None = None, option: str | None = None):
        self.message = message
        self.origin = origin
        self.option = option
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.origin}: " if self.origin else ""
        opt = f"option '{self.option}': " if self.option else ""
        return f"config error: {where}{opt}{self.message}"


class PluginError(UwkernelError):
    """A plugin problem that prevents start-up (a name claimed twice, an unknown uWSGI plugin)."""


class HookFailed(UwkernelError):
    """A hook in a fatal phase failed; the instance stops with status 1."""
