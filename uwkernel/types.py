"""The small frozen records that registration hooks return.

Plugins return these from the ``uwkernel_add_*`` hooks; the plugin manager
(:mod:`uwkernel.plugins`) stamps each with the name of the plugin that returned it, checks that no
two plugins claim one name, and builds the registries the kernel uses.

Each is a frozen dataclass (``dataclasses.fields``, ``replace`` and ``is_dataclass`` work on them, an
assignment raises ``FrozenInstanceError``), made by :func:`_frozen` rather than
``@dataclass(frozen=True)``: that compiles six methods per class, a millisecond at every start-up for
each record; :func:`_frozen` compiles the ``__init__`` alone and shares the rest (:class:`_Record`).
"""
from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, dataclass, fields
from typing import Any, Callable

#: Option kinds: a single string, an integer, a boolean flag, or a list that accumulates.
OPTION_KINDS = ("str", "int", "bool", "list")

#: Kinds of hardcoded phase options, in the order a phase runs them (after its ``hook-PHASE`` chain).
PHASE_HOOK_KINDS = ("mount", "umount", "exec", "call")


class _Record:
    """What ``@dataclass(frozen=True)`` would generate for every record but ``__init__``: repr, eq, hash, frozen."""

    __slots__ = ()

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__dataclass_fields__)
        return f"{type(self).__qualname__}({args})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


def _frozen(cls: type) -> type:
    """Make ``cls`` (a :class:`_Record`) a frozen dataclass: its fields, and an ``__init__`` as dataclass's.

    The ``__init__`` sets each field in order (in the instance's ``__dict__``: ``object.__setattr__``,
    which dataclass's uses, costs ten times more) and calls ``__post_init__`` when the class has one.
    """
    cls = dataclass(cls, init=False, repr=False, eq=False)
    defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    params = ", ".join(f"{name}=_defaults[{name!r}]" if name in defaults else name
                       for name in cls.__dataclass_fields__)
    body = "".join(f"\n    __values[{name!r}] = {name}" for name in cls.__dataclass_fields__)
    if hasattr(cls, "__post_init__"):
        body += "\n    self.__post_init__()"
    namespace = {"_defaults": defaults}
    exec(f"def __init__(self, {params}):\n    __values = self.__dict__{body}", namespace)
    init = cls.__init__ = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {**{f.name: f.type for f in fields(cls)}, "return": None}
    return cls


@_frozen
class PhaseHook(_Record):
    """Marks an option as a hardcoded hook of one phase (``exec-asap``, ``mount-pre-jail``, ...).

    Each value of the option is run as ``handler`` with the value as its argument when ``phase``
    runs; ``kind`` (one of :data:`PHASE_HOOK_KINDS`) orders the hardcoded options within the phase.
    """

    kind: str
    phase: str
    handler: str


@_frozen
class Option(_Record):
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


@_frozen
class HookHandler(_Record):
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


@_frozen
class UwsgiPluginName(_Record):
    """A uWSGI plugin name (``python3``, ``python311``, ``http``) that a uwkernel plugin stands in for.

    ``pattern`` is matched with :func:`fnmatch.fnmatchcase`, so ``python3*`` covers ``python311``.
    """

    pattern: str
    plugin: str = ""


@_frozen
class RequestHandler(_Record):
    """Serves requests whose uwsgi packet has this ``modifier1`` (0 WSGI, 17 spool, 110 signal, 173 RPC).

    ``factory(config)`` is called once in each worker at start-up and returns the plain callable that
    serves one request; the hot path never goes through pluggy.
    """

    modifier1: int
    name: str
    factory: Callable[..., Any]
    plugin: str = ""


@_frozen
class ProcessSpec(_Record):
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


@_frozen
class ModuleName(_Record):
    """A name a plugin adds to the ``uwsgi`` Python module (a function, a constant)."""

    name: str
    value: Any
    plugin: str = ""


@_frozen
class StatsFragment(_Record):
    """A top-level section a plugin adds to the stats server's JSON (``spoolers``, ``crons``, ...)."""

    key: str
    value: Any
    plugin: str = ""


@_frozen
class ChannelHandler(_Record):
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
