"""Sending a WSGI response: ``start_response``, the ``write`` callable, the body, ``wsgi.file_wrapper``.

:class:`Response` holds one request's response state. Its head is built only when the first body bytes
are ready (PEP 3333), and goes out in the same ``send`` as those bytes; a body given whole (a list or
tuple, or bytes) goes out with the head in one ``sendall``. On a keep-alive connection a response the
application gives no length for gets one when the whole body is known, is chunked on HTTP/1.1, and
ends the connection on HTTP/1.0. A :class:`FileWrapper` over a regular file goes out with ``os.sendfile``.
"""
from __future__ import annotations

import os
import socket
import stat

from uwkernel.proto.http import ResponseError, response_head

__all__ = ["FileWrapper", "Response", "ResponseError", "WriteError"]

#: Bodies up to this size are joined to the head and sent with one ``sendall``.
_JOIN_LIMIT = 65536
_SENDFILE_MAX = 1 << 30
_CHUNK_END = b"0\r\n\r\n"


class WriteError(OSError):
    """Sending to the client failed (it went away or timed out): not the application's fault."""


class FileWrapper:
    """``wsgi.file_wrapper``: iterates a file-like object in blocks; the server may ``sendfile`` it."""

    def __init__(self, filelike, blksize: int = 8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        """Yield the file's blocks until it ends."""
        read = self.filelike.read
        while block := read(self.blksize):
            yield block

    def fileno(self) -> int | None:
        """The file's descriptor, or None when it has none."""
        try:
            return self.filelike.fileno()
        except (AttributeError, OSError, ValueError):
            return None


class Response:
    """The response to one request on ``conn``, and the request it answers (the ``uwsgi`` module's
    request-level functions act on it while the app runs).

    ``protocol`` starts the status line; ``keep_alive`` says whether the connection may stay open after
    it (the response may still close it); ``head_only`` suppresses the body (HEAD); ``http`` marks an HTTP
    socket, where the response says ``Connection: close`` when it ends the connection (a uwsgi-protocol
    peer such as nginx needs no such header). ``environ`` is the request's WSGI environ and ``variables``
    its CGI variables as received; ``logvars`` (None until one is set) and ``force_log`` are the
    ``uwsgi.set_logvar`` / ``uwsgi.log_this_request`` state. After sending, ``status`` (the code),
    ``body_bytes``, ``head_bytes``, ``header_count``, ``switches`` (body pieces) and ``sendfile``
    describe what was sent.
    """

    __slots__ = ("conn", "protocol", "reusable", "keep_alive", "head_only", "http", "status_line", "headers", "status",
                 "head_sent", "chunked", "send_body", "declared", "body_bytes", "head_bytes", "header_count",
                 "switches", "sendfile", "environ", "variables", "logvars", "force_log")

    def __init__(self, conn: socket.socket, protocol: str, keep_alive: bool, head_only: bool, http: bool,
                 environ: dict | None = None, variables: dict | None = None):
        self.conn = conn
        self.protocol = protocol
        self.reusable = self.keep_alive = keep_alive
        self.head_only = head_only
        self.send_body = not head_only
        self.http = http
        self.environ = environ
        self.variables = variables
        self.status_line = self.headers = self.declared = self.logvars = None
        self.status = self.body_bytes = self.head_bytes = self.header_count = self.switches = 0
        self.head_sent = self.chunked = self.sendfile = self.force_log = False

    # -- what the application calls ----------------------------------------------------------------

    def start_response(self, status, headers, exc_info=None):
        """PEP 3333 ``start_response``: record the status and headers; return the ``write`` callable.

        A second call needs ``exc_info``; once the head went out, the exception it carries is re-raised.
        """
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status_line is not None:
            raise AssertionError("start_response() called a second time without exc_info")
        self.status_line = status
        self.headers = headers
        return self.write

    def write(self, data) -> None:
        """PEP 3333 ``write``: send ``data`` now (the head first if it has not gone out)."""
        self._send_piece(data)

    # -- what the worker loop calls ----------------------------------------------------------------

    def send_result(self, result) -> None:
        """Send the body the application returned (an iterable of bytes, or bytes)."""
        kind = type(result)
        if kind is list or kind is tuple:
            self.switches += len(result)
            if self.head_sent:
                for piece in result:
                    self._send_piece(piece)
                self._finish()
            elif len(result) == 1:
                self._send_whole(result[0])
            else:
                try:
                    self._send_whole(b"".join(result))
                except TypeError:
                    raise ResponseError(f"the response body holds a non-bytes item: {result!r:.200}") from None
        elif kind is bytes or kind is bytearray:
            self._send_whole(result)
        elif kind is not FileWrapper or self.head_sent or not self._send_file(result):
            self._send_iterable(result)

    def _send_iterable(self, result) -> None:
        """Send each piece as the iterable yields it; an empty body gets its length."""
        for piece in result:
            self.switches += 1
            self._send_piece(piece)
        if self.head_sent:
            self._finish()
        else:
            self._send_whole(b"")

    def send_error(self, status: str, body: bytes) -> None:
        """Send a plain-text error response in place of the application's (nothing may have gone out)."""
        self.status_line = status
        self.headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        self.chunked = False  # a failed head of the application's may have chosen chunked framing
        self._send_whole(body)

    # -- the head ----------------------------------------------------------------------------------

    def _head(self, length: int | None) -> bytes:
        """Build the head with :func:`uwkernel.proto.http.response_head` (``length`` is the whole
        body's size when known); set ``status``, ``header_count``, ``declared``, ``chunked``,
        ``keep_alive`` and ``send_body`` from the framing it decided."""
        head, self.status, self.header_count, self.declared, self.chunked, self.keep_alive, self.send_body = \
            response_head(self.protocol, self.status_line, self.headers, length, self.reusable, self.http,
                          self.head_only)
        return head

    # -- the body ----------------------------------------------------------------------------------

    def _sendall(self, data) -> None:
        try:
            self.conn.sendall(data)
        except OSError as exc:
            self.keep_alive = False
            raise WriteError(exc.errno, f"write error: {exc.strerror or exc}") from None

    def _send_parts(self, parts: list) -> None:
        """Send ``parts`` (bytes-like objects) in order with one ``sendmsg`` and no copy, as uWSGI's
        ``writev``; what the kernel did not take at once goes out with ``sendall``."""
        views = [memoryview(part).cast("B") for part in parts]
        try:
            sent = self.conn.sendmsg(views)
            for view in views:
                if sent < len(view):
                    self.conn.sendall(view[sent:])
                    sent = 0
                else:
                    sent -= len(view)
        except OSError as exc:
            self.keep_alive = False
            raise WriteError(exc.errno, f"write error: {exc.strerror or exc}") from None

    def _send_whole(self, body) -> None:
        """Send the head with the whole body (its length known)."""
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise ResponseError(f"the response body must be bytes, not {type(body).__name__}")
        head = self._head(len(body))
        self.head_sent = True
        self.head_bytes = len(head)
        if not self.send_body or not body:
            self._sendall(head)
            return
        if len(body) <= _JOIN_LIMIT:
            self._sendall(head + body)
        else:
            self._send_parts([head, body])
        self.body_bytes = len(body)
        self._check_length()

    def _send_piece(self, piece) -> None:
        """Send one piece of a streamed body (the head first with it, if it has not gone out)."""
        if not isinstance(piece, (bytes, bytearray, memoryview)):
            raise ResponseError(f"the response body must yield bytes, not {type(piece).__name__}: {piece!r:.100}")
        if not piece:
            return
        prefix = b""
        if not self.head_sent:
            prefix = self._head(None)
            self.head_sent = True
            self.head_bytes = len(prefix)
            if not self.send_body:
                self._sendall(prefix)
                return
        elif not self.send_body:
            return
        suffix = b""
        if self.chunked:
            prefix += b"%X\r\n" % len(piece)
            suffix = b"\r\n"
        if len(piece) <= _JOIN_LIMIT:
            self._sendall(prefix + piece + suffix)
        else:
            self._send_parts([prefix, piece, suffix])
        self.body_bytes += len(piece)

    def _finish(self) -> None:
        """End a streamed body: the last chunk of a chunked body; a length mismatch closes the connection."""
        if self.chunked and self.send_body:
            self._sendall(_CHUNK_END)
        self._check_length()

    def _check_length(self) -> None:
        if self.declared is not None and self.send_body and self.body_bytes != self.declared:
            self.keep_alive = False

    def _send_file(self, wrapper: FileWrapper) -> bool:
        """Send a regular file's rest with ``os.sendfile``; False (nothing sent) when it cannot be."""
        fd = wrapper.fileno()
        if fd is None:
            return False
        try:
            info = os.fstat(fd)
            position = wrapper.filelike.tell() if hasattr(wrapper.filelike, "tell") else os.lseek(fd, 0, os.SEEK_CUR)
        except (OSError, ValueError):
            return False
        if not stat.S_ISREG(info.st_mode):
            return False
        count = max(0, info.st_size - position)
        head = self._head(count)
        if self.declared is not None:
            count = min(count, self.declared)
        self.head_sent = True
        self.head_bytes = len(head)
        if not self.send_body or not count:
            self._sendall(head)
            return True
        self.sendfile = True
        self.switches += 1
        try:
            self.conn.sendall(head, socket.MSG_MORE)
            out = self.conn.fileno()
            while count:
                sent = os.sendfile(out, fd, position, min(count, _SENDFILE_MAX))
                if not sent:
                    break  # the file shrank under us
                position += sent
                count -= sent
                self.body_bytes += sent
        except OSError as exc:
            self.keep_alive = False
            raise WriteError(exc.errno, f"write error: {exc.strerror or exc}") from None
        self._check_length()
        return True
