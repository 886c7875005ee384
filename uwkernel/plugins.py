"""The plugin manager: finds plugins through the ``uwkernel.plugins`` entry points and builds registries.

* One scan of the entry points per process (cached). A plugin that fails to import is reported in one
  line naming its entry point and distribution; start-up goes on without it.
* ``--no-plugin NAME`` / ``UWKERNEL_DISABLE_PLUGINS=a,b`` block plugins by entry-point name.
* ``plugin``/``plugins`` lines of uWSGI files are resolved by :meth:`PluginManager.use_uwsgi_plugin`:
  a uWSGI plugin name maps to the uwkernel plugin standing in for it, a dotted module path is loaded as
  a plugin, anything else is an error naming it.
* Registration hooks are called one plugin at a time, so a plugin that raises is named, and every record
  is stamped with the plugin that returned it; two plugins claiming one name is an error naming both.
"""
from __future__ import annotations

import fnmatch
import functools
import importlib
import os
import re
from dataclasses import dataclass, replace
from importlib import metadata
from typing import Any, Iterable

import pluggy

from . import ENTRY_POINT_GROUP, PROJECT_NAME, __version__, hookspecs, log
from . import builtin
from .errors import PluginError
from .options import OptionRegistry
from .types import HookHandler, UwsgiPluginName

KERNEL = "kernel"
DISABLE_ENV = "UWKERNEL_DISABLE_PLUGINS"


@dataclass(frozen=True)
class PluginInfo:
    """A registered plugin: its name, the distribution that provides it, and the module."""

    name: str
    module: Any
    distribution: str | None = None
    version: str | None = None
    entry_point: str | None = None

    def describe(self) -> str:
        """``plugin 'exec' (uwkernel-exec 0.1.0)``: how messages name this plugin."""
        dist = f" ({self.distribution} {self.version})" if self.distribution else ""
        return f"plugin '{self.name}'{dist}"


@dataclass(frozen=True)
class PluginFailure:
    """An entry point that could not be loaded, and why."""

    name: str
    entry_point: str
    distribution: str | None
    error: str

    def describe(self) -> str:
        """One line naming the plugin, its entry point and distribution, and the error."""
        dist = f" from {self.distribution}" if self.distribution else ""
        return f"plugin '{self.name}' ({self.entry_point}{dist}) failed to load: {self.error}"


@functools.cache
def scan_entry_points() -> tuple[metadata.EntryPoint, ...]:
    """Every entry point of the ``uwkernel.plugins`` group, scanned once per process."""
    return tuple(metadata.entry_points(group=ENTRY_POINT_GROUP))


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


class PluginManager:
    """Facade over pluggy: registers the kernel and the plugins, and holds the registries they build."""

    def __init__(self, *, blocked: Iterable[str] = (), entry_points: bool = True):
        self.pm = pluggy.PluginManager(PROJECT_NAME)
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
            dist = getattr(ep, "dist", None)
            dist_name, dist_version = (dist.name, dist.version) if dist else (None, None)
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not stop the others
                failure = PluginFailure(ep.name, ep.value, dist_name, f"{type(exc).__name__}: {exc}")
                self.failures.append(failure)
                log.log(f"uwkernel: {failure.describe()}")
                continue
            self._register(PluginInfo(ep.name, module, dist_name, dist_version, ep.value))

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
            records.extend(replace(r, plugin=impl.plugin_name) for r in result or ())
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
