"""Reading every source into the list of entries, as uWSGI builds its option list.

Sources, in order: the environment, the command line, then ``inherit`` files. A config file loads
where its option appears, so what follows it overrides it. While reading, magic variables are
replaced in files, ``%(_)`` in blocks, ``$(ENV)`` and ``@(file)`` everywhere (but in ``inherit``
files); blocks are evaluated (their arguments, and config file paths, with the placeholders known so
far); ``set``/``set-placeholder`` add their entry and ``declare-option`` declares its name.
``%(name)`` placeholders are expanded later, by :func:`~uwkernel.config.build.build_config`.

What only files, blocks and ``declare-option`` need (:mod:`.magic`, :mod:`.blocks`, :mod:`.custom`,
:mod:`.ini`, :mod:`.formats`) is imported when one comes: a command line alone does without.
"""
from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence

from ..errors import ConfigError, Origin
from .argv import argv_entries, environment_entries
from .directives import BLOCK_ENDS, DIRECTIVES, FILE_OPTIONS, FOR_BLOCKS, IF_BLOCKS, UNSUPPORTED
from .expand import PlaceholderResolver, expand_environment_and_files
from .model import Entry
from .names import OptionNames

if TYPE_CHECKING:  # pragma: no cover - types only
    from ..options import OptionRegistry
    from . import magic
    from .blocks import BlockContext

DEFAULT_SECTION = "uwsgi"
#: How deeply config files may include one another.
MAX_INCLUDE_DEPTH = 32


def read_sources(argv: Sequence[str], environ: Mapping[str, str], registry: OptionRegistry, *,
                 is_reload: bool = False) -> list[Entry]:
    """Every entry of the environment, the command line and the config files they load, in order.

    ``registry`` tells which command-line options take a value (with uWSGI's option table for the
    options no plugin implements); ``is_reload`` is what ``if-reload`` tests. Raises
    :class:`~uwkernel.errors.ConfigError` naming the source, line and option of any problem.
    """
    reader = _Reader(environ, registry, is_reload)
    reader.run(iter(environment_entries(environ)))
    reader.run(argv_entries(list(argv), reader.argument_of, reader.names.long_name, reader.names.closest))
    reader.read_inherited()
    return reader.entries


def _directive(key: str) -> str | None:
    option = DIRECTIVES.get(key)
    return option.name if option else None


class _Reader:
    """The state of one reading: the entries so far, custom option names, files being loaded."""

    def __init__(self, environ: Mapping[str, str], registry: OptionRegistry, is_reload: bool):
        self.environ = environ
        self.is_reload = is_reload
        self.names = OptionNames(registry)
        self.entries: list[Entry] = []
        self.custom_options: set[str] = set()
        self.inherits: list[Entry] = []
        self.first_file: magic.FileContext | None = None
        self.last_ini: str | None = None
        self.loading: list[tuple[str, str]] = []

    @functools.cached_property
    def globals(self) -> dict[str, str]:
        """The magic variables every file shares (``%h``, ``%v``...), computed when a file or block first needs them."""
        from . import magic

        return magic.global_variables()

    @functools.cached_property
    def blocks(self) -> BlockContext:
        """What ``if-*`` blocks test, made with the first of them."""
        from .blocks import BlockContext

        return BlockContext(self.environ, self.is_reload, self.globals["h"], self._first_value)

    def argument_of(self, name: str) -> str | None:
        """Whether ``--name`` takes a value (see :meth:`OptionNames.argument_of`); a custom option takes one."""
        if name in self.custom_options and self.names.argument_of(name) is None:
            return "required"
        return self.names.argument_of(name)

    def _first_value(self, name: str) -> str | None:
        canonical = self.names.canonical(name)
        for entry in self.entries:
            if entry.key == name or (canonical and self.names.canonical(entry.key) == canonical):
                return "true" if entry.value is None else entry.value
        return None

    # --- the stream of entries ------------------------------------------------------------------

    def run(self, items: Iterator[Entry], item: str | None = None) -> None:
        """Take in ``items`` in order, with ``item`` the value of ``%(_)`` (inside a block)."""
        for entry in items:
            kind = _directive(entry.key)
            if kind in FOR_BLOCKS or kind in IF_BLOCKS:
                body, end = self._collect(entry, kind, items)
                self._block(entry, kind, body, end, item)
            elif kind in BLOCK_ENDS:
                raise ConfigError(f"'{entry.key}' ends no block", entry.origin, entry.key)
            else:
                self._take(self._expanded(entry, item))

    def _expanded(self, entry: Entry, item: str | None) -> Entry:
        """``entry`` with ``%(_)`` (the block's ``item``), then ``$(ENV)`` and ``@(file)`` replaced."""
        value = entry.value
        if value is None:
            return entry
        if item is not None:
            value = value.replace("%(_)", item)
        if not entry.inherited:
            value = expand_environment_and_files(value, self.environ, entry.origin, entry.key)
        return entry._replace(value=value)

    def _now(self, entry: Entry) -> str:
        """The value of ``entry`` with the placeholders known so far (a block's argument, a file's path).

        The entry itself keeps its ``%(...)``, expanded again with the whole configuration later.
        """
        if entry.inherited:
            return entry.value or ""
        return PlaceholderResolver(self.entries, self.names.canonical).expand(entry.value or "", entry.origin, entry.key)

    def _take(self, entry: Entry) -> None:
        """Add one (expanded) entry, and do what a directive does: load a file, set, declare."""
        if entry.key in UNSUPPORTED:
            raise ConfigError(UNSUPPORTED[entry.key], entry.origin, entry.key)
        self.entries.append(entry)
        kind = _directive(entry.key)
        if kind == "inherit":
            self.inherits.append(entry)
        elif kind in FILE_OPTIONS:
            self._load(entry, self._now(entry), FILE_OPTIONS[kind], entry.inherited)
        elif kind in ("set", "set-placeholder"):
            name, has_value, value = (entry.value or "").partition("=")
            if not has_value or not name:
                raise ConfigError(f"'{entry.value}' is not NAME=VALUE", entry.origin, entry.key)
            if kind == "set":
                self._take(entry._replace(key=name, value=value))
            elif self.names.option(name) or self.names.is_uwsgi_option(name):
                raise ConfigError(f"'{name}' is an option, it cannot be a placeholder (use 'set')", entry.origin, entry.key)
            else:
                self.entries.append(entry._replace(key=name, value=value, placeholder_only=True))
        elif kind == "declare-option":
            from .custom import parse_declaration

            try:
                name, _ = parse_declaration(entry.value or "")
            except ValueError as exc:
                raise ConfigError(str(exc), entry.origin, entry.key) from None
            self.custom_options.add(name)

    # --- blocks ---------------------------------------------------------------------------------

    def _collect(self, opener: Entry, kind: str, items: Iterator[Entry]) -> tuple[list[Entry], Entry]:
        """The body of the block ``opener`` starts (inner blocks included) and the entry ending it."""
        body: list[Entry] = []
        depth = 0
        for entry in items:
            inner = _directive(entry.key)
            if inner in FOR_BLOCKS or inner in IF_BLOCKS:
                depth += 1
            elif inner in BLOCK_ENDS:
                if not depth:
                    if kind not in BLOCK_ENDS[inner]:
                        raise ConfigError(f"'{entry.key}' cannot end the '{opener.key}' block opened at {opener.origin}",
                                          entry.origin, entry.key)
                    return body, entry
                depth -= 1
            body.append(entry)
        end = "endfor" if kind in FOR_BLOCKS else "endif"
        raise ConfigError(f"the '{opener.key}' block is never closed (end it with '{end}')", opener.origin, opener.key)

    def _block(self, opener: Entry, kind: str, body: list[Entry], end: Entry, item: str | None) -> None:
        """Read ``body`` once per loop item, or once if the condition holds, or not at all."""
        from .blocks import condition, loop_items

        opener = self._expanded(opener, item)
        argument = self._now(opener)
        self.entries.append(opener)
        if kind in FOR_BLOCKS:
            for loop_item in loop_items(kind, argument, opener.origin):
                self.run(iter(body), loop_item)
        else:
            holds, inner_item = condition(kind, argument, self.blocks, opener.origin)
            if holds:
                self.run(iter(body), item if inner_item is None else inner_item)
        self.entries.append(end)

    # --- config files ---------------------------------------------------------------------------

    def _load(self, entry: Entry, spec: str, fmt: str | None, inherited: bool) -> None:
        """Read the config file ``spec`` (``FILE``, ``FILE:SECTION``, ``:SECTION``) that ``entry`` names.

        ``fmt`` None means by extension; ``inherited`` marks the file's entries (``inherit``).
        """
        from . import magic
        from .formats import FormatError, format_of, parse_structured
        from .ini import parse_ini

        path, section = spec, DEFAULT_SECTION
        if ":" in path:
            path, _, asked = path.rpartition(":")
            section = asked or DEFAULT_SECTION
            if not path and (fmt or "ini") == "ini":
                path = self.last_ini or ""
        fmt = fmt or format_of(path)
        if fmt is None:
            raise ConfigError(f"cannot tell the format of '{path}' (expected .ini, .json, .yaml, .yml or .toml)",
                              entry.origin, entry.key)
        identity = (os.path.realpath(path), section)
        if identity in self.loading:
            raise ConfigError(f"'{path}' includes itself", entry.origin, entry.key)
        if len(self.loading) >= MAX_INCLUDE_DEPTH:
            raise ConfigError(f"config files include one another more than {MAX_INCLUDE_DEPTH} deep", entry.origin, entry.key)
        try:
            with open(path, encoding="utf-8-sig", errors="surrogateescape") as handle:
                text = handle.read()
        except OSError as exc:
            raise ConfigError(f"cannot read '{path}': {exc.strerror}", entry.origin, entry.key) from None
        context = magic.FileContext(path, section)
        self.first_file = self.first_file or context
        table = magic.table_for(context, self.first_file, self.globals)
        if fmt == "ini":
            items, found = parse_ini("\n".join(magic.substitute(line, table) for line in text.split("\n")), section)
            if not found:
                raise ConfigError(f"'{path}' has no [{section}] section", entry.origin, entry.key)
            self.last_ini = path
        else:
            try:
                parsed = parse_structured(fmt, text, section)
            except FormatError as exc:
                raise ConfigError(f"'{path}': {exc}", Origin(path, exc.line), entry.key) from None
            items = [(line, magic.substitute(key, table), value if value is None else magic.substitute(value, table))
                     for line, key, value in parsed]
        self.loading.append(identity)
        try:
            self.run(iter([Entry(key, value, Origin(path, line), path, section, inherited=inherited)
                           for line, key, value in items]))
        finally:
            self.loading.pop()

    def read_inherited(self) -> None:
        """Load the ``inherit`` files, last, their own path expanded with the whole configuration."""
        while self.inherits:
            entry = self.inherits.pop(0)
            self._load(entry, self._now(entry), None, True)
