"""The small frozen records that registration hooks return.

Plugins return these from the ``uwkernel_add_*`` hooks; the plugin manager
(:mod:`uwkernel.plugins`) stamps each with the name of the plugin that returned it, checks that no
two plugins claim one name, and builds the registries the kernel uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

#: Option kinds: a single string, an integer, a boolean flag, or a list that accumulates.
OPTION_KINDS = ("str", "int", "bool", "list")

#: Kinds of hardcoded phase options, in the order a phase runs them (after its ``hook-PHASE`` chain).
PHASE_HOOK_KINDS = ("mount", "umount", "exec", "call")


@dataclass(frozen=True)
class PhaseHook:
    """Marks an option as a hardcoded hook of one phase (``exec-asap``, ``mount-pre-jail``, ...).

    Each value of the option is run as ``handler`` with the value as its argument when ``phase``
    runs; ``kind`` (one of :data:`PHASE_HOOK_KINDS`) orders the hardcoded options within the phase.
    """

    kind: str
    phase: str
    handler: str


@dataclass(frozen=True)
class Option:
    """A configuration option, as ``--name value`` on the command line or ``name = value`` in a file.

    ``kind`` is one of :data:`OPTION_KINDS`: ``str`` and ``int`` keep the last value given, ``bool``
    is a flag (false only for false/off/no/0), ``list`` accumulates every value in order.
    ``short`` is a one-letter command-line form (``-p``), ``aliases`` other accepted names.
    ``plugin`` is filled in by the plugin manager with the name of the plugin that added it.
    """

    name: str
    kind: str = "str"
    default: Any = None
    help: str = ""
    short: str | None = None
    aliases: tuple[str, ...] = ()
    phase_hook: PhaseHook | None = None
    plugin: str = ""

    def __post_init__(self):
        if self.kind not in OPTION_KINDS:
            raise ValueError(f"option {self.name!r}: kind {self.kind!r} is not one of {OPTION_KINDS}")
        if self.short is not None and len(self.short) != 1:
            raise ValueError(f"option {self.name!r}: short form {self.short!r} must be one character")

    @property
    def names(self) -> tuple[str, ...]:
        """The option's name followed by its aliases."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class HookHandler:
    """A handler usable in hook chains: ``hook-PHASE = NAME:ARGS`` and the hardcoded phase options.

    ``func(args)`` receives the text after the first ':' (or after the option's ``=``) and returns
    ``None`` or ``0`` on success; a non-zero integer or an exception is a failure.
    """

    name: str
    func: Callable[[str], Any]
    help: str = ""
    aliases: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The handler's name followed by its aliases."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class UwsgiPluginName:
    """A uWSGI plugin name (``python3``, ``python311``, ``http``) that a uwkernel plugin stands in for.

    ``pattern`` is matched with :func:`fnmatch.fnmatchcase`, so ``python3*`` covers ``python311``.
    """

    pattern: str
    plugin: str = ""


@dataclass(frozen=True)
class RequestHandler:
    """Serves requests whose uwsgi packet has this ``modifier1`` (0 WSGI, 17 spool, 110 signal, 173 RPC).

    ``factory(config)`` is called once in each worker at start-up and returns the plain callable that
    serves one request; the hot path never goes through pluggy.
    """

    modifier1: int
    name: str
    factory: Callable[..., Any]
    plugin: str = ""


@dataclass(frozen=True)
class ProcessSpec:
    """A child process a plugin needs the master to run beside the workers (a spooler, a mule).

    ``target(process)`` is the process's role loop; ``procname`` is what ``ps`` shows
    (``"uWSGI spooler"``, ``"uWSGI mule 1"``). With ``respawn=False`` the process's exit ends the
    instance, with the process's exit status (``pyrun``).

    ``harakiri(running)``, when given, is called in the process with True before it runs code for
    another plugin (a signal handler) and with False after it: the plugin owning the process arms and
    clears the process's own harakiri (``spooler-harakiri``), so that code runs under it, as in uWSGI.
    """

    name: str
    procname: str
    target: Callable[..., Any]
    respawn: bool = True
    harakiri: Callable[[bool], None] | None = None
    plugin: str = ""


@dataclass(frozen=True)
class ModuleName:
    """A name a plugin adds to the ``uwsgi`` Python module (a function, a constant)."""

    name: str
    value: Any
    plugin: str = ""


@dataclass(frozen=True)
class StatsFragment:
    """A top-level section a plugin adds to the stats server's JSON (``spoolers``, ``crons``, ...)."""

    key: str
    value: Any
    plugin: str = field(default="")


@dataclass(frozen=True)
class ChannelHandler:
    """Messages of one ``kind`` between the master and its children (signals, mule messages, ...).

    ``on_master(master, child, payload)`` runs in the master when a child sends this kind;
    ``on_child(process, payload)`` runs in a child (a worker between requests, or whenever a plugin
    process's loop calls ``process.dispatch_messages()``) when the master sends it.
    ``child`` is a :class:`uwkernel.ipc.Child`.
    """

    kind: str
    on_master: Callable[..., Any] | None = None
    on_child: Callable[..., Any] | None = None
    plugin: str = ""
