"""HTTP sockets, served in-process: keep-alive, pipelining, bodies, 100-continue, post-buffering, bad input."""
from __future__ import annotations

import hashlib
import socket

import pytest

ECHO_APP = '''
import hashlib

def application(environ, start_response):
    body = environ["wsgi.input"].read()
    info = "%s %s %s %s" % (environ["REQUEST_METHOD"], environ.get("CONTENT_LENGTH"), len(body),
                            hashlib.sha1(body).hexdigest())
    out = info.encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(out)))])
    return [out]
'''


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def test_keep_alive_and_pipelining(inprocess, wire):
    server = inprocess(ECHO_APP)
    with server.connect() as client:
        client.sendall(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                       b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body, rest = wire.read_response(client)
        assert body == f"POST 5 5 {sha1(b'hello')}".encode()
        assert "connection" not in headers
        status, headers, body, rest = wire.read_response(client, rest)
        assert body == f"GET None 0 {sha1(b'')}".encode()
        for _ in range(5):
            client.sendall(b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, body, rest = wire.read_response(client, rest)
            assert status == 200
        client.sendall(b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert wire.read_response(client, rest)[1]["connection"] == "close"
        assert client.recv(10) == b""


def test_unread_body_is_skipped_before_the_next_request(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            start_response("200 OK", [("Content-Length", "2")])
            return [b"ok"]
    ''')
    with server.connect() as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789"
                       b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                       b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        rest = b""
        for _ in range(3):
            status, _, body, rest = wire.read_response(client, rest)
            assert (status, body) == (200, b"ok")


def test_chunked_request_body(inprocess, wire):
    server = inprocess(ECHO_APP)
    data = b"x" * 100000
    framed = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 7000]), data[i:i + 7000]) for i in range(0, len(data), 7000))
    with server.connect() as client:
        client.sendall(b"PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + framed + b"0\r\n\r\n")
        body = wire.read_response(client)[2]
    assert body == f"PUT None {len(data)} {sha1(data)}".encode()


def test_expect_100_continue_is_answered_when_the_app_reads(inprocess, wire):
    server = inprocess(ECHO_APP)
    with server.connect() as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert client.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        client.sendall(b"body")
        assert wire.read_response(client)[2] == f"POST 4 4 {sha1(b'body')}".encode()


def test_expect_100_continue_unanswered_closes_the_connection(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            start_response("413 Payload Too Large", [("Content-Length", "0")])
            return []
    ''')
    with server.connect() as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\nExpect: 100-continue\r\n\r\n")
        data = wire.recv_until_closed(client)
    assert data.startswith(b"HTTP/1.1 413") and b"100 Continue" not in data


@pytest.mark.parametrize("size", [10, 5000])
def test_post_buffering_in_memory_and_in_a_file(inprocess, wire, size):
    server = inprocess('''
        def application(environ, start_response):
            stream = environ["wsgi.input"]
            kind = "file" if hasattr(stream, "fileno") and not hasattr(stream, "getvalue") else "memory"
            body = stream.read()
            out = ("%s %s %d" % (kind, environ["CONTENT_LENGTH"], len(body))).encode()
            start_response("200 OK", [("Content-Length", str(len(out)))])
            return [out]
    ''', "http11", "--post-buffering", "1000")
    with server.connect() as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size + b"y" * size)
        body = wire.read_response(client)[2]
    assert body == (f"memory {size} {size}" if size < 1000 else f"file {size} {size}").encode()


def test_post_buffering_gives_chunked_bodies_a_length(inprocess, wire):
    server = inprocess(ECHO_APP, "http11", "--post-buffering", "8")
    with server.connect() as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        assert wire.read_response(client)[2] == f"POST 11 11 {sha1(b'hello world')}".encode()


def test_http_socket_serves_one_request_per_connection(inprocess, wire):
    server = inprocess(ECHO_APP, "http")
    with server.connect() as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = wire.recv_until_closed(client)
    assert data.count(b"HTTP/1.1 200 OK") == 1 and b"Connection: close\r\n" in data


@pytest.mark.parametrize("request_bytes, status", [
    (b"NOT A REQUEST\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\n\r\n", 505),
    (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n", 431),
])
def test_malformed_requests_get_an_error_and_are_logged(inprocess, wire, capfd, request_bytes, status):
    server = inprocess(ECHO_APP)
    with server.connect() as client:
        client.sendall(request_bytes)
        data = wire.recv_until_closed(client)
    assert data.startswith(b"HTTP/1.1 %d " % status) and b"Connection: close" in data
    wire.wait_until(lambda: "invalid HTTP request from 127.0.0.1" in capfd.readouterr().err)
    with server.connect() as client:  # the worker goes on serving
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wire.read_response(client)[0] == 200


def test_bad_chunked_body_read_by_the_app_gets_400(inprocess, wire):
    server = inprocess(ECHO_APP)
    with server.connect() as client:
        client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
        data = wire.recv_until_closed(client)
    assert data.startswith(b"HTTP/1.1 400 ")
    assert server.worker.scoreboard.read(server.worker.id).exceptions == 0


def test_client_gone_mid_body_is_not_an_app_exception(inprocess, wire, capfd):
    server = inprocess(ECHO_APP)
    client = server.connect()
    client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a bit")
    client.shutdown(socket.SHUT_WR)
    wire.recv_until_closed(client)
    client.close()
    wire.wait_until(lambda: "POST / (127.0.0.1)" in capfd.readouterr().err)
    assert server.worker.scoreboard.read(server.worker.id).exceptions == 0


def test_a_stopping_worker_ends_keep_alive(inprocess, wire):
    server = inprocess(ECHO_APP)
    with server.connect() as client:
        server.worker.stopping = True
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, _, _ = wire.read_response(client)
        assert (status, headers["connection"]) == (200, "close")
