"""Loading the WSGI apps: sys.path (``pythonpath``, ``home``), ``import``, ``module``, ``wsgi-file``, ``mount``.

The order is uWSGI's: the python path first, then the ``import`` modules, the ``module`` app, the
``wsgi-file`` app and finally every ``mount``, so the first of them that loads is the default app. A
failing app is logged with its traceback and one line naming what failed; the others still load.
"""
from __future__ import annotations

import glob
import importlib
import importlib.util
import os
import re
import site
import sys
import time
from importlib.machinery import SourceFileLoader
from typing import Callable

from uwkernel import log
from uwkernel.errors import UwkernelError

from .apps import AppTable, normalize_mountpoint
from .options import Settings

#: Exit status when ``need-app`` is set and no app loaded (uWSGI's UWSGI_FAILED_APP_CODE).
EXIT_NO_APP = 22

_NOT_IDENTIFIER = re.compile(r"\W")
_GLOB_CHARS = frozenset("*?[")


class NoAppError(UwkernelError):
    """``need-app`` is set and no app could be loaded: the instance exits with status 22."""

    exit_status = EXIT_NO_APP


class AppLoadError(Exception):
    """An app could not be loaded; the message names the file or module and the reason."""


def setup_sys_path(settings: Settings) -> None:
    """Put ``home``'s site-packages, the ``pythonpath`` entries and the current directory on sys.path.

    As in uWSGI, each ``pythonpath`` entry (a glob pattern is expanded) goes first, so the last one given
    ends up in front, and ``""`` (the current directory, after ``chdir``) is searched.
    """
    if settings.home:
        _add_virtualenv(settings.home)
    for entry in settings.pythonpath:
        for path in sorted(glob.glob(entry)) if _GLOB_CHARS.intersection(entry) else [entry]:
            sys.path.insert(0, path)
            log.log(f"added {path} to pythonpath.")
    if "" not in sys.path:
        sys.path.insert(0, "")


def _add_virtualenv(home: str) -> None:
    """Put a virtualenv's site-packages (and what its .pth files add) before the other entries of sys.path."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [os.path.join(home, lib, version, "site-packages") for lib in ("lib", "lib64")]
    found = [path for path in candidates if os.path.isdir(path)]
    if not found:
        log.log(f"home {home}: no {version} site-packages found (a virtualenv of another Python?): not used")
        return
    before = list(sys.path)
    for path in found:
        site.addsitedir(path)
    added = [path for path in sys.path if path not in before]
    sys.path[:] = added + before
    log.log(f"Set PythonHome to {home}")


def import_path(spec: str) -> None:
    """Import ``spec``: a module name, or a file when it names a path or ends in ``.py``."""
    if "/" in spec or spec.endswith(".py"):
        import_file(_module_name_for(spec), spec)
    else:
        importlib.import_module(spec)


def import_file(name: str, path: str):
    """Execute the Python file ``path`` as the module ``name`` (registered in sys.modules); return it."""
    spec = importlib.util.spec_from_file_location(name, path, loader=SourceFileLoader(name, path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _module_name_for(path: str) -> str:
    """The module name a file is loaded under: ``uwsgi_file_`` and the path made an identifier."""
    stem = os.path.splitext(path)[0]
    return "uwsgi_file_" + _NOT_IDENTIFIER.sub("_", stem.lstrip("./"))


def _resolve_callable(namespace, name: str, where: str) -> Callable:
    """Get ``name`` (``name()`` calls a factory) from a module; check the result is callable."""
    factory = name.endswith("()")
    attr = name[:-2] if factory else name
    obj = getattr(namespace, attr, None)
    if obj is None:
        raise AppLoadError(f'unable to find "{attr}" callable in {where}')
    if factory:
        obj = obj()
    if not callable(obj):
        raise AppLoadError(f'"{name}" in {where} is not callable ({type(obj).__name__})')
    return obj


def load_module_app(spec: str, default_callable: str) -> Callable:
    """The WSGI callable named by a module spec: ``pkg.mod``, ``pkg.mod:name`` or ``pkg.mod:factory()``."""
    module_name, _, name = spec.partition(":")
    module = importlib.import_module(module_name)
    return _resolve_callable(module, name or default_callable, f"module {module_name}")


def load_file_app(path: str, callable_name: str) -> Callable:
    """The WSGI callable ``callable_name`` of the Python file ``path``."""
    if not os.path.exists(path):
        raise AppLoadError(f"wsgi-file {path}: no such file")
    module = import_file(_module_name_for(path), path)
    return _resolve_callable(module, callable_name, f"file {path}")


def load_mount_target(target: str, default_callable: str) -> Callable:
    """The WSGI callable of a ``mount`` target: a ``.py``/``.wsgi`` file, else a module spec."""
    if target.endswith((".py", ".wsgi")):
        return load_file_app(target, default_callable)
    return load_module_app(target, default_callable)


def load_apps(settings: Settings) -> AppTable:
    """Run the imports and load every configured app into a new :class:`AppTable`.

    Raises :class:`NoAppError` when ``need-app`` is set and nothing loaded.
    """
    table = AppTable(manage_script_name=settings.manage_script_name)
    for spec in settings.imports:
        run_import(spec)
    candidates = []
    if settings.module:
        candidates.append(("", f"module {settings.module}",
                           lambda: load_module_app(settings.module, settings.callable)))
    if settings.wsgi_file:
        candidates.append(("", f"wsgi-file {settings.wsgi_file}",
                           lambda: load_file_app(settings.wsgi_file, settings.callable)))
    for mount in settings.mounts:
        mountpoint, sep, target = mount.partition("=")
        if not sep or not target:
            log.log(f"invalid mountpoint: {mount} (expected /prefix=target)")
            continue
        log.log(f"mounting {target} on {mountpoint}")
        candidates.append((mountpoint, f"mount {mountpoint}={target}",
                           lambda target=target: load_mount_target(target, settings.callable)))
    for mountpoint, what, loader in candidates:
        _load_one(table, mountpoint, what, loader)
    if not table.apps:
        if settings.need_app:
            raise NoAppError("*** no app loaded. GAME OVER ***")
        log.log("*** no app loaded. going in full dynamic mode ***")
    return table


def run_import(spec: str) -> None:
    """``import``/``shared-import``: import ``spec``; on failure log the traceback and one line naming it."""
    try:
        import_path(spec)
    except Exception as exc:
        import traceback  # error paths only: not at start-up

        log.log(traceback.format_exc().rstrip("\n"))
        log.log(f"import {spec} failed: {type(exc).__name__}: {exc}")


def _load_one(table: AppTable, mountpoint: str, what: str, loader: Callable[[], Callable]) -> None:
    """Load one app and add it to ``table``, logging the outcome as uWSGI does."""
    app_id = len(table)
    if normalize_mountpoint(mountpoint) in table.by_mountpoint:
        log.log(f"mountpoint {mountpoint} already configured. skip.")
        return
    started = time.monotonic()
    try:
        app = table.add(mountpoint, loader())
    except AppLoadError as exc:
        log.log(f"{exc}")
        log.log(f"unable to load app {app_id} (mountpoint='{mountpoint}') (callable not found or import error)")
        return
    except Exception as exc:
        import traceback  # error paths only: not at start-up

        log.log(traceback.format_exc().rstrip("\n"))
        log.log(f"unable to load app {app_id} (mountpoint='{mountpoint}') (callable not found or import error): "
                f"{what}: {type(exc).__name__}: {exc}")
        return
    default = " (default app)" if app.id == 0 else ""
    log.log(f"WSGI app {app.id} (mountpoint='{app.mountpoint}') ready in {int(time.monotonic() - started)} "
            f"seconds on interpreter {id(sys.modules):#x} pid: {os.getpid()}{default}")
