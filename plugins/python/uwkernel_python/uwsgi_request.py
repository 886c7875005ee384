"""Request-level names of the ``uwsgi`` module: they act on the request the calling thread serves.

Around each app call the worker loop sets ``state.context`` to the request's
:class:`~uwkernel_python.response.Response` (which carries the request's environ and variables), and
back to None after it; outside a request these functions raise ``SystemError``, as uWSGI's do.
"""
from __future__ import annotations

import socket
import threading

from uwkernel.types import ModuleName

#: Per thread: ``context`` is the Response of the request the thread serves, or None.
state = threading.local()


def _current():
    """The response (and request) the calling thread serves; SystemError outside a request."""
    context = getattr(state, "context", None)
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
    context.keep_alive = False
    try:
        context.conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def log_this_request() -> None:
    """Log the current request even when request logging is disabled."""
    _current().force_log = True


def set_logvar(key, val) -> None:
    """Set a log variable of the current request (``%(key)`` in ``log-format``)."""
    context = _current()
    if context.logvars is None:
        context.logvars = {}
    context.logvars[_text(key)] = _text(val)


def get_logvar(key) -> bytes | None:
    """A log variable of the current request, or None."""
    logvars = _current().logvars
    value = logvars.get(_text(key)) if logvars else None
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
