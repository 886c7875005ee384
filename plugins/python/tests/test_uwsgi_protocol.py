"""uwsgi-protocol sockets, served in-process: packets built by hand (uwsgi-facts §1), bodies, modifiers."""
from __future__ import annotations

import json
import struct

import pytest

APP = '''
import json

def application(environ, start_response):
    body = environ["wsgi.input"].read()
    info = {key: environ.get(key) for key in ("REQUEST_METHOD", "PATH_INFO", "SCRIPT_NAME", "QUERY_STRING",
                                               "wsgi.url_scheme", "HTTP_X_CUSTOM", "CONTENT_LENGTH")}
    info["body"] = body.decode("latin-1")
    out = json.dumps(info).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]
'''

NGINX_VARS = {
    "QUERY_STRING": "a=1", "REQUEST_METHOD": "POST", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "11",
    "REQUEST_URI": "/hello?a=1", "PATH_INFO": "/hello", "DOCUMENT_ROOT": "/srv", "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "10.0.0.1", "REMOTE_PORT": "5000", "SERVER_PORT": "80", "SERVER_NAME": "example.org",
    "HTTP_HOST": "example.org", "HTTP_X_CUSTOM": "yes",
}


def split(response: bytes) -> tuple[str, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def test_request_with_body_is_answered_in_raw_http_and_closed(inprocess, wire):
    server = inprocess(APP, "uwsgi")
    with server.connect() as client:
        client.sendall(wire.uwsgi_request(NGINX_VARS, b"hello world"))
        head, body = split(wire.recv_until_closed(client))
    assert head.startswith("HTTP/1.1 200 OK\r\n")
    assert "Connection" not in head  # nginx needs no such header: the close ends the response
    info = json.loads(body)
    assert info == {"REQUEST_METHOD": "POST", "PATH_INFO": "/hello", "SCRIPT_NAME": "", "QUERY_STRING": "a=1",
                    "wsgi.url_scheme": "http", "HTTP_X_CUSTOM": "yes", "CONTENT_LENGTH": "11",
                    "body": "hello world"}


def test_body_arriving_after_the_packet(inprocess, wire):
    server = inprocess(APP, "uwsgi")
    big = b"z" * 300000
    with server.connect() as client:
        client.sendall(wire.uwsgi_request({**NGINX_VARS, "CONTENT_LENGTH": str(len(big))}))
        client.sendall(big)
        info = json.loads(split(wire.recv_until_closed(client))[1])
    assert info["body"] == big.decode()


def test_missing_server_protocol_answers_http10(inprocess, wire):
    server = inprocess(APP, "uwsgi")
    with server.connect() as client:
        client.sendall(wire.uwsgi_request({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}))
        assert wire.recv_until_closed(client).startswith(b"HTTP/1.0 200 OK\r\n")


@pytest.mark.parametrize("variables, scheme", [
    ({"HTTPS": "on"}, "https"), ({"HTTPS": "1"}, "https"), ({"HTTPS": "off"}, "http"),
    ({"UWSGI_SCHEME": "https"}, "https"), ({}, "http"),
])
def test_url_scheme(inprocess, wire, variables, scheme):
    server = inprocess(APP, "uwsgi")
    with server.connect() as client:
        client.sendall(wire.uwsgi_request({"REQUEST_METHOD": "GET", "PATH_INFO": "/", **variables}))
        assert json.loads(split(wire.recv_until_closed(client))[1])["wsgi.url_scheme"] == scheme


def test_modifier1_30_cuts_script_name_from_path_info(inprocess, wire):
    server = inprocess(APP, "uwsgi")
    with server.connect() as client:
        client.sendall(wire.uwsgi_request({"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/app", "PATH_INFO": "/app/x"},
                                          modifier1=30))
        info = json.loads(split(wire.recv_until_closed(client))[1])
    assert (info["SCRIPT_NAME"], info["PATH_INFO"]) == ("/app", "/x")


def test_other_modifier1_goes_to_its_handler(inprocess, wire):
    calls = []

    def handler(conn, modifier1, modifier2, payload, leftover):
        calls.append((modifier1, modifier2, payload, leftover))
        conn.sendall(struct.pack("<BHB", 255, 0, 1))
        return 4

    server = inprocess(APP, "uwsgi", handlers={110: handler})
    with server.connect() as client:
        client.sendall(struct.pack("<BHB", 110, 0, 17))
        assert wire.recv_until_closed(client) == struct.pack("<BHB", 255, 0, 1)
    assert calls == [(110, 17, b"", b"")]


def test_unknown_modifier1_closes_and_logs(inprocess, wire, capfd):
    server = inprocess(APP, "uwsgi")
    with server.connect() as client:
        client.sendall(wire.uwsgi_request({"A": "b"}, modifier1=99))
        assert wire.recv_until_closed(client) == b""
    wire.wait_until(lambda: "unavailable modifier requested: 99" in capfd.readouterr().err)


@pytest.mark.parametrize("packet", [
    struct.pack("<BHB", 0, 10, 0) + b"\x00\x00abc",  # empty key
    struct.pack("<BHB", 0, 10, 0) + b"\x05\x00ab",  # truncated, then the client goes
    struct.pack("<BHB", 0, 60000, 0),  # over buffer-size
    struct.pack("<BHB", 0, 0, 0),  # empty request
    b"\x00\x01",  # half a header
])
def test_bad_packets_close_the_connection(inprocess, wire, packet):
    server = inprocess(APP, "uwsgi")
    with server.connect() as client:
        client.sendall(packet)
        client.shutdown(1)
        assert wire.recv_until_closed(client) == b""
    with server.connect() as client:
        client.sendall(wire.uwsgi_request({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}))
        assert wire.recv_until_closed(client).startswith(b"HTTP/1.0 200")


def test_max_vars(inprocess, wire):
    server = inprocess(APP, "uwsgi", "--max-vars", "4")
    with server.connect() as client:
        client.sendall(wire.uwsgi_request({f"V{i}": "x" for i in range(5)}))
        assert wire.recv_until_closed(client) == b""
