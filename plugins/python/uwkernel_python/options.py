"""The options the python plugin adds, and :class:`Settings`: every option it reads, typed, read once.

Names, aliases and short forms are uWSGI's (``plugins/python/python_plugin.c`` and the core options
the python plugin implements: ``mount``, ``manage-script-name``, ``threads``, ``post-buffering``...).
"""
from __future__ import annotations

from typing import NamedTuple

from uwkernel.types import Option

OPTIONS = [
    Option("wsgi-file", aliases=("file",), help="load the WSGI app from this Python file (its `callable`)"),
    Option("module", short="w", aliases=("wsgi",),
           help="load the WSGI app from a module: pkg.mod, pkg.mod:name or pkg.mod:factory()"),
    Option("callable", default="application", help="the name of the WSGI callable in the file or module"),
    Option("mount", kind="list",
           help="mount an app: /prefix=target, target a module spec or a .py/.wsgi file"),
    Option("manage-script-name", kind="bool",
           help="move the longest matching mountpoint from PATH_INFO to SCRIPT_NAME"),
    Option("pythonpath", kind="list", aliases=("python-path", "pp"),
           help="add a directory (or glob) to sys.path"),
    Option("import", kind="list", aliases=("pyimport", "py-import", "python-import"),
           help="import a module (or a .py file) with the apps"),
    Option("shared-import", kind="list", aliases=("shared-pyimport", "shared-py-import", "shared-python-import"),
           help="import a module (or a .py file) in the master, even with lazy-apps"),
    Option("need-app", kind="bool", help="exit with status 22 when no app could be loaded"),
    Option("home", short="H", aliases=("virtualenv", "venv", "pyhome"),
           help="use this virtualenv's site-packages (its Python version must match)"),
    Option("enable-threads", kind="bool", short="T",
           help="let the app start threads (always possible in uwkernel; accepted for compatibility)"),
    Option("threads", kind="int", default=1, help="serve with N threads per worker, each accepting"),
    Option("post-buffering", kind="int", default=0,
           help="read request bodies before calling the app: in memory below N bytes, else a temp file"),
    Option("wsgi-disable-file-wrapper", kind="bool", help="do not offer wsgi.file_wrapper"),
    Option("wsgi-env-behaviour", aliases=("wsgi-env-behavior",),
           help="cheat or holy (accepted; uwkernel always gives each request a fresh environ)"),
]


class Settings(NamedTuple):
    """The configuration the python plugin and its worker loop use, read from the Config once.

    A named tuple, not a dataclass: this module is imported at every start-up, where a dataclass of
    this size costs a millisecond more.
    """

    wsgi_file: str | None
    module: str | None
    callable: str
    mounts: tuple[str, ...]
    manage_script_name: bool
    pythonpath: tuple[str, ...]
    imports: tuple[str, ...]
    shared_imports: tuple[str, ...]
    need_app: bool
    home: str | None
    threads: int
    post_buffering: int
    file_wrapper: bool
    processes: int
    buffer_size: int
    max_vars: int
    socket_timeout: int
    logging: bool
    log_format: str | None

    @classmethod
    def from_config(cls, config) -> Settings:
        """Read every option the plugin uses from ``config``."""
        return cls(
            wsgi_file=config["wsgi-file"] or None,
            module=config["module"] or None,
            callable=config["callable"] or "application",
            mounts=tuple(config["mount"]),
            manage_script_name=bool(config["manage-script-name"]),
            pythonpath=tuple(config["pythonpath"]),
            imports=tuple(config["import"]),
            shared_imports=tuple(config["shared-import"]),
            need_app=bool(config["need-app"]),
            home=config["home"] or None,
            threads=max(1, config["threads"] or 1),
            post_buffering=max(0, config["post-buffering"] or 0),
            file_wrapper=not config["wsgi-disable-file-wrapper"],
            processes=max(1, config["processes"] or 1),
            buffer_size=config["buffer-size"] or 4096,
            max_vars=config["max-vars"] or 64,
            socket_timeout=config["socket-timeout"] or 4,
            logging=not config["disable-logging"],
            log_format=config["log-format"] or None,
        )
