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

#: Bodies up to this size are joined to the head and sent with one ``sendall``.
_JOIN_LIMIT = 65536
_SENDFILE_MAX = 1 << 30
_CHUNK_END = b"0\r\n\r\n"
#: Status lines already validated, with their code ("200 OK" -> 200); bounded.
_STATUS_CODES: dict[str, int] = {}
_STATUS_CACHE_LIMIT = 512
#: Response header names as applications spell them -> what framing needs to know of them:
#: 0 nothing, 1 Content-Length, 2 Connection, 3 Transfer-Encoding; bounded.
_NAME_KINDS: dict[str, int] = {}
_FRAMING_HEADERS = {"content-length": 1, "connection": 2, "transfer-encoding": 3}


class ResponseError(ValueError):
    """The application's response breaks WSGI (bad status, bad headers, non-bytes body)."""


class WriteError(OSError):
    """Sending to the client failed (it went away or timed out): not the application's fault."""


def _status_code(status) -> int:
    """The code of a WSGI status ("404 Not Found" -> 404); ResponseError when it is not a valid status."""
    if type(status) is str and len(status) >= 3 and (len(status) == 3 or status[3] == " ") \
            and status[:3].isdigit() and status[:3].isascii():
        code = int(status[:3])
        if len(_STATUS_CODES) < _STATUS_CACHE_LIMIT:
            _STATUS_CODES[status] = code
        return code
    if status is None:
        raise ResponseError("the application sent a body without calling start_response()")
    raise ResponseError(f"invalid response status {status!r:.100}")


def _name_kind(name, value) -> int:
    """What framing needs to know of response header ``name`` (see ``_NAME_KINDS``), validating the
    pair's types; ResponseError when either is not a str."""
    if type(name) is not str or type(value) is not str:
        raise ResponseError(f"response header {(name, value)!r:.200} is not a pair of str")
    kind = _FRAMING_HEADERS.get(name.lower(), 0)
    if len(_NAME_KINDS) < _STATUS_CACHE_LIMIT:
        _NAME_KINDS[name] = kind
    return kind


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
        """Build the head; decide the framing (``length`` is the whole body's size when known).

        Sets ``status``, ``header_count``, ``send_body``, ``chunked``, ``declared`` (the length the
        head announces) and ``keep_alive``. A response with its own length keeps it; on a reusable
        connection one without gets ``Content-Length`` when ``length`` is known, else chunked framing
        on HTTP/1.1, else the close ends it. HTTP sockets say ``Connection: close`` when it closes.
        """
        status = self.status_line
        code = _STATUS_CODES.get(status) if type(status) is str else None
        if code is None:
            code = _status_code(status)
        headers = self.headers
        if type(headers) is not list:
            raise ResponseError(f"response headers must be a list, not {type(headers).__name__}")
        parts = [self.protocol, " ", status]
        declared = connection = None
        coded = False
        kinds = _NAME_KINDS
        for item in headers:
            if type(item) is not tuple or len(item) != 2:
                raise ResponseError(f"response header {item!r:.200} is not a (name, value) tuple")
            name, value = item
            kind = kinds.get(name) if type(name) is str else None
            if kind is None:
                kind = _name_kind(name, value)
            if kind:
                if kind == 1:
                    declared = value
                elif kind == 2:
                    connection = value.lower() if type(value) is str else value
                else:
                    coded = True
            parts += ("\r\n", name, ": ", value)
        lines = len(headers)
        self.header_count = lines
        self.status = code
        # Framing: how the body is delimited, whether the connection stays open.
        bodiless = code < 200 or code == 204 or code == 304
        head_only = self.head_only
        self.send_body = not head_only and not bodiless
        keep = self.reusable and connection != "close" and not coded
        if declared is not None:
            try:
                self.declared = int(declared)
            except (ValueError, TypeError):
                keep = False  # a length nobody can trust: let the close delimit the body
        elif keep and not bodiless and not head_only:
            if length is not None:
                parts += ("\r\nContent-Length: ", str(length))
                self.declared = length
                lines += 1
            elif self.protocol == "HTTP/1.1":
                parts.append("\r\nTransfer-Encoding: chunked")
                self.chunked = True
                lines += 1
            else:
                keep = False
        self.keep_alive = keep
        if self.http and connection is None:
            if not keep:
                parts.append("\r\nConnection: close\r\n\r\n")
                lines += 1
            elif self.protocol == "HTTP/1.0":
                parts.append("\r\nConnection: keep-alive\r\n\r\n")
                lines += 1
            else:
                parts.append("\r\n\r\n")
        else:
            parts.append("\r\n\r\n")
        try:
            text = "".join(parts)
        except TypeError:
            raise ResponseError(f"response header value is not a str in {headers!r:.200}") from None
        if text.count("\n") != lines + 2 or text.count("\r") != lines + 2:
            raise ResponseError(f"CR or LF inside the response status or a header: {text[:200]!r}")
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError:
            raise ResponseError(f"response status or header is not latin-1: {text[:200]!r}") from None

    # -- the body ----------------------------------------------------------------------------------

    def _sendall(self, data) -> None:
        try:
            self.conn.sendall(data)
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
            self._sendall(head)
            self._sendall(body)
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
            if prefix:
                self._sendall(prefix)
            self._sendall(piece)
            if suffix:
                self._sendall(suffix)
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
