"""modifier1 173 on the wire: every modifier2 of the server, and the client, over real sockets."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from uwkernel.proto.uwsgi import build_packet, encode_array, encode_vars, parse_header, parse_vars, read_packet
from uwkernel_rpc import registry, wire


@pytest.fixture(autouse=True)
def functions(monkeypatch):
    """A fresh registry with a few functions."""
    table = registry.Registry()
    monkeypatch.setattr(wire, "REGISTRY", table)
    table.register("hello", lambda *args: b"hello " + b",".join(args))
    table.register("big", lambda n: b"z" * int(n))
    table.register("none", lambda: None)
    table.register("boom", lambda: 1 / 0)
    return table


def _serve(modifier2: int, payload: bytes) -> bytes:
    """Run the handler on one end of a socketpair; everything it sent."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        sent = wire.make_handler(None)(theirs, 173, modifier2, payload, b"")
        theirs.close()
        data = b""
        while chunk := ours.recv(1 << 20):
            data += chunk
    assert sent == len(data)
    return data


def test_modifier2_0_small_result():
    data = _serve(0, encode_array([b"hello", b"a", b"b"]))
    assert parse_header(data) == (173, 9, 0)
    assert data[4:] == b"hello a,b"


def test_modifier2_0_result_over_64k_is_announced_with_modifier2_5():
    data = _serve(0, encode_array([b"big", b"100000"]))
    modifier1, size, modifier2 = parse_header(data)
    assert (modifier1, modifier2) == (173, 5)
    assert parse_vars(data[4:4 + size]) == {"CONTENT_LENGTH": "100000"}
    assert data[4 + size:] == b"z" * 100000


def test_modifier2_1_is_raw():
    assert _serve(1, encode_array([b"hello", b"x"])) == b"hello x"


@pytest.mark.parametrize("name", [b"missing", b"none", b"boom"])
def test_no_result_closes_without_reply(name):
    assert _serve(0, encode_array([name])) == b""


def test_http_mode():
    data = _serve(2, encode_vars({"PATH_INFO": "/hello/a/b", "SERVER_PROTOCOL": "HTTP/1.1"}))
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"Content-Length: 9" in head
    assert b"Content-Type: application/binary" in head
    assert body == b"hello a,b"
    assert _serve(2, encode_vars({"PATH_INFO": "/missing"})).startswith(b"HTTP/1.0 404")
    assert _serve(2, encode_vars({"PATH_INFO": "/"})).startswith(b"HTTP/1.0 500")
    accept = _serve(2, encode_vars({"PATH_INFO": "/hello", "HTTP_ACCEPT": "text/plain"}))
    assert b"Content-Type: text/plain" in accept


def test_request_packet_limits():
    assert wire.request_packet("f", ["a"]) == build_packet(173, encode_array([b"f", b"a"]))
    with pytest.raises(ValueError):
        wire.request_packet("f", ["x" * 70000])
    with pytest.raises(ValueError):
        wire.request_packet("f", ["a"] * 256)
    with pytest.raises(ValueError):
        wire.request_packet("f" * 256, [])


@pytest.fixture
def server():
    """A one-thread TCP server that runs the handler on each connection; its "host:port"."""
    listener = socket.create_server(("127.0.0.1", 0))
    handler = wire.make_handler(None)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                modifier1, modifier2, payload, leftover = read_packet(conn, 65535)
                handler(conn, modifier1, modifier2, payload, leftover)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()


def test_client_against_the_handler(server):
    assert wire.remote_call(server, "hello", ["a", b"b"], 4) == b"hello a,b"
    assert wire.remote_call(server, b"big", [b"300000"], 4) == b"z" * 300000
    assert wire.remote_call(server, "missing", [], 4) is None


def test_client_failures_are_none_and_bounded():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        refused = f"127.0.0.1:{s.getsockname()[1]}"
    assert wire.remote_call(refused, "f", [], 1) is None
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (backlog) and never answers
    with silent:
        start = time.monotonic()
        assert wire.remote_call(f"127.0.0.1:{silent.getsockname()[1]}", "f", [], 0.5) is None
        assert time.monotonic() - start < 3


def test_client_over_a_unix_socket(tmp_path):
    path = str(tmp_path / "rpc.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()

    def answer():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(build_packet(173, b"pong"))

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    with listener:
        assert wire.remote_call(path, "ping", [], 4) == b"pong"
    thread.join(5)
