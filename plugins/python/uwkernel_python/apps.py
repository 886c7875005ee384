"""The loaded WSGI apps of a process, and how a request picks one.

Apps are numbered in load order, as uWSGI numbers them (``app: 0`` in request log lines). The first app
loaded is the default app, whatever its mountpoint (uWSGI 2.0 does the same). A request goes to the app
whose mountpoint equals its ``SCRIPT_NAME``, else to the default app; with ``manage-script-name`` the
longest mountpoint that prefixes ``PATH_INFO`` at a path-segment boundary first moves from ``PATH_INFO``
to ``SCRIPT_NAME``.
"""
from __future__ import annotations

from typing import Callable


class App:
    """One loaded WSGI app: its number, mountpoint ("" for the root), callable and request count."""

    __slots__ = ("id", "mountpoint", "callable", "requests")

    def __init__(self, app_id: int, mountpoint: str, wsgi_callable: Callable):
        self.id = app_id
        self.mountpoint = mountpoint
        self.callable = wsgi_callable
        self.requests = 0


def normalize_mountpoint(mountpoint: str) -> str:
    """The mountpoint as matched: no trailing slash, and "" for the root ("/" or "")."""
    return mountpoint.rstrip("/")


class AppTable:
    """The apps of this process, indexed by mountpoint."""

    def __init__(self, manage_script_name: bool = False):
        self.apps: list[App] = []
        self.by_mountpoint: dict[str, App] = {}
        self.manage_script_name = manage_script_name
        self._prefixes: list[tuple[str, App]] = []  # longest first

    @property
    def default(self) -> App | None:
        """The app serving requests no mountpoint claims: the first one loaded."""
        return self.apps[0] if self.apps else None

    def __len__(self) -> int:
        return len(self.apps)

    def add(self, mountpoint: str, wsgi_callable: Callable) -> App:
        """Register a loaded app at ``mountpoint``; raise ValueError when the mountpoint is taken."""
        key = normalize_mountpoint(mountpoint)
        if key in self.by_mountpoint:
            raise ValueError(f"mountpoint '{mountpoint}' already configured")
        app = App(len(self.apps), key, wsgi_callable)
        self.apps.append(app)
        self.by_mountpoint[key] = app
        if key:
            self._prefixes.append((key, app))
            self._prefixes.sort(key=lambda item: len(item[0]), reverse=True)
        return app

    def select(self, environ: dict) -> App | None:
        """The app serving ``environ``; with ``manage-script-name`` also rewrite SCRIPT_NAME/PATH_INFO."""
        if len(self.apps) == 1 and not self.manage_script_name:
            return self.apps[0]
        if self.manage_script_name:
            path = environ.get("PATH_INFO", "")
            for prefix, app in self._prefixes:
                if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                    environ["SCRIPT_NAME"] = prefix
                    environ["PATH_INFO"] = path[len(prefix):]
                    return app
        app = self.by_mountpoint.get(environ.get("SCRIPT_NAME", "").rstrip("/"))
        return app if app is not None else self.default
