"""Garbage over real connections never breaks a worker: the next normal request always succeeds."""
from __future__ import annotations

import socket
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

APP = '''
def application(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body) + 2))])
    return [b"ok", body]
'''

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

http_garbage = st.one_of(
    st.binary(max_size=3000),
    st.builds(lambda method, target, version, headers, body: method + b" " + target + b" " + version + b"\r\n"
              + headers + b"\r\n\r\n" + body,
              st.sampled_from([b"GET", b"POST", b"G\x00T", b"", b"PUT"]),
              st.binary(max_size=60),
              st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/9.9", b"HTTP/1.1 extra", b""]),
              st.lists(st.sampled_from([b"Content-Length: 5", b"Content-Length: -1", b"Transfer-Encoding: chunked",
                                        b"Transfer-Encoding: gzip", b"Expect: 100-continue", b"Host:", b": x",
                                        b"X-\x01: y", b"Connection: keep-alive"]), max_size=4).map(b"\r\n".join),
              st.binary(max_size=200)),
)

uwsgi_garbage = st.one_of(
    st.binary(max_size=3000),
    st.builds(lambda modifier1, size, modifier2, payload: struct.pack("<BHB", modifier1, size, modifier2) + payload,
              st.sampled_from([0, 30, 5, 99, 255]), st.integers(0, 65535), st.integers(0, 255),
              st.binary(max_size=300)),
    st.builds(lambda pairs: struct.pack("<BHB", 0, sum(4 + len(k) + len(v) for k, v in pairs), 0)
              + b"".join(struct.pack("<H", len(k)) + k + struct.pack("<H", len(v)) + v for k, v in pairs),
              st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=40)), max_size=6)),
)


def send_garbage(port: int, data: bytes) -> None:
    """Send ``data``, stop writing, and read whatever comes back until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        except (ConnectionResetError, BrokenPipeError):
            pass


def normal_http_request(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def normal_uwsgi_request(port: int, wire) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(wire.uwsgi_request({"REQUEST_METHOD": "POST", "PATH_INFO": "/", "CONTENT_LENGTH": "3"}, b"abc"))
        return wire.recv_until_closed(s)


def test_http_garbage_then_a_normal_request(uwkernel, write_app, port):
    write_app(APP)
    server = uwkernel("--http11-socket", f"127.0.0.1:{port}", "--wsgi-file", "app.py", "--socket-timeout", "2",
                      "--disable-logging", port=port)

    @FUZZ
    @given(data=http_garbage)
    def check(data):
        send_garbage(port, data)
        reply = normal_http_request(port)
        assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(b"okabc")

    check()
    assert server.proc.poll() is None
    assert "unexpected error" not in server.log_text() and "Traceback" not in server.log_text()


def test_uwsgi_garbage_then_a_normal_request(uwkernel, write_app, port, wire):
    write_app(APP)
    server = uwkernel("--socket", f"127.0.0.1:{port}", "--wsgi-file", "app.py", "--socket-timeout", "2",
                      "--disable-logging", port=port)

    @FUZZ
    @given(data=uwsgi_garbage)
    def check(data):
        send_garbage(port, data)
        reply = normal_uwsgi_request(port, wire)
        assert reply.startswith(b"HTTP/1.0 200 OK") and reply.endswith(b"okabc")

    check()
    assert server.proc.poll() is None
    assert "unexpected error" not in server.log_text() and "Traceback" not in server.log_text()
