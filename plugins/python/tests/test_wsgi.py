"""PEP 3333 semantics, served in-process over real sockets: start_response, write(), iterables, errors."""
from __future__ import annotations

import json

import pytest

GET = b"GET /path?q=1 HTTP/1.1\r\nHost: example.org\r\n\r\n"

ENVIRON_APP = '''
import json

def application(environ, start_response):
    keys = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_PROTOCOL", "SERVER_NAME",
            "SERVER_PORT", "REMOTE_ADDR", "REMOTE_PORT", "REQUEST_URI", "HTTP_HOST", "wsgi.url_scheme",
            "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once", "wsgi.version")
    info = {key: environ.get(key) for key in keys}
    info["uwsgi.version"] = environ["uwsgi.version"].decode()
    info["uwsgi.node"] = environ["uwsgi.node"].decode()
    info["uwsgi.core"] = environ.get("uwsgi.core")
    info["has_file_wrapper"] = "wsgi.file_wrapper" in environ
    environ["wsgi.errors"].write("a line for the log\\n")
    body = json.dumps(info).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
'''


def test_environ_of_an_http_request(inprocess, wire):
    server = inprocess(ENVIRON_APP)
    with server.connect() as client:
        client.sendall(GET)
        status, headers, body, _ = wire.read_response(client)
    info = json.loads(body)
    assert status == 200
    assert info["REQUEST_METHOD"] == "GET"
    assert info["SCRIPT_NAME"] == ""
    assert info["PATH_INFO"] == "/path"
    assert info["QUERY_STRING"] == "q=1"
    assert info["REQUEST_URI"] == "/path?q=1"
    assert info["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert info["SERVER_PORT"] == str(server.port)
    assert info["REMOTE_ADDR"] == "127.0.0.1"
    assert info["REMOTE_PORT"].isdigit()
    assert info["HTTP_HOST"] == "example.org"
    assert info["wsgi.url_scheme"] == "http"
    assert info["wsgi.version"] == [1, 0]
    assert info["wsgi.multithread"] is False and info["wsgi.multiprocess"] is False
    assert info["wsgi.run_once"] is False
    assert info["uwsgi.version"] == "2.0.31"
    assert info["uwsgi.node"]
    assert info["uwsgi.core"] is None  # as uWSGI: only with several threads
    assert info["has_file_wrapper"] is True


def test_threads_make_the_environ_multithreaded(inprocess, wire):
    server = inprocess(ENVIRON_APP, "http11", "--threads", "3", "--processes", "2")
    with server.connect() as client:
        client.sendall(GET)
        info = json.loads(wire.read_response(client)[2])
    assert info["wsgi.multithread"] is True and info["wsgi.multiprocess"] is True
    assert info["uwsgi.core"] == 0


def test_wsgi_disable_file_wrapper(inprocess, wire):
    server = inprocess(ENVIRON_APP, "http11", "--wsgi-disable-file-wrapper")
    with server.connect() as client:
        client.sendall(GET)
        assert json.loads(wire.read_response(client)[2])["has_file_wrapper"] is False


def test_write_callable_then_iterable(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            write = start_response("200 OK", [("Content-Type", "text/plain")])
            write(b"one ")
            write(b"")
            return [b"two ", b"three"]
    ''')
    with server.connect() as client:
        client.sendall(GET)
        status, headers, body, _ = wire.read_response(client)
    assert status == 200
    assert headers["transfer-encoding"] == "chunked"  # no length on a keep-alive HTTP/1.1 response
    assert body == b"one two three"


def test_generator_is_streamed_and_closed(inprocess, wire, tmp_path):
    marker = tmp_path / "closed"
    server = inprocess(f'''
        class Body:
            def __iter__(self):
                yield b""
                yield b"a"
                yield b"bc"
            def close(self):
                open({str(marker)!r}, "w").write("yes")

        def application(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return Body()
    ''')
    with server.connect() as client:
        client.sendall(GET)
        status, headers, body, _ = wire.read_response(client)
    assert (status, body) == (200, b"abc")
    wire.wait_until(marker.exists)


def test_list_body_without_length_gets_one_on_keep_alive(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"hello ", b"world"]
    ''')
    with server.connect() as client:
        client.sendall(GET + GET)
        status, headers, body, rest = wire.read_response(client)
        assert headers["content-length"] == "11" and body == b"hello world"
        assert wire.read_response(client, rest)[2] == b"hello world"


def test_bytes_returned_directly(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            start_response("200 OK", [])
            return b"raw bytes"
    ''')
    with server.connect() as client:
        client.sendall(GET)
        assert wire.read_response(client)[2] == b"raw bytes"


def test_empty_iterable(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            start_response("204 No Content", [])
            return iter([])
    ''')
    with server.connect() as client:
        client.sendall(GET + GET)
        status, headers, body, rest = wire.read_response(client)
        assert status == 204 and "content-length" not in headers and "transfer-encoding" not in headers
        assert wire.read_response(client, rest)[0] == 204


def test_exc_info_replaces_the_status_before_the_head_went_out(inprocess, wire):
    server = inprocess('''
        import sys

        def application(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            try:
                raise ValueError("boom")
            except ValueError:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info())
            return [b"sorry"]
    ''')
    with server.connect() as client:
        client.sendall(GET)
        status, _, body, _ = wire.read_response(client)
    assert (status, body) == (503, b"sorry")


def test_start_response_twice_without_exc_info_is_an_error(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            start_response("200 OK", [])
            start_response("200 OK", [])
            return [b"never"]
    ''')
    with server.connect() as client:
        client.sendall(GET)
        assert wire.read_response(client)[0] == 500


def test_exc_info_after_the_head_went_out_reraises_and_cuts_the_response(inprocess, wire):
    server = inprocess('''
        import sys

        def application(environ, start_response):
            write = start_response("200 OK", [("Content-Type", "text/plain")])
            write(b"partial")
            try:
                raise ValueError("late")
            except ValueError:
                start_response("500 Internal Server Error", [], sys.exc_info())
            return [b"unreachable"]
    ''')
    with server.connect() as client:
        client.sendall(GET)
        data = wire.recv_until_closed(client)
    assert data.startswith(b"HTTP/1.1 200 OK") and b"partial" in data
    assert not data.endswith(b"0\r\n\r\n")  # the chunked body is cut short, not terminated
    wire.wait_until(lambda: server.worker.scoreboard.read(server.worker.id).exceptions == 1)


@pytest.mark.parametrize("status, headers", [
    ("200", [("Content-Type", "text/plain")]),  # accepted: a status without a reason
    ("2OO OK", []),
    (b"200 OK", []),
    ("200 OK", [("Content-Type", b"text/plain")]),
    ("200 OK", [("X-Bad", "line\r\nInjected: yes")]),
    ("200 OK", [("X-Unicode", "snow \u2603")]),
    ("200 OK", (("Content-Type", "text/plain"),)),
    ("200 OK", [["Content-Type", "text/plain"]]),
])
def test_bad_status_or_headers_give_a_500(inprocess, wire, status, headers):
    server = inprocess(f'''
        def application(environ, start_response):
            start_response({status!r}, {headers!r})
            return [b"body"]
    ''')
    with server.connect() as client:
        client.sendall(GET)
        got, _, body, _ = wire.read_response(client)
    if status == "200":
        assert (got, body) == (200, b"body")
    else:
        assert got == 500 and body == b"Internal Server Error"
        wire.wait_until(lambda: server.worker.scoreboard.read(server.worker.id).exceptions == 1)


def test_app_exception_gives_500_and_the_connection_goes_on(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            if environ["PATH_INFO"] == "/fail":
                raise RuntimeError("the app broke")
            start_response("200 OK", [("Content-Length", "2")])
            return [b"ok"]
    ''')
    with server.connect() as client:
        client.sendall(b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body, rest = wire.read_response(client)
        assert (status, body) == (500, b"Internal Server Error")
        client.sendall(GET)
        assert wire.read_response(client, rest)[:3:2] == (200, b"ok")
    wire.wait_until(lambda: server.worker.scoreboard.read(server.worker.id).exceptions == 1)


def test_non_bytes_chunk_is_an_error(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            start_response("200 OK", [])
            return ["text is not bytes"]
    ''')
    with server.connect() as client:
        client.sendall(GET)
        assert wire.read_response(client)[0] == 500


def test_head_request_gets_no_body(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
            return [b"hello"]
    ''')
    with server.connect() as client:
        client.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + GET)
        status, headers, body, rest = wire.read_response(client, head_request=True)
        assert (status, headers["content-length"], rest) == (200, "5", rest)
        assert wire.read_response(client, rest)[2] == b"hello"


def test_file_wrapper_uses_sendfile_from_the_current_position(inprocess, wire, tmp_path):
    data = bytes(range(256)) * 4096  # 1 MiB
    (tmp_path / "blob.bin").write_bytes(data)
    server = inprocess(f'''
        def application(environ, start_response):
            f = open({str(tmp_path / "blob.bin")!r}, "rb")
            f.seek(10)
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return environ["wsgi.file_wrapper"](f, 4096)
    ''')
    with server.connect() as client:
        client.sendall(GET + GET)
        status, headers, body, rest = wire.read_response(client)
        assert headers["content-length"] == str(len(data) - 10)
        assert body == data[10:]
        assert wire.read_response(client, rest)[2] == data[10:]


def test_file_wrapper_over_a_non_file_iterates(inprocess, wire):
    server = inprocess('''
        import io

        def application(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return environ["wsgi.file_wrapper"](io.BytesIO(b"x" * 10000), 3000)
    ''')
    with server.connect() as client:
        client.sendall(GET)
        assert wire.read_response(client)[2] == b"x" * 10000


def test_declared_length_shorter_than_the_body_closes_the_connection(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            start_response("200 OK", [("Content-Length", "100")])
            return [b"only this"]
    ''')
    with server.connect() as client:
        client.sendall(GET)
        data = wire.recv_until_closed(client)
    assert data.endswith(b"only this")


def test_http10_keep_alive_and_no_length_closes(inprocess, wire):
    server = inprocess('''
        def application(environ, start_response):
            start_response("200 OK", [])
            yield b"streamed"
    ''')
    with server.connect() as client:
        client.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        data = wire.recv_until_closed(client)
    assert data.startswith(b"HTTP/1.0 200 OK\r\n") and b"Connection: close" in data and data.endswith(b"streamed")


class PartialSocket:
    """A connection whose ``sendmsg`` takes only ``first`` bytes; ``sendall`` takes the rest."""

    def __init__(self, first: int):
        self.first = first
        self.data = bytearray()
        self.calls = []

    def sendmsg(self, buffers):
        self.calls.append("sendmsg")
        joined = b"".join(bytes(b) for b in buffers)
        self.data += joined[:self.first]
        return min(self.first, len(joined))

    def sendall(self, data):
        self.calls.append("sendall")
        self.data += bytes(data)


@pytest.mark.parametrize("first", [0, 10, 100, 70_000, 10**6])
def test_a_large_body_goes_out_whole_when_the_kernel_takes_part_of_it(first):
    from uwkernel_python.response import Response

    body = bytes(range(256)) * 300  # 76,800 bytes: past the join limit
    conn = PartialSocket(first)
    response = Response(conn, "HTTP/1.1", True, False, True)
    response.start_response("200 OK", [("Content-Type", "application/octet-stream")])
    response.send_result([body])
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 76800\r\n\r\n"
    assert bytes(conn.data) == head + body
    assert conn.calls[0] == "sendmsg" and response.body_bytes == len(body) and response.keep_alive
