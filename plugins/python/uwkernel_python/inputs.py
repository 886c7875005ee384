"""``wsgi.input`` beyond the codec's body readers: no body, ``Expect: 100-continue``, ``post-buffering``."""
from __future__ import annotations

import io

from uwkernel.proto.http import CONTINUE_100

#: Bytes copied at a time when buffering a body to a temp file.
_COPY_SIZE = 65536


class EmptyInput:
    """The ``wsgi.input`` of a request without a body: every read returns nothing. Stateless, so shared."""

    __slots__ = ()

    def read(self, size: int | None = -1) -> bytes:
        """Return ``b""``."""
        return b""

    def readline(self, size: int | None = -1) -> bytes:
        """Return ``b""``."""
        return b""

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Return ``[]``."""
        return []

    def __iter__(self):
        """Iterate over no lines."""
        return iter(())


EMPTY_INPUT = EmptyInput()


class ContinueInput:
    """A body whose client sent ``Expect: 100-continue``: ``100 Continue`` goes out at the first read.

    ``answered`` tells the loop whether the client was invited to send the body; if not, the body may
    never come and the connection cannot be reused.
    """

    __slots__ = ("body", "conn", "answered")

    def __init__(self, body, conn):
        self.body = body
        self.conn = conn
        self.answered = False

    def _ready(self):
        if not self.answered:
            self.answered = True
            self.conn.sendall(CONTINUE_100)
        return self.body

    def read(self, size: int | None = -1) -> bytes:
        """Read from the body (answering 100 Continue first)."""
        return self._ready().read(size)

    def readline(self, size: int | None = -1) -> bytes:
        """Read a line from the body (answering 100 Continue first)."""
        return self._ready().readline(size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read the body's lines (answering 100 Continue first)."""
        return self._ready().readlines(hint)

    def __iter__(self):
        """Iterate over the body's lines (answering 100 Continue first)."""
        return iter(self._ready())


def buffer_body(body, length: int | None, threshold: int):
    """Read the whole body before the app runs (``post-buffering``); return ``(file, length)``.

    A body of known ``length`` under ``threshold`` bytes is kept in memory, any other in an anonymous
    temp file; either is positioned at its start. A client that stops early raises
    :class:`~uwkernel.proto.ConnectionClosed`.
    """
    if length is not None and length < threshold:
        return io.BytesIO(body.read(length)), length
    import tempfile  # here: most instances never spool a body, and it costs milliseconds at start-up

    spool = tempfile.TemporaryFile()
    total = 0
    while piece := body.read(_COPY_SIZE):
        spool.write(piece)
        total += len(piece)
    spool.seek(0)
    return spool, total


def content_length(value: str | None) -> int:
    """A uwsgi packet's CONTENT_LENGTH as uWSGI reads it: its leading digits, 0 when there are none."""
    if not value:
        return 0
    if value.isascii() and value.isdigit():
        return int(value)
    digits = len(value) - len(value.lstrip("0123456789"))
    return int(value[:digits]) if digits else 0
