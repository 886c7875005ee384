"""Request bodies as ``wsgi.input``: file-like readers over a socket and the bytes already read.

:class:`ContentLengthBody` serves exactly ``CONTENT_LENGTH`` bytes and never asks the socket for more
than the body still owes, so a pipelined next request stays where it is. :class:`ChunkedBody` decodes
``Transfer-Encoding: chunked``; it reads the socket in blocks and keeps what it read past the final
chunk. Either way :meth:`RequestBody.drain` discards what the application left unread and returns
the bytes that belong to the next request on the connection.

``read(size)`` returns ``size`` bytes unless the body ends first (as a buffered file does), which is
what applications calling ``read(int(environ["CONTENT_LENGTH"]))`` rely on. A body cut short by the
client raises :class:`~uwkernel.proto.ConnectionClosed` (an ``OSError``); the caller's socket timeout
bounds every wait.
"""
from __future__ import annotations

import socket
from collections.abc import Iterator

from . import ConnectionClosed, ProtocolError

__all__ = ["RequestBody", "ContentLengthBody", "ChunkedBody"]

#: Largest read asked of the socket at once.
RECV_SIZE = 65536
#: Longest chunk-size line (extensions included) and largest trailer section accepted.
MAX_CHUNK_LINE = 4096
MAX_TRAILERS = 65536

_HEX_DIGITS = b"0123456789abcdefABCDEF"


class RequestBody:
    """The reading side shared by both bodies: ``read``, ``readline``, ``readlines``, iteration, ``drain``.

    Subclasses implement :meth:`_fill`, which returns the next piece of body (``b""`` at its end).
    """

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._buf = b""  # body bytes not yet handed out start at self._pos
        self._pos = 0

    def _fill(self) -> bytes:
        """The next piece of body, never empty before the end; ``b""`` once the body is complete."""
        raise NotImplementedError

    def _surplus(self) -> bytes:
        """Bytes read past the end of a complete body (the start of the next request)."""
        raise NotImplementedError

    def read(self, size: int | None = -1) -> bytes:
        """Read ``size`` bytes (fewer only at the end of the body).

        A negative or None ``size`` reads all the rest.
        """
        buf, pos = self._buf, self._pos
        if size is None or size < 0:
            parts = [buf[pos:]]
            self._buf, self._pos = b"", 0
            while piece := self._fill():
                parts.append(piece)
            return b"".join(parts)
        end = pos + size
        if end <= len(buf):
            self._pos = end
            return buf[pos:end]
        parts = [buf[pos:]]
        need = end - len(buf)
        self._buf, self._pos = b"", 0
        while need > 0:
            piece = self._fill()
            if not piece:
                break
            if len(piece) > need:
                self._buf, self._pos = piece, need
                piece = piece[:need]
            parts.append(piece)
            need -= len(piece)
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line, its ``\\n`` included; ``b""`` at the end of the body.

        At most ``size`` bytes are returned unless ``size`` is negative or None.
        """
        if size is None or size < 0:
            size = -1
        buf, pos = self._buf, self._pos
        newline = buf.find(b"\n", pos)
        if newline >= 0 and (size < 0 or newline < pos + size):
            self._pos = newline + 1
            return buf[pos : newline + 1]
        parts = []
        while True:
            end = len(buf) if size < 0 else min(len(buf), pos + size)
            newline = buf.find(b"\n", pos, end)
            if newline >= 0:
                end = newline + 1
            parts.append(buf[pos:end])
            self._pos = end
            if size >= 0:
                size -= end - pos
            if newline >= 0 or size == 0:
                break
            buf, pos = self._fill(), 0
            self._buf, self._pos = buf, 0
            if not buf:
                break
        return b"".join(parts)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read lines until the end of the body, or until they total ``hint`` bytes when it is positive."""
        lines = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        """Iterate over the lines of the body."""
        while line := self.readline():
            yield line

    def drain(self) -> bytes:
        """Discard the rest of the body and return the bytes already read that follow it.

        Call it before reading the next request of a keep-alive connection, and pass what it returns
        as that request's first bytes.
        """
        self._buf, self._pos = b"", 0
        while self._fill():
            pass
        return self._surplus()


class ContentLengthBody(RequestBody):
    """A body of exactly ``length`` bytes: ``leftover`` (bytes read with the head) first, then the socket."""

    def __init__(self, sock: socket.socket, leftover: bytes, length: int):
        super().__init__(sock)
        leftover = bytes(leftover)
        self._length = length
        if len(leftover) >= length:
            self._buf = leftover[:length]
            self._after = leftover[length:]
            self._remaining = 0
        else:
            self._buf = leftover
            self._after = b""
            self._remaining = length - len(leftover)

    def _fill(self) -> bytes:
        """Receive up to what the body still owes; a closed connection before that is an error."""
        if not self._remaining:
            return b""
        piece = self._sock.recv(min(self._remaining, RECV_SIZE))
        if not piece:
            raise ConnectionClosed(
                f"request body ended early: {self._length - self._remaining} of {self._length} bytes"
            )
        self._remaining -= len(piece)
        return piece

    def _surplus(self) -> bytes:
        """The part of ``leftover`` beyond the body: the next (pipelined) request."""
        return self._after


class ChunkedBody(RequestBody):
    """A ``Transfer-Encoding: chunked`` body, decoded; chunk extensions and trailers are ignored.

    A malformed chunk size, missing CRLF after chunk data or an oversized extension or trailer
    section raises :class:`ProtocolError` (400); more than ``max_size`` decoded bytes raises it with
    413.
    """

    def __init__(self, sock: socket.socket, leftover: bytes, max_size: int | None = None):
        super().__init__(sock)
        self._raw = bytes(leftover)  # framed bytes from the wire, not yet decoded, from self._raw_pos
        self._raw_pos = 0
        self._chunk_left = 0  # data bytes of the current chunk still to come
        self._in_chunk = False  # a chunk's data has started, so its CRLF is due when it ends
        self._done = False
        self._max_size = max_size
        self._total = 0

    def _recv(self) -> None:
        """Append one socket read to the framed bytes, dropping what was already decoded."""
        more = self._sock.recv(RECV_SIZE)
        if not more:
            raise ConnectionClosed("chunked request body ended early")
        self._raw = self._raw[self._raw_pos :] + more
        self._raw_pos = 0

    def _line(self, limit: int) -> bytes:
        """The next framing line without its line ending (CRLF, or a bare LF)."""
        while True:
            newline = self._raw.find(b"\n", self._raw_pos)
            if newline >= 0:
                if newline - self._raw_pos > limit:
                    raise ProtocolError("chunk framing line too long")
                break
            if len(self._raw) - self._raw_pos > limit:
                raise ProtocolError("chunk framing line too long")
            self._recv()
        line = self._raw[self._raw_pos : newline]
        self._raw_pos = newline + 1
        return line[:-1] if line[-1:] == b"\r" else line

    def _fill(self) -> bytes:
        """Decode framing until some chunk data is available, and return it."""
        if self._chunk_left:
            if self._raw_pos >= len(self._raw):
                self._recv()
            start = self._raw_pos
            end = min(len(self._raw), start + self._chunk_left)
            self._raw_pos = end
            self._chunk_left -= end - start
            return self._raw[start:end]
        if self._done:
            return b""
        if self._in_chunk:
            if self._line(MAX_CHUNK_LINE):
                raise ProtocolError("chunk data longer than its chunk size")
            self._in_chunk = False
        size_field = self._line(MAX_CHUNK_LINE).split(b";", 1)[0].rstrip(b" \t")
        if not size_field or size_field.strip(_HEX_DIGITS) or len(size_field) > 16:
            raise ProtocolError(f"invalid chunk size {size_field[:32]!r}")
        size = int(size_field, 16)
        if not size:
            trailers = 0
            while line := self._line(MAX_TRAILERS):
                trailers += len(line) + 2
                if trailers > MAX_TRAILERS:
                    raise ProtocolError(f"chunked trailers larger than {MAX_TRAILERS} bytes")
            self._done = True
            return b""
        self._total += size
        if self._max_size is not None and self._total > self._max_size:
            raise ProtocolError(f"chunked request body larger than {self._max_size} bytes", 413)
        self._chunk_left = size
        self._in_chunk = True
        return self._fill()

    def _surplus(self) -> bytes:
        """The framed bytes read past the last chunk's trailers: the next request's start."""
        return self._raw[self._raw_pos :]
