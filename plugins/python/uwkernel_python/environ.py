"""The WSGI environ: the constant part built once per thread, what each connection and request adds.

A request's environ is ``base.copy()`` updated with the request's CGI variables (``dict.copy`` and
``dict.update`` run in C), then ``wsgi.input``. The constant entries — ``wsgi.version``, ``wsgi.errors``,
``wsgi.file_wrapper``, ``uwsgi.version``... — are never rebuilt per request.
"""
from __future__ import annotations

import socket
import threading

from uwkernel import UWSGI_COMPAT_VERSION, log

from .response import FileWrapper


class ErrorStream:
    """``wsgi.errors``: text written here goes to the instance's log, one log line per line of text.

    A partial line waits (per thread) for its end or for :meth:`flush`.
    """

    def __init__(self):
        self._pending = threading.local()

    def write(self, text: str) -> int:
        """Log the complete lines of ``text``; keep a trailing partial line for later."""
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", "replace")
        data = getattr(self._pending, "text", "") + text
        lines = data.split("\n")
        self._pending.text = lines.pop()
        for line in lines:
            log.log(line)
        return len(text)

    def writelines(self, lines) -> None:
        """Write each of ``lines``."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Log the pending partial line, if any."""
        text = getattr(self._pending, "text", "")
        if text:
            self._pending.text = ""
            log.log(text)


def base_environ(*, multithread: bool, multiprocess: bool, core: int | None, errors: ErrorStream,
                 file_wrapper: bool) -> dict:
    """The environ entries every request of one thread shares.

    ``core`` is set as ``uwsgi.core`` only with several threads, as uWSGI does. ``SCRIPT_NAME`` defaults
    to "" (PEP 3333 requires it; a request's own value replaces it).
    """
    environ = {
        "SCRIPT_NAME": "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": errors,
        "wsgi.multithread": multithread,
        "wsgi.multiprocess": multiprocess,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "uwsgi.version": UWSGI_COMPAT_VERSION.encode(),
        "uwsgi.node": socket.gethostname().encode(),
    }
    if file_wrapper:
        environ["wsgi.file_wrapper"] = FileWrapper
    if core is not None:
        environ["uwsgi.core"] = core
    return environ


def url_scheme(variables: dict) -> str:
    """``wsgi.url_scheme`` of a uwsgi request: ``UWSGI_SCHEME``, else ``HTTPS`` on/1 means https."""
    scheme = variables.get("UWSGI_SCHEME")
    if scheme:
        return scheme
    https = variables.get("HTTPS")
    if https and (https[:2].lower() == "on" or https[0] == "1"):
        return "https"
    return "http"


def server_port(sock: socket.socket) -> str:
    """``SERVER_PORT`` for an HTTP socket: its TCP port, or "80" for a UNIX socket (as uWSGI says)."""
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        return str(sock.getsockname()[1])
    return "80"


def peer_vars(addr) -> dict:
    """``REMOTE_ADDR`` and ``REMOTE_PORT`` of an HTTP connection (empty for a UNIX socket peer)."""
    if isinstance(addr, tuple):
        return {"REMOTE_ADDR": addr[0], "REMOTE_PORT": str(addr[1])}
    return {"REMOTE_ADDR": "", "REMOTE_PORT": ""}
