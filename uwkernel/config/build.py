"""From the entries to the :class:`~uwkernel.config.model.Config`: placeholders, custom options, types, checks.

1. ``%(name)`` placeholders are expanded in every value (see :mod:`~uwkernel.config.expand`).
2. Each use of a ``declare-option`` name stands for the options of its declaration.
3. Each key is then one of: a uwkernel option (its value typed: an int option needs an integer, a
   bool is false only for false/off/no/0); a real uWSGI option no plugin implements (accepted, listed
   in ``Config.unimplemented``); a placeholder (``set-placeholder``, or a key used as ``%(key)``);
   an environment variable naming nothing (ignored). Anything else is an unknown option, a
   :class:`~uwkernel.errors.ConfigError` naming its file, line and the closest known name; with
   ``strict``, a key used as a placeholder is no exception. ``check_unknown=False`` reports no
   unknown key (the first reading, before the plugins a config names are loaded).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, Origin
from .directives import BLOCK_ENDS, FILE_OPTIONS, FOR_BLOCKS, IF_BLOCKS
from .expand import PlaceholderResolver
from .model import Config, Entry
from .names import OptionNames
from .values import parse_bool, parse_int

if TYPE_CHECKING:  # pragma: no cover - types only
    from ..options import OptionRegistry
    from ..types import Option
    from .custom import Template

#: How deeply custom options may stand for other custom options.
MAX_CUSTOM_DEPTH = 16
#: Directives already acted upon while reading: not repeated by ``Config.to_ini``.
_READ_ONLY = frozenset({*FILE_OPTIONS, *FOR_BLOCKS, *IF_BLOCKS, *BLOCK_ENDS, "set", "set-placeholder", "declare-option"})


def build_config(entries: list[Entry], registry: OptionRegistry, *, check_unknown: bool = True) -> Config:
    """The resolved configuration of ``entries`` (from :func:`~uwkernel.config.read_sources`)."""

    names = OptionNames(registry)
    name_of = names.canonical
    resolver = PlaceholderResolver(entries, name_of)
    resolved = [(entry, resolver.value(index)) for index, entry in enumerate(entries)]
    templates: dict[str, Template] = {}
    for entry, value in resolved:
        if name_of(entry.key) == "declare-option":
            from .custom import parse_declaration  # here: few configurations declare options

            try:
                name, template = parse_declaration(value or "")
            except ValueError as exc:
                raise ConfigError(str(exc), entry.origin, entry.key) from None
            templates[name] = template
    strict = any(name_of(entry.key) == "strict" and parse_bool(value) for entry, value in resolved)

    applied: list[tuple[Entry, str | None]] = []
    for entry, value in resolved:
        applied.extend(_stand_for(entry, value, templates, names, 0))

    typed: dict[str, list[tuple[Any, Origin]]] = {}
    raw: dict[str, list[tuple[str | None, Origin]]] = {}
    shown: list[tuple[str, str | None]] = []
    placeholders: dict[str, str] = {}
    unimplemented = []
    for entry, value in applied:
        found = names.option(entry.key)
        if found is not None and not entry.placeholder_only:
            typed.setdefault(found.name, []).append((_typed(found, entry, value), entry.origin))
            if found.name not in _READ_ONLY:
                shown.append((entry.key, value))
            continue
        raw.setdefault(entry.key, []).append((value, entry.origin))
        if names.is_uwsgi_option(entry.key) and not entry.placeholder_only:
            unimplemented.append((entry.key, entry.origin))
            shown.append((entry.key, value))
            continue
        if (check_unknown and not entry.from_env and not entry.placeholder_only
                and (strict or entry.key not in resolver.referenced)):
            raise ConfigError(_unknown(entry.key, names, strict), entry.origin, entry.key)
        if entry.key not in placeholders:
            placeholders[entry.key] = "" if value is None else value
            shown.append(("set-placeholder", f"{entry.key}={placeholders[entry.key]}"))
    exported = [(entry.key, value) for entry, value in resolved]
    return Config(registry, names.option, typed, raw, exported, shown, placeholders, unimplemented)


def _stand_for(entry: Entry, value: str | None, templates: dict[str, Template], names: OptionNames,
               depth: int) -> list[tuple[Entry, str | None]]:
    """``[(entry, value)]``, or for a custom option the entries its declaration stands for."""
    if entry.key not in templates or names.option(entry.key) or names.is_uwsgi_option(entry.key):
        return [(entry, value)]
    if depth >= MAX_CUSTOM_DEPTH:
        raise ConfigError(f"custom options stand for one another more than {MAX_CUSTOM_DEPTH} deep", entry.origin, entry.key)
    from .custom import apply_template

    return [pair for key, filled in apply_template(templates[entry.key], value)
            for pair in _stand_for(entry._replace(key=key, value=filled), filled, templates, names, depth + 1)]


def _typed(option: Option, entry: Entry, value: str | None) -> Any:
    if option.kind == "bool":
        return parse_bool(value)
    if option.kind == "int":
        number = parse_int(value)
        if number is None:
            raise ConfigError(f"'{'' if value is None else value}' is not an integer", entry.origin, entry.key)
        return number
    return "" if value is None else value


def _unknown(key: str, names: OptionNames, strict: bool) -> str:
    suggestion = names.closest(key)
    hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
    why = " (strict mode: placeholders must be set with set-placeholder)" if strict else ""
    return f"unknown option '{key}'{hint}{why}"
