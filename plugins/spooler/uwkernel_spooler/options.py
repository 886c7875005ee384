"""The spooler's options, and :class:`Settings`, what the rest of the plugin reads from them."""
from __future__ import annotations

import os
from typing import NamedTuple

from uwkernel.errors import ConfigError
from uwkernel.types import Option

#: Seconds between two scans of an idle spooler, as uWSGI's default.
DEFAULT_FREQUENCY = 30

OPTIONS: list[Option] = [
    Option("spooler", kind="list", short="Q",
           help="run a spooler on DIR (created 0750 when missing); repeatable; the instance gets a master"),
    Option("spooler-external", kind="list",
           help="spool tasks to DIR, run by another instance's spooler (no spooler process here)"),
    Option("spooler-processes", kind="int", default=1, help="spooler processes per spool dir"),
    Option("spooler-ordered", kind="bool",
           help="run tasks in the order they were written (version-sorted names), priorities first"),
    Option("spooler-frequency", kind="int", default=DEFAULT_FREQUENCY, aliases=("spooler-freq",),
           help="seconds an idle spooler waits before scanning again (a new task wakes it at once)"),
    Option("spooler-chdir",
           help="chdir to DIR before each task (by default a task runs in its spool dir or priority subdirectory)"),
    Option("spooler-quiet", kind="bool", help="do not log each task the spoolers write and run"),
    Option("spooler-max-tasks", kind="int", default=0,
           help="recycle a spooler process after it ran N tasks"),
    Option("spooler-harakiri", kind="int", default=0, help="kill a spooler whose task runs over N seconds"),
    Option("spooler-import", kind="list",
           aliases=("spooler-python-import", "spooler-py-import", "spooler-pyimport"),
           help="import a Python module (or a .py file) in each spooler process (for lazy-apps)"),
    Option("touch-spoolers-reload", kind="list", help="gracefully reload the spoolers when FILE is touched"),
]


class Settings(NamedTuple):
    """The spooler configuration: spool dirs as real paths, and the options' values.

    A named tuple, not a dataclass: this module is imported at every start-up, where a frozen dataclass
    costs a millisecond more.
    """

    dirs: tuple[str, ...]
    external: tuple[str, ...]
    processes: int
    ordered: bool
    frequency: int
    chdir: str | None
    quiet: bool
    max_tasks: int
    harakiri: int
    imports: tuple[str, ...]
    touch: tuple[str, ...]

    @property
    def all_dirs(self) -> tuple[str, ...]:
        """Every dir tasks can be spooled to: the spoolers' own, then the external ones."""
        return self.dirs + tuple(d for d in self.external if d not in self.dirs)

    @property
    def slots(self) -> int:
        """How many spooler processes run."""
        return len(self.dirs) * self.processes

    @classmethod
    def from_config(cls, config) -> Settings:
        """Check the options and resolve the spool dirs, creating missing ones (0750)."""
        for name, least in (("spooler-processes", 1), ("spooler-frequency", 1), ("spooler-max-tasks", 0),
                            ("spooler-harakiri", 0)):
            if config[name] < least:
                raise ConfigError(f"must be at least {least}, not {config[name]}", config.origin(name), name)
        dirs = _unique(spool_dir(path, config, "spooler") for path in config["spooler"])
        external = _unique(spool_dir(path, config, "spooler-external") for path in config["spooler-external"])
        return cls(dirs=dirs, external=external, processes=config["spooler-processes"],
                   ordered=config["spooler-ordered"], frequency=config["spooler-frequency"],
                   chdir=config["spooler-chdir"] or None, quiet=config["spooler-quiet"],
                   max_tasks=config["spooler-max-tasks"], harakiri=config["spooler-harakiri"],
                   imports=tuple(config["spooler-import"]), touch=tuple(config["touch-spoolers-reload"]))


def spool_dir(path: str, config=None, option: str = "spooler") -> str:
    """The real path of spool dir ``path``, created (mode 0750, parents too) when missing."""
    if not path:
        raise ConfigError("a spool dir is needed", config.origin(option) if config else None, option)
    try:
        if not os.path.isdir(path):
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o750)
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            raise PermissionError(f"no read, write and search permission on {path}")
    except OSError as exc:
        raise ConfigError(f"spool dir {path}: {exc.strerror or exc}", config.origin(option) if config else None,
                          option) from None
    return os.path.realpath(path)


def _unique(paths) -> tuple[str, ...]:
    return tuple(dict.fromkeys(paths))
