"""Request-level names of the ``uwsgi`` module: they act on the request the calling thread serves.

The worker loop opens a :class:`RequestContext` around each app call (:func:`serving`); outside a
request these functions raise ``SystemError``, as uWSGI's do.
"""
from __future__ import annotations

import socket
import threading

from uwkernel.types import ModuleName

_local = threading.local()


class RequestContext:
    """The request a thread is serving: its connection, environ, response and log variables."""

    __slots__ = ("conn", "environ", "variables", "response", "logvars", "force_log")

    def __init__(self, conn: socket.socket, environ: dict, variables: dict, response):
        self.conn = conn
        self.environ = environ
        self.variables = variables
        self.response = response
        self.logvars: dict[str, str] = {}
        self.force_log = False


def serving(conn: socket.socket, environ: dict, variables: dict, response) -> RequestContext:
    """Make this the current thread's request (call :func:`done` after the app)."""
    context = _local.context = RequestContext(conn, environ, variables, response)
    return context


def done() -> None:
    """The current thread serves no request any more."""
    _local.context = None


def _current() -> RequestContext:
    context = getattr(_local, "context", None)
    if context is None:
        raise SystemError("no request is being served by this thread")
    return context


def _text(value) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def connection_fd() -> int:
    """The file descriptor of the current request's connection."""
    return _current().conn.fileno()


def disconnect() -> None:
    """Close the current request's connection now (the response ends there)."""
    context = _current()
    context.response.keep_alive = False
    try:
        context.conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def log_this_request() -> None:
    """Log the current request even when request logging is disabled."""
    _current().force_log = True


def set_logvar(key, val) -> None:
    """Set a log variable of the current request (``%(key)`` in ``log-format``)."""
    _current().logvars[_text(key)] = _text(val)


def get_logvar(key) -> bytes | None:
    """A log variable of the current request, or None."""
    value = _current().logvars.get(_text(key))
    return None if value is None else value.encode("latin-1", "replace")


def add_var(key, val) -> bool:
    """Add a variable to the current request (visible in its environ and to ``%(var.KEY)``)."""
    context = _current()
    context.environ[_text(key)] = context.variables[_text(key)] = _text(val)
    return True


def cl() -> int:
    """The current request's Content-Length (0 without a body)."""
    value = _current().environ.get("CONTENT_LENGTH") or "0"
    return int(value) if value.isdigit() else 0


def chunked_read(timeout: int = 0) -> bytes:
    """Read the next part of the current request's body (b"" at its end)."""
    return _current().environ["wsgi.input"].read(65536)


def chunked_read_nb() -> bytes:
    """Like :func:`chunked_read` (bodies are read with the socket timeout)."""
    return chunked_read()


def module_names() -> list[ModuleName]:
    """The request-level names of the ``uwsgi`` module."""
    functions = (connection_fd, disconnect, log_this_request, set_logvar, get_logvar, add_var, cl, chunked_read,
                 chunked_read_nb)
    return [ModuleName(f.__name__, f) for f in functions]
