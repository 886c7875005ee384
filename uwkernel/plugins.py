"""The plugin manager: finds plugins through the ``uwkernel.plugins`` entry points and builds registries.

* One scan of the entry points per process (cached), reading the ``entry_points.txt`` files on
  ``sys.path`` directly (:func:`scan_entry_points`). A plugin that fails to import is reported in one
  line naming its entry point and distribution; start-up goes on without it.
* ``--no-plugin NAME`` / ``UWKERNEL_DISABLE_PLUGINS=a,b`` block plugins by entry-point name.
* ``plugin``/``plugins`` lines of uWSGI files are resolved by :meth:`PluginManager.use_uwsgi_plugin`:
  a uWSGI plugin name maps to the uwkernel plugin standing in for it, a dotted module path is loaded as
  a plugin, anything else is an error naming it.
* Registration hooks are called one plugin at a time, so a plugin that raises is named, and every record
  is stamped with the plugin that returned it; two plugins claiming one name is an error naming both.
"""
from __future__ import annotations

import functools
import importlib
import os
import re
import sys
import types
from dataclasses import is_dataclass
from importlib.machinery import PathFinder
from typing import Any, Iterable, Iterator, NamedTuple

import pluggy

from . import ENTRY_POINT_GROUP, PROJECT_NAME, __version__, hookspecs, log
from . import builtin
from .errors import PluginError
from .options import OptionRegistry
from .types import HookHandler, UwsgiPluginName

KERNEL = "kernel"
DISABLE_ENV = "UWKERNEL_DISABLE_PLUGINS"
#: The attribute ``hookimpl`` sets on the functions it marks.
_IMPL_MARKER = f"{PROJECT_NAME}_impl"


class PluginInfo(NamedTuple):
    """A registered plugin: its name, the distribution that provides it, and the module.

    This record and the two below are named tuples, not dataclasses: they are made at every start-up,
    where each dataclass would cost a millisecond more.
    """

    name: str
    module: Any
    distribution: str | None = None
    version: str | None = None
    entry_point: str | None = None

    def describe(self) -> str:
        """``plugin 'exec' (uwkernel-exec 0.1.0)``: how messages name this plugin."""
        dist = f" ({self.distribution} {self.version})" if self.distribution else ""
        return f"plugin '{self.name}'{dist}"


class PluginFailure(NamedTuple):
    """An entry point that could not be loaded, and why."""

    name: str
    entry_point: str
    distribution: str | None
    error: str

    def describe(self) -> str:
        """One line naming the plugin, its entry point and distribution, and the error."""
        dist = f" from {self.distribution}" if self.distribution else ""
        return f"plugin '{self.name}' ({self.entry_point}{dist}) failed to load: {self.error}"


class EntryPoint(NamedTuple):
    """One ``name = module[:attr]`` line of the ``uwkernel.plugins`` group, and the distribution declaring it."""

    name: str
    value: str
    distribution: str | None = None
    version: str | None = None

    def load(self) -> Any:
        """Import the module the entry point names; the attribute after ``:``, when there is one."""
        module, _, attr = self.value.split("[", 1)[0].partition(":")
        loaded = importlib.import_module(module.strip())
        for name in filter(None, attr.strip().split(".")):
            loaded = getattr(loaded, name)
        return loaded


@functools.cache
def scan_entry_points() -> tuple[EntryPoint, ...]:
    """Every entry point of the ``uwkernel.plugins`` group, scanned once per process.

    The same entry points, in the same order, as ``importlib.metadata.entry_points(group=...)``: the
    distributions of each ``sys.path`` directory in listing order, the first of a name winning. Only the
    distributions' ``entry_points.txt`` (and the name and version of those declaring a plugin) are read:
    importing :mod:`importlib.metadata` alone costs 30 ms, an eighth of uwkernel's start-up then. Where
    importlib.metadata would look further (a zip file on ``sys.path``, a meta path finder with
    distributions of its own), it is asked instead.
    """
    if not any(getattr(finder, "find_distributions", None) is not None and finder is not PathFinder
               for finder in sys.meta_path):
        try:
            return tuple(ep for info_dir in _distribution_dirs() for ep in _read_entry_points(info_dir))
        except NotADirectoryError:  # a zip file on sys.path
            pass
    from importlib import metadata

    return tuple(EntryPoint(ep.name, ep.value, *((ep.dist.name, ep.dist.version) if ep.dist else ()))
                 for ep in metadata.entry_points(group=ENTRY_POINT_GROUP))


def _distribution_dirs() -> Iterator[str]:
    """The metadata directory (``*.dist-info``, ``*.egg-info``) of each distribution on ``sys.path``.

    Raises NotADirectoryError for a ``sys.path`` entry that is a file (a zip: importlib.metadata's job).
    """
    seen: set[str] = set()
    for root in sys.path:
        try:
            children = os.listdir(root or ".")
        except NotADirectoryError:  # a zip file: left to importlib.metadata
            raise
        except OSError:  # missing or unreadable: importlib.metadata skips it too
            continue
        infos: dict[str, str] = {}  # normalized distribution name -> its first metadata directory here
        eggs: list[str] = []
        root_is_egg = os.path.basename(root).lower().endswith(".egg")
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):
                name = re.sub(r"[-_.]+", "_", low.rpartition(".")[0].partition("-")[0])
                infos.setdefault(name, os.path.join(root, child))
            elif root_is_egg and low == "egg-info":
                eggs.append(os.path.join(root, child))
        for name, path in infos.items():
            if name not in seen:
                seen.add(name)
                yield path
        for path in eggs:
            name = re.sub(r"[-_.]+", "_", (_metadata_fields(path)[0] or "").lower())
            if name not in seen:
                seen.add(name)
                yield path


def _read_entry_points(info_dir: str) -> list[EntryPoint]:
    """The ``uwkernel.plugins`` entry points that ``info_dir/entry_points.txt`` declares."""
    try:
        with open(os.path.join(info_dir, "entry_points.txt"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return []
    if f"[{ENTRY_POINT_GROUP}]" not in text:
        return []
    found: list[tuple[str, str]] = []
    section = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
        elif section == ENTRY_POINT_GROUP and "=" in line:
            name, _, value = line.partition("=")
            found.append((name.strip(), value.strip()))
    if not found:
        return []
    dist_name, dist_version = _metadata_fields(info_dir)
    return [EntryPoint(name, value, dist_name, dist_version) for name, value in found]


def _metadata_fields(info_dir: str) -> tuple[str | None, str | None]:
    """``Name`` and ``Version`` of the distribution whose metadata is in ``info_dir``."""
    fields: dict[str, str] = {}
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(info_dir, filename), encoding="utf-8") as f:
                for line in f:
                    if not line.strip():
                        break
                    key, sep, value = line.partition(":")
                    if sep and key in ("Name", "Version"):
                        fields.setdefault(key, value.strip())
            break
        except OSError:
            continue
    return fields.get("Name"), fields.get("Version")


def blocked_from(argv: Iterable[str], environ: dict[str, str] | os._Environ) -> set[str]:
    """Plugin names blocked by ``UWKERNEL_DISABLE_PLUGINS`` and ``--no-plugin`` on the command line.

    Read before any plugin loads, so a blocked plugin is never imported.
    """
    names = {n.strip() for n in environ.get(DISABLE_ENV, "").split(",") if n.strip()}
    args = list(argv)
    for i, arg in enumerate(args):
        if arg == "--no-plugin" and i + 1 < len(args):
            names.add(args[i + 1])
        elif arg.startswith("--no-plugin="):
            names.add(arg.split("=", 1)[1])
    return names


def _stamped(record: Any, plugin: str) -> Any:
    """``dataclasses.replace(record, plugin=plugin)``, a quarter of its cost: the fields are copied, not checked again.

    A registration record was checked when made; ``replace`` would run its ``__init__`` once more, for
    each of the few hundred records (options mostly) of every start-up.
    """
    if not is_dataclass(record):
        raise TypeError(f"{type(record).__name__} is not a uwkernel.types record")
    copy = object.__new__(type(record))
    copy.__dict__.update(record.__dict__, plugin=plugin)
    return copy


class _ModuleHooks(pluggy.PluginManager):
    """pluggy's manager, but a plugin module's names that cannot be hook implementations are skipped at once.

    pluggy looks each of a plugin's names up with ``inspect.getattr_static``: for a module, every import,
    constant and helper function too, most of the time of registering the plugins. Only the module's
    functions and methods carrying the ``hookimpl`` marker (and any staticmethod or classmethod) still go
    through pluggy's own lookup.
    """

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        """None for a module's name that is not a marked function or method; pluggy's answer otherwise."""
        if isinstance(plugin, types.ModuleType):
            value = plugin.__dict__.get(name)
            if isinstance(value, (types.FunctionType, types.MethodType)):
                if not hasattr(value, _IMPL_MARKER):
                    return None
            elif not isinstance(value, (staticmethod, classmethod)):
                return None
        return super().parse_hookimpl_opts(plugin, name)


class PluginManager:
    """Facade over pluggy: registers the kernel and the plugins, and holds the registries they build."""

    def __init__(self, *, blocked: Iterable[str] = (), entry_points: bool = True):
        self.pm = _ModuleHooks(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.failures: list[PluginFailure] = []
        self.blocked: set[str] = set(blocked)
        self._register(PluginInfo(KERNEL, builtin, PROJECT_NAME, __version__))
        if entry_points:
            self._load_entry_points()

    # -- loading ------------------------------------------------------------------------------------

    def _load_entry_points(self) -> None:
        for ep in scan_entry_points():
            if ep.name in self.blocked or ep.name in self.infos:
                continue
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not stop the others
                failure = PluginFailure(ep.name, ep.value, ep.distribution, f"{type(exc).__name__}: {exc}")
                self.failures.append(failure)
                log.log(f"uwkernel: {failure.describe()}")
                continue
            self._register(PluginInfo(ep.name, module, ep.distribution, ep.version, ep.value))

    def _register(self, info: PluginInfo) -> None:
        try:
            self.pm.register(info.module, name=info.name)
        except ValueError as exc:  # pluggy: already registered, or bad hook implementations
            raise PluginError(f"{info.describe()} cannot be registered: {exc}") from None
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"{info.describe()} is not a valid plugin: {exc}") from None
        self.infos[info.name] = info
        self._invalidate()

    def load_module(self, dotted: str) -> PluginInfo:
        """Import ``dotted`` and register it as a plugin (a ``plugins = my.module`` line)."""
        if dotted in self.infos:
            return self.infos[dotted]
        try:
            module = importlib.import_module(dotted)
        except Exception as exc:
            raise PluginError(f"plugin module '{dotted}' cannot be imported: {type(exc).__name__}: {exc}") from None
        info = PluginInfo(dotted, module)
        self._register(info)
        return info

    def block(self, name: str) -> None:
        """Unregister an already loaded plugin (``no-plugin`` given in a config file)."""
        self.blocked.add(name)
        info = self.infos.pop(name, None)
        if info is not None:
            self.pm.unregister(name=name)
            self._invalidate()

    def use_uwsgi_plugin(self, spec: str) -> str:
        """Resolve one name of a uWSGI ``plugins`` line; return the uwkernel plugin that provides it.

        Accepts ``python3``, ``0:python311``, ``/usr/lib/uwsgi/python3_plugin.so`` and dotted module
        paths (loaded as plugins). An unknown name raises :class:`PluginError` naming it.
        """
        import fnmatch  # here: only uWSGI files with plugins lines need it

        name = re.sub(r"^\d+:", "", spec.strip())
        name = os.path.basename(name)
        name = re.sub(r"(_plugin)?\.so$", "", name)
        for record in self.uwsgi_plugin_names:
            if fnmatch.fnmatchcase(name, record.pattern):
                return record.plugin
        if "." in name:
            return self.load_module(name).name
        raise PluginError(
            f"uWSGI plugin '{spec}' is not provided by any uwkernel plugin "
            f"(installed: {', '.join(sorted(self.infos))})"
        )

    # -- registries ---------------------------------------------------------------------------------

    @property
    def hook(self) -> Any:
        """The pluggy hook relay: ``plugins.hook.uwkernel_phase(phase=..., config=...)``."""
        return self.pm.hook

    def describe(self, name: str) -> str:
        """How messages name the plugin ``name``."""
        info = self.infos.get(name)
        return info.describe() if info else f"plugin '{name}'"

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a registration hook one plugin at a time; return its records stamped with the plugin.

        A plugin whose hook raises is reported as a :class:`PluginError` naming it.
        """
        records: list[Any] = []
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
            try:
                result = impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as exc:
                raise PluginError(
                    f"{self.describe(impl.plugin_name)} failed in {hook_name}: {type(exc).__name__}: {exc}"
                ) from None
            records.extend(_stamped(r, impl.plugin_name) for r in result or ())
        return records

    def _invalidate(self) -> None:
        for cached in ("options", "handlers", "uwsgi_plugin_names"):
            self.__dict__.pop(cached, None)

    @functools.cached_property
    def options(self) -> OptionRegistry:
        """Every option of the kernel and the registered plugins."""
        return OptionRegistry(self.collect("uwkernel_add_options"), self.describe)

    @functools.cached_property
    def handlers(self) -> dict[str, HookHandler]:
        """Hook handlers by name and alias; a name claimed twice is an error naming both plugins."""
        table: dict[str, HookHandler] = {}
        for handler in self.collect("uwkernel_add_hook_handlers"):
            for name in handler.names:
                other = table.get(name)
                if other is not None:
                    raise PluginError(
                        f"hook handler '{name}' is claimed by both {self.describe(other.plugin)} "
                        f"and {self.describe(handler.plugin)}"
                    )
                table[name] = handler
        return table

    @functools.cached_property
    def uwsgi_plugin_names(self) -> list[UwsgiPluginName]:
        """The uWSGI plugin names the registered plugins stand in for."""
        return self.collect("uwkernel_add_uwsgi_plugin_names")
