"""RPC between real instances: two uwkernel instances both ways, and uWSGI (PyPI ``uwsgi``) on one side."""
from __future__ import annotations

import os
import socket
import subprocess
import textwrap
from pathlib import Path

import pytest

from uwkernel.proto.uwsgi import build_packet, encode_vars
from uwkernel.testing import Server, free_port, http_get, kill_group, wait_for

from support import uwsgi_binary

APP = textwrap.dedent('''
    import os
    from urllib.parse import parse_qs
    import uwsgi

    NAME = os.environ["RPC_NAME"].encode()
    uwsgi.register_rpc("whoami", lambda: NAME)
    uwsgi.register_rpc("hello", lambda *args: b"hello " + b" ".join(args))
    uwsgi.register_rpc("big", lambda n: b"x" * int(n))
    uwsgi.register_rpc("pid", lambda: str(os.getpid()).encode())

    def application(environ, start_response):
        query = {k: v[0] for k, v in parse_qs(environ["QUERY_STRING"]).items()}
        args = [a.encode() for a in query.get("args", "").split(",") if a]
        result = uwsgi.rpc(query.get("node", "").encode(), query["fn"].encode(), *args)
        body = b"None" if result is None else b"%d:" % len(result) + result[:64]
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [body]
''')


class Instance:
    """An instance under test: its HTTP port (the test drives it) and its uwsgi socket (the RPC node)."""

    def __init__(self, http: int, node: str, stop):
        self.http, self.node, self.stop = http, node, stop

    def call(self, fn: str, node: str = "", args: str = "") -> bytes:
        """Ask the instance's app to call ``fn`` on ``node``; what the app answered."""
        status, body = http_get(self.http, f"/?fn={fn}&node={node}&args={args}", timeout=10)
        assert status == 200, body
        return body


@pytest.fixture
def app(tmp_path) -> Path:
    path = tmp_path / "app.py"
    path.write_text(APP)
    return path


@pytest.fixture
def start_uwkernel(tmp_path, app):
    """Start a uwkernel instance named ``name`` (what its ``whoami`` returns)."""
    servers: list[Server] = []

    def start(name: str, *extra: str) -> Instance:
        http, node = free_port(), f"127.0.0.1:{free_port()}"
        server = Server("--http-socket", f"127.0.0.1:{http}", "--socket", node, "--master", "--processes", "2",
                        "--wsgi-file", str(app), *extra, env={"RPC_NAME": name}, log=tmp_path / f"{name}.log")
        servers.append(server)
        server.wait_http(http, "/?fn=whoami")
        return Instance(http, node, server)

    yield start
    for server in servers:
        server.stop()


def test_local_and_remote_calls_both_ways(start_uwkernel):
    a, b = start_uwkernel("A"), start_uwkernel("B")
    assert a.call("whoami") == b"1:A"
    assert a.call("whoami", b.node) == b"1:B"
    assert b.call("whoami", a.node) == b"1:A"
    assert a.call("hello", b.node, "x,y") == b"9:hello x y"


def test_large_results_cross_64k(start_uwkernel):
    a, b = start_uwkernel("A"), start_uwkernel("B")
    for size in (65535, 65536, 300000):
        assert a.call("big", b.node, str(size)).startswith(b"%d:xxx" % size)


def test_unknown_function_and_unreachable_node_give_none(start_uwkernel):
    a, b = start_uwkernel("A"), start_uwkernel("B")
    assert a.call("missing", b.node) == b"None"
    assert a.call("missing") == b"None"
    assert a.call("whoami", f"127.0.0.1:{free_port()}") == b"None"


def test_functions_registered_in_the_master_serve_in_every_worker(start_uwkernel):
    a, b = start_uwkernel("A"), start_uwkernel("B")
    pids = {a.call("pid", b.node) for _ in range(20)}
    workers = set(b.stop.group_pids()) - {b.stop.pid}
    assert {int(p.split(b":")[1]) for p in pids} <= workers


def test_http_mode_modifier2_2(start_uwkernel):
    a = start_uwkernel("A")
    host, port = a.node.split(":")
    for path, status in (("/hello/w/v", b"200"), ("/missing", b"404")):
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(build_packet(173, encode_vars({"PATH_INFO": path, "SERVER_PROTOCOL": "HTTP/1.1"}), 2))
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        assert data.split(b" ")[1] == status
    assert data.startswith(b"HTTP/1.1 404")


def test_rpc_hook(start_uwkernel, tmp_path):
    start_uwkernel("A", "--hook-post-app", "rpc:hello big world")
    wait_for(lambda: '[rpc result from "hello"] hello big world' in (tmp_path / "A.log").read_text(),
             what="the rpc hook's log line")


@pytest.fixture
def start_uwsgi(tmp_path, app):
    """Start a real uWSGI instance on the same app (``support.uwsgi_binary`` finds it, or skips or fails)."""
    binary = uwsgi_binary()
    procs = []

    def start(name: str) -> Instance:
        http, node = free_port(), f"127.0.0.1:{free_port()}"
        log = open(tmp_path / f"{name}.log", "wb")
        proc = subprocess.Popen([binary, "--http-socket", f"127.0.0.1:{http}", "--socket", node, "--master",
                                 "--processes", "2", "--wsgi-file", str(app), "--need-app"],
                                env={**os.environ, "RPC_NAME": name}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        procs.append((proc, log))

        def answers():
            assert proc.poll() is None, (tmp_path / f"{name}.log").read_text()
            try:
                return http_get(http, "/?fn=whoami", timeout=2)[0] == 200
            except OSError:
                return False

        wait_for(answers, timeout=20, what="uWSGI to answer")
        return Instance(http, node, proc)

    yield start
    for proc, log in procs:
        kill_group(proc)
        log.close()


def test_uwkernel_and_uwsgi_call_each_other(start_uwkernel, start_uwsgi):
    ours, theirs = start_uwkernel("uwkernel"), start_uwsgi("uWSGI")
    assert ours.call("whoami", theirs.node) == b"5:uWSGI"
    assert theirs.call("whoami", ours.node) == b"8:uwkernel"
    assert ours.call("hello", theirs.node, "a,b") == b"9:hello a b"
    assert theirs.call("hello", ours.node, "a,b") == b"9:hello a b"
    assert ours.call("big", theirs.node, "200000").startswith(b"200000:xx")
    assert theirs.call("big", ours.node, "200000").startswith(b"200000:xx")
    assert ours.call("missing", theirs.node) == b"None"
    assert theirs.call("missing", ours.node) == b"None"
