"""Shared helpers for the wire-codec tests: real socket pairs and a socket that hands out set pieces."""
from __future__ import annotations

import socket
import threading
import time
from collections import deque

import pytest

#: Every socket read in these tests gives up after this many seconds instead of hanging.
TIMEOUT = 5.0


class ScriptedSocket:
    """A stand-in for a socket whose ``recv`` returns the given pieces, one (at most) per call.

    Once the pieces run out ``recv`` returns ``b""`` (end of stream). ``recv_sizes`` records what
    each call asked for; ``unread`` is what no call took.
    """

    def __init__(self, *pieces: bytes):
        self.pieces = deque(p for p in pieces if p)
        self.recv_sizes: list[int] = []

    def recv(self, size: int) -> bytes:
        """Return up to ``size`` bytes of the next piece."""
        assert size > 0, "recv(0) would look like end of stream"
        self.recv_sizes.append(size)
        if not self.pieces:
            return b""
        piece = self.pieces.popleft()
        if len(piece) > size:
            self.pieces.appendleft(piece[size:])
            piece = piece[:size]
        return piece

    @property
    def unread(self) -> bytes:
        """Bytes no ``recv`` has returned yet."""
        return b"".join(self.pieces)


@pytest.fixture(scope="session")
def scripted():
    """The :class:`ScriptedSocket` class (session-scoped, so Hypothesis tests may use it)."""
    return ScriptedSocket


@pytest.fixture
def sockpair():
    """A connected socket pair ``(client, server)``, both with a timeout, closed afterwards."""
    client, server = socket.socketpair()
    client.settimeout(TIMEOUT)
    server.settimeout(TIMEOUT)
    yield client, server
    client.close()
    server.close()


@pytest.fixture
def send_pieces():
    """``send_pieces(sock, pieces, close=False)``: send each piece from a thread, pausing between them.

    The pauses make the reader see the pieces in separate ``recv`` calls; ``close`` shuts the
    writing side down afterwards (end of stream for the reader). At teardown a writer still blocked
    (the test stopped reading, usually because it failed) is unblocked by shutting its socket down.
    """
    writers = []
    stopping = threading.Event()

    def start(sock: socket.socket, pieces: list[bytes], close: bool = False) -> None:
        def run():
            try:
                for piece in pieces:
                    sock.sendall(piece)
                    time.sleep(0.002)
                if close:
                    sock.shutdown(socket.SHUT_WR)
            except OSError:
                if not stopping.is_set():
                    raise

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        writers.append((thread, sock))

    yield start
    stopping.set()
    for thread, sock in writers:
        thread.join(1.0)
        if thread.is_alive():
            sock.shutdown(socket.SHUT_RDWR)
            thread.join(TIMEOUT)
        assert not thread.is_alive(), "the writer thread is stuck"


def _use_codec(request, monkeypatch, module, *names: str) -> str:
    """With param "python", hide the C functions ``module.NAME`` so the Python references serve alone;
    with "c", fail when the extension was not built."""
    for name in names:
        if request.param == "python":
            monkeypatch.setattr(module, name, None)
        elif getattr(module, name) is None:
            pytest.fail("the C codec uwkernel.proto._speedups was not built (needs a C compiler at install)")
    return request.param


@pytest.fixture(params=["c", "python"])
def vars_codec(request, monkeypatch):
    """Run a test with the C vars codec (``_speedups``: ``parse_vars``, ``encode_vars``, ``encode_packet``)
    and again with the Python references alone."""
    from uwkernel.proto import uwsgi
    return _use_codec(request, monkeypatch, uwsgi, "_parse_vars_c", "_encode_vars_c")


def _use_entry_point(request, monkeypatch, name: str) -> str:
    """With param "python", make ``uwkernel.proto.http.NAME`` its Python reference ``NAME_py`` alone (tests
    call it as ``http.NAME``); with "c", fail when the extension was not built."""
    from uwkernel.proto import http
    if request.param == "python":
        monkeypatch.setattr(http, name, getattr(http, f"{name}_py"))
    elif getattr(http, f"_{name}_c") is None:
        pytest.fail("the C codec uwkernel.proto._speedups was not built (needs a C compiler at install)")
    return request.param


@pytest.fixture(params=["c", "python"])
def head_codec(request, monkeypatch):
    """Run a test with the C ``parse_head`` (``_speedups``) and again with the Python reference alone."""
    return _use_entry_point(request, monkeypatch, "parse_head")


@pytest.fixture(params=["c", "python"])
def response_codec(request, monkeypatch):
    """Run a test with the C ``response_head`` (``_speedups``) and again with the Python reference alone."""
    return _use_entry_point(request, monkeypatch, "response_head")
