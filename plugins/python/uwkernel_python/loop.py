"""The default worker loop: accept connections, read requests, run the WSGI apps, log each request.

Each of the worker's ``threads`` (one by default) loops on ``worker.accept()`` until it returns None
(a graceful stop) and serves the connection it got:

* ``uwsgi`` sockets: one packet. modifier1 0 is a WSGI request (30 too, with SCRIPT_NAME cut from
  PATH_INFO); any other modifier1 goes to the handler a plugin registered for it (resolved once per
  worker); an unknown one closes the connection. The reply is raw HTTP and the connection is closed
  after it, as nginx's ``uwsgi_pass`` expects.
* ``http`` sockets: one request per connection; ``http11`` sockets: requests until the client or the
  response ends the connection (keep-alive, pipelining).

Malformed input never escapes: a 4xx answer (HTTP) or a closed connection, and one log line. With
several threads the main thread only supervises: it takes the signals and, once the worker is stopping,
wakes the threads still waiting for a connection.

Socket timeouts are the kernel's (``SO_RCVTIMEO``/``SO_SNDTIMEO`` = ``socket-timeout``), set once on
TCP listening sockets (accepted sockets inherit them on Linux) and per connection on UNIX sockets; the
sockets stay in blocking mode, so no ``poll`` precedes each ``recv``/``send``.
"""
from __future__ import annotations

import os
import signal
import socket
import struct
import threading
import time
from typing import Callable

from uwkernel import log
from uwkernel.errors import PluginError
from uwkernel.log import RequestLog, RequestRecord
from uwkernel.proto import ConnectionClosed, ProtocolError
from uwkernel.proto.body import ChunkedBody, ContentLengthBody
from uwkernel.proto.http import parse_head, read_head
from uwkernel.proto.uwsgi import parse_vars, read_packet

from . import uwsgi_request
from .apps import AppTable
from .environ import ErrorStream, base_environ, peer_vars, server_port, url_scheme
from .inputs import EMPTY_INPUT, ContinueInput, buffer_body, content_length
from .options import Settings
from .response import Response
from .wsgi import call_app, no_app

#: Bytes asked of the socket per read of an HTTP request head (the head's limit is ``buffer-size``).
RECV_SIZE = 65536
#: Signals the serving threads leave to the main thread.
_MAIN_THREAD_SIGNALS = {signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP,
                        signal.SIGUSR1, signal.SIGCHLD}
#: How long the main thread waits on a serving thread at a time (it runs signal handlers in between).
_SUPERVISE_INTERVAL = 0.25


def request_handlers(worker) -> dict[int, Callable]:
    """The handlers of the other modifier1 values, built once: ``{modifier1: handler}``.

    A handler is called as ``handler(conn, modifier1, modifier2, payload, leftover)``: ``payload`` is the
    packet's data, ``leftover`` what was read past it. It answers on ``conn`` and returns the number of
    bytes it sent (or None); the connection is closed after it.
    """
    table: dict[int, Callable] = {}
    try:
        records = worker.plugins.collect("uwkernel_add_request_handlers")
    except PluginError as exc:
        log.log(f"uwkernel: no request handlers for other modifier1 values: {exc}")
        return table
    for record in records:
        if record.modifier1 in (0, 30):
            log.log(f"uwkernel: {record.plugin} handler '{record.name}' for modifier1 {record.modifier1} "
                    "ignored: WSGI serves it")
            continue
        try:
            table[record.modifier1] = record.factory(worker.config)
        except Exception as exc:
            import traceback  # error paths only: not at start-up

            log.log(traceback.format_exc().rstrip("\n"))
            log.log(f"uwkernel: {record.plugin} handler '{record.name}' (modifier1 {record.modifier1}) "
                    f"failed to start: {type(exc).__name__}: {exc}")
    return table


def prepare_listeners(sockets, timeout: int) -> bytes:
    """Give TCP listening sockets the timeouts and TCP_NODELAY their accepted sockets inherit.
    Returns the packed ``timeval`` for the per-connection UNIX case."""
    timeval = struct.pack("ll", timeout, 0)
    for lsock in sockets:
        sock = lsock.sock
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return timeval


def _peer(addr) -> str:
    return f"{addr[0]}:{addr[1]}" if isinstance(addr, tuple) else "unix socket"


def _reject(conn: socket.socket, exc: ProtocolError, addr) -> None:
    """Answer a malformed HTTP request with its 4xx/5xx status and log it in one line."""
    from http import HTTPStatus  # error paths only: not at start-up

    reason = HTTPStatus(exc.status).phrase
    body = reason.encode()
    head = (f"HTTP/1.1 {exc.status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode()
    try:
        conn.sendall(head + body)
    except OSError:
        pass
    log.log(f"invalid HTTP request from {_peer(addr)}: {exc.message} ({exc.status})")


class Server:
    """One worker process's serving state, shared by its threads: apps, settings, handlers, request log."""

    def __init__(self, worker, apps: AppTable, settings: Settings):
        self.worker = worker
        self.apps = apps
        self.settings = settings
        self.pid = os.getpid()
        self.errors = ErrorStream()
        self.handlers = request_handlers(worker)
        self.request_log = RequestLog(settings.log_format) if settings.logging else None
        self.forced_log = RequestLog(settings.log_format)  # for uwsgi.log_this_request()
        self.lock = threading.Lock() if settings.threads > 1 else None
        hostname = socket.gethostname()
        self.http_vars = {lsock.fileno: {"SERVER_NAME": hostname, "SERVER_PORT": server_port(lsock.sock)}
                          for lsock in worker.sockets if lsock.proto != "uwsgi"}
        self.unix_listeners = {lsock.fileno for lsock in worker.sockets if lsock.sock.family == socket.AF_UNIX}
        self.timeval = prepare_listeners(worker.sockets, settings.socket_timeout)
        self.total_requests = worker.scoreboard.total_requests

    def run(self) -> None:
        """Serve until the worker stops: in this thread, or in ``threads`` threads this one supervises."""
        count = self.settings.threads
        if count == 1:
            Core(self, 0).run()
            return
        threads = [threading.Thread(target=Core(self, i).run_in_thread, daemon=True,
                                    name=f"uWSGIWorker{self.worker.id}Core{i}") for i in range(count)]
        for thread in threads:
            thread.start()
        while threads:  # the main thread keeps receiving the worker's signals while it waits
            threads[0].join(_SUPERVISE_INTERVAL)
            threads = [thread for thread in threads if thread.is_alive()]

    # -- counters (Slot writes are not thread-safe: serialise them when threaded) --------------------

    def begin(self) -> float:
        """Mark a request as started (harakiri deadline); return its start time (serialised)."""
        with self.lock:
            return self.worker.slot.begin()

    def end(self, start: float, tx: int, exception: bool) -> int:
        """Count a finished request; return this process's count (serialised)."""
        with self.lock:
            return self.worker.slot.end(start, tx, exception)


class Core:
    """One accept/serve loop (uWSGI's "core"): the main thread, or one of the worker's threads."""

    def __init__(self, server: Server, core_id: int):
        settings = server.settings
        self.server = server
        self.worker = server.worker
        self.id = core_id
        self.apps = server.apps
        self.base = base_environ(multithread=settings.threads > 1, multiprocess=settings.processes > 1,
                                 core=core_id if settings.threads > 1 else None, errors=server.errors,
                                 file_wrapper=settings.file_wrapper)
        self.http_environ = {fileno: {**self.base, **variables} for fileno, variables in server.http_vars.items()}
        self.buffer_size = settings.buffer_size
        self.max_vars = settings.max_vars
        self.post_buffering = settings.post_buffering
        self.single_app = self.apps.default if len(self.apps) == 1 and not settings.manage_script_name else None
        self.begin = server.begin if server.lock else self.worker.slot.begin
        self._end = server.end if server.lock else self.worker.slot.end
        self.request_limit = self.worker.request_limit
        if self.request_limit == float("inf"):
            self.finish = self._end  # no max-requests: the slot's count is all there is to do

    def finish(self, start: float, tx: int, exception: bool) -> None:
        """Count a finished request (the worker stops once ``max-requests`` are served). Without
        ``max-requests`` the instance's ``finish`` is the slot's ``end`` itself, one call less per request."""
        if self._end(start, tx, exception) >= self.request_limit:
            self.worker.served()

    def run_in_thread(self) -> None:
        """:meth:`run` in a worker thread: signals are left to the main thread."""
        signal.pthread_sigmask(signal.SIG_BLOCK, _MAIN_THREAD_SIGNALS)
        self.run()

    def run(self) -> None:
        """Accept and serve connections until ``worker.accept()`` says stop."""
        accept = self.worker.accept
        serve = self.serve
        while (accepted := accept()) is not None:
            serve(*accepted)

    def serve(self, conn: socket.socket, addr, lsock) -> None:
        """Serve one connection, whatever its protocol; nothing escapes but BaseExceptions."""
        try:
            if lsock.fileno in self.server.unix_listeners:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, self.server.timeval)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, self.server.timeval)
            if lsock.proto == "uwsgi":
                self.serve_uwsgi(conn, addr)
            else:
                self.serve_http(conn, addr, lsock)
        except Exception:
            import traceback  # error paths only: not at start-up

            log.log(traceback.format_exc().rstrip("\n"))
            log.log(f"uwkernel: unexpected error serving a connection from {_peer(addr)}")
        finally:
            conn.close()

    # -- the uwsgi protocol ------------------------------------------------------------------------

    def serve_uwsgi(self, conn: socket.socket, addr) -> None:
        """Serve the one packet of a uwsgi-protocol connection."""
        try:
            modifier1, modifier2, payload, leftover = read_packet(conn, self.buffer_size)
        except ConnectionClosed as exc:
            if not exc.clean:
                log.log(f"invalid uwsgi request from {_peer(addr)}: {exc.message}")
            return
        except ProtocolError as exc:
            log.log(f"invalid uwsgi request from {_peer(addr)}: {exc.message}")
            return
        except OSError as exc:
            log.log(f"uwsgi request from {_peer(addr)} not read: {exc.strerror or exc}")
            return
        if modifier1 == 0 or modifier1 == 30:
            self.serve_uwsgi_wsgi(conn, addr, modifier1, modifier2, payload, leftover)
            return
        handler = self.server.handlers.get(modifier1)
        if handler is None:
            log.log(f"-- unavailable modifier requested: {modifier1} (from {_peer(addr)}) --")
            return
        start = self.begin()
        sent, failed = 0, False
        try:
            sent = handler(conn, modifier1, modifier2, payload, leftover) or 0
        except Exception:
            import traceback  # error paths only: not at start-up

            log.log(traceback.format_exc().rstrip("\n"))
            failed = True
        self.finish(start, sent, failed)

    def serve_uwsgi_wsgi(self, conn: socket.socket, addr, modifier1: int, modifier2: int, payload: bytes,
                         leftover: bytes) -> None:
        """Serve a WSGI request that came as a uwsgi packet."""
        try:
            variables = parse_vars(payload, self.max_vars)
        except ProtocolError as exc:
            log.log(f"invalid uwsgi request from {_peer(addr)}: {exc.message}")
            return
        if not variables:
            log.log(f"empty uwsgi request from {_peer(addr)}: skipped")
            return
        start = self.begin()
        environ = self.base.copy()
        environ.update(variables)
        if "UWSGI_SCHEME" in variables or "HTTPS" in variables:
            environ["wsgi.url_scheme"] = url_scheme(variables)
        if modifier1 == 30:  # manage-path-info: PATH_INFO still carries SCRIPT_NAME
            script_name = environ["SCRIPT_NAME"]
            path = environ.get("PATH_INFO", "")
            if script_name and path.startswith(script_name):
                environ["PATH_INFO"] = path[len(script_name):]
        length = variables.get("CONTENT_LENGTH")
        if length:  # nginx sends it empty on a GET
            length = content_length(length)
        body = ContentLengthBody(conn, leftover, length) if length else EMPTY_INPUT
        if length and self.post_buffering:
            try:
                body, _ = buffer_body(body, length, self.post_buffering)
            except (ProtocolError, OSError) as exc:
                log.log(f"request body from {_peer(addr)} not read: {exc}")
                self.finish(start, 0, False)
                return
        environ["wsgi.input"] = body
        response = Response(conn, variables.get("SERVER_PROTOCOL") or "HTTP/1.0", False,
                            variables.get("REQUEST_METHOD") == "HEAD", False, environ, variables)
        self.run_app(response, start, modifier1, modifier2)

    # -- HTTP --------------------------------------------------------------------------------------

    def serve_http(self, conn: socket.socket, addr, lsock) -> None:
        """Serve the requests of an HTTP connection (several with keep-alive on ``http11`` sockets)."""
        worker = self.worker
        connection_vars = self.server.http_vars[lsock.fileno] | peer_vars(addr)
        socket_environ = self.http_environ[lsock.fileno]
        reusable = lsock.proto == "http11"
        pending = b""
        while True:
            try:
                head, rest = read_head(conn, RECV_SIZE, self.buffer_size, data=pending)
                variables, keep_alive, expect_continue, chunked = parse_head(head)
            except ConnectionClosed as exc:
                if not exc.clean:
                    log.log(f"invalid HTTP request from {_peer(addr)}: {exc.message}")
                return
            except ProtocolError as exc:
                _reject(conn, exc, addr)
                return
            except OSError:
                return  # a timeout or a reset while waiting for a request: nothing to answer
            start = self.begin()
            variables.update(connection_vars)
            environ = socket_environ.copy()
            environ.update(variables)
            body = continued = None
            if chunked:
                body = ChunkedBody(conn, rest)
            elif "CONTENT_LENGTH" in variables and variables["CONTENT_LENGTH"] != "0":
                body = ContentLengthBody(conn, rest, int(variables["CONTENT_LENGTH"]))
            wsgi_input = EMPTY_INPUT
            if body is not None:
                wsgi_input = body
                if expect_continue:
                    wsgi_input = continued = ContinueInput(body, conn)
                if self.post_buffering:
                    try:
                        wsgi_input, length = buffer_body(wsgi_input, None if chunked else int(
                            variables["CONTENT_LENGTH"]), self.post_buffering)
                    except ProtocolError as exc:
                        self.finish(start, 0, False)
                        _reject(conn, exc, addr)
                        return
                    except OSError as exc:
                        log.log(f"request body from {_peer(addr)} not read: {exc}")
                        self.finish(start, 0, False)
                        return
                    environ["CONTENT_LENGTH"] = str(length)
            environ["wsgi.input"] = wsgi_input
            response = Response(conn, variables["SERVER_PROTOCOL"], reusable and keep_alive and not worker.stopping,
                                variables["REQUEST_METHOD"] == "HEAD", True, environ, variables)
            self.run_app(response, start, 0, 0)
            if not response.keep_alive or worker.stopping:
                return
            if continued is not None and not continued.answered:
                return  # the client was never asked for its body: it may or may not send it
            try:
                pending = body.drain() if body is not None else rest
            except (ProtocolError, OSError):
                return

    # -- both --------------------------------------------------------------------------------------

    def run_app(self, response: Response, start: float, modifier1: int, modifier2: int) -> None:
        """Pick the app, run it on ``response``'s request, count the request and log it."""
        environ = response.environ
        app = self.single_app or self.apps.select(environ)
        state = uwsgi_request.state
        state.context = response
        if app is None:
            no_app(response)
            failed = False
        else:
            app.requests += 1
            failed = call_app(app.callable, environ, response)
        state.context = None
        self.finish(start, response.head_bytes + response.body_bytes, failed)
        server = self.server
        request_log = server.request_log or (server.forced_log if response.force_log else None)
        if request_log is not None:
            request_log.write(RequestRecord(
                response.variables, server.pid, self.worker.id, self.id, app.id if app else -1,
                app.requests if app else -1, server.total_requests(), modifier1, modifier2, start, time.time(),
                response.status or 500, response.body_bytes, response.head_bytes, response.header_count,
                response.switches, response.sendfile, response.logvars))
