"""The configuration's two shapes: the :class:`Entry` list the sources give, and the resolved :class:`Config`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from ..errors import Origin

if TYPE_CHECKING:  # pragma: no cover - types only
    from ..options import OptionRegistry
    from ..types import Option


class Entry(NamedTuple):
    """One ``key = value`` as a source gave it, in configuration order.

    ``value`` is None for an option given without a value (``--master``). ``file`` and ``section``
    name the config file it was read from (None on the command line and in the environment).
    ``from_env`` marks ``UWSGI_*``/``UWKERNEL_*`` variables (an unknown one is ignored, not an error);
    ``placeholder_only`` marks ``set-placeholder`` names (usable as ``%(name)``, never an option);
    ``inherited`` marks entries of ``inherit`` files (read last, their ``%(...)`` left unexpanded).

    A named tuple, not a dataclass: the configuration's records are made at every start-up, where a
    dataclass costs a millisecond more.
    """

    key: str
    value: str | None
    origin: Origin
    file: str | None = None
    section: str | None = None
    from_env: bool = False
    placeholder_only: bool = False
    inherited: bool = False


class Config:
    """The resolved configuration: typed option values with their origins, placeholders, ``uwsgi.opt``.

    Options are looked up by name or alias. An ``int`` option's value is an int, a ``bool`` a bool,
    a ``list`` option's a list of str (``[]`` when unset), a ``str`` option's a str (``""`` when given
    without a value); an unset single-value option gives the option's default. A key that is not a
    uwkernel option (a uWSGI option uwkernel does not implement, a placeholder) gives its last value
    as written, expanded.
    """

    def __init__(
        self,
        registry: OptionRegistry,
        option: Callable[[str], Option | None],
        typed: dict[str, list[tuple[Any, Origin]]],
        raw: dict[str, list[tuple[str | None, Origin]]],
        exported: list[tuple[str, str | None]],
        shown: list[tuple[str, str | None]],
        placeholders: dict[str, str],
        unimplemented: list[tuple[str, Origin]],
    ):
        self.registry = registry
        self._option = option
        self._typed = typed
        self._raw = raw
        self._exported = exported
        self._shown = shown
        #: Names usable as ``%(name)`` that are not options, with their (first, expanded) value.
        self.placeholders = placeholders
        #: Real uWSGI options that no loaded plugin implements, where each was given.
        self.unimplemented = unimplemented

    def _given(self, name: str) -> list[tuple[Any, Origin]]:
        option = self._option(name)
        return self._typed.get(option.name, []) if option else self._raw.get(name, [])

    def __getitem__(self, name: str) -> Any:
        option = self._option(name)
        if option is None:
            if name not in self._raw:
                raise KeyError(name)
            return self._raw[name][-1][0]
        given = self._typed.get(option.name)
        if option.kind == "list":
            return [value for value, _ in given or ()]
        if given:
            return given[-1][0]
        return bool(option.default) if option.kind == "bool" else option.default

    def get(self, name: str, default: Any = None) -> Any:
        """``config[name]`` when the option was given; else ``default``, or when that is None the option's default."""
        if self.is_set(name):
            return self[name]
        if default is not None or (self._option(name) is None and name not in self._raw):
            return default
        return self[name]

    def is_set(self, name: str) -> bool:
        """Whether the option (or placeholder, or uWSGI option) was given at all."""
        return bool(self._given(name))

    __contains__ = is_set

    def values(self, name: str) -> list[tuple[Any, Origin]]:
        """Every value given for ``name``, typed, with its origin, in configuration order."""
        return list(self._given(name))

    def origin(self, name: str) -> Origin | None:
        """Where the effective (last) value of ``name`` came from, or None when it was not given."""
        given = self._given(name)
        return given[-1][1] if given else None

    def as_uwsgi_opt(self) -> dict[str, Any]:
        """What ``uwsgi.opt`` holds: every key as given, bytes values, a list when repeated, True for a bare flag."""
        opt: dict[str, Any] = {}
        for key, value in self._exported:
            item = True if value is None else value.encode("utf-8", "surrogateescape")
            if key not in opt:
                opt[key] = item
            elif isinstance(opt[key], list):
                opt[key].append(item)
            else:
                opt[key] = [opt[key], item]
        return opt

    def to_ini(self) -> str:
        """The resolved configuration as an ``[uwsgi]`` ini (``--show-config``), readable back."""
        lines = [f"{key} = {'true' if value is None else value}" for key, value in self._shown]
        return "\n;uWSGI instance configuration\n[uwsgi]\n" + "".join(f"{line}\n" for line in lines) + ";end of configuration\n"
