"""Wire codecs: bytes in, request out; response out, bytes out.

This package is the request hot path of a worker and knows nothing about WSGI applications, plugins or
configuration. It holds three modules:

- :mod:`uwkernel.proto.uwsgi` — the uwsgi binary protocol (a 4-byte header, then length-prefixed vars):
  what nginx's ``uwsgi_pass`` speaks, plus the array encoding RPC uses and the packets the spooler,
  signal and RPC plugins exchange.
- :mod:`uwkernel.proto.http` — HTTP/1.0 and HTTP/1.1 request heads into CGI/WSGI variables, and
  response heads built as one ``bytes`` object.
- :mod:`uwkernel.proto.body` — ``wsgi.input`` objects over a socket (Content-Length and chunked
  bodies) that never read past the body, so a keep-alive connection's next request survives.

A worker's loop is, for HTTP::

    head, rest = http.read_head(sock, 4096, 65536, data=pending)
    environ, keep_alive, expect_continue, chunked = http.parse_head(head)
    body = ChunkedBody(sock, rest) if chunked else ContentLengthBody(sock, rest, length)
    ...                                   # call the app, send response_head(...)[0] + body
    pending = body.drain()                # bytes already read that belong to the next request

and for uwsgi: ``read_packet`` then ``parse_vars`` then ``ContentLengthBody`` (nginx closes the
connection after each response, so there is no next request).

Every malformed input raises :class:`ProtocolError` (carrying the HTTP status to answer with), or
:class:`ConnectionClosed` when the peer went away; nothing else escapes from parsing bytes, except the
socket's own ``OSError`` (a timeout set by the caller, a reset connection).
"""
from __future__ import annotations

__all__ = ["ProtocolError", "ConnectionClosed"]


class ProtocolError(Exception):
    """Bytes that break the protocol; ``status`` is the HTTP status to reply with (when one can reply).

    ``str(error)`` is a one-line message fit for the log.
    """

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class ConnectionClosed(ProtocolError, ConnectionError):
    """The peer closed the connection before a whole packet, head or body arrived.

    ``clean`` is true when nothing of a new message had been received: the ordinary end of a
    keep-alive connection, not worth a log line. It is also a :class:`ConnectionError` (so an
    ``OSError``), which is what applications reading ``wsgi.input`` expect from a vanished client.
    """

    def __init__(self, message: str = "connection closed by peer", *, clean: bool = False):
        super().__init__(message)
        self.clean = clean
