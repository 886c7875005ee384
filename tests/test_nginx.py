"""nginx ``uwsgi_pass`` in front of a uwkernel ``socket``, as production deployments run it."""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from support import Server, free_port

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (tools/install-system-deps.sh "
                                                      "installs it as root with apt-get)")

APP = '''
import hashlib, json

def application(environ, start_response):
    body = environ["wsgi.input"].read()
    info = {k: environ.get(k) for k in ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
                                        "SERVER_PROTOCOL", "HTTP_X_CUSTOM", "REMOTE_ADDR")}
    info["sha1"] = hashlib.sha1(body).hexdigest()
    info["length"] = len(body)
    if environ["PATH_INFO"] == "/big":
        data = b"x" * (10 * 1024 * 1024)
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(data)))])
        return [data]
    out = json.dumps(info).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]
'''

PARAMS = """
uwsgi_param QUERY_STRING $query_string; uwsgi_param REQUEST_METHOD $request_method;
uwsgi_param CONTENT_TYPE $content_type; uwsgi_param CONTENT_LENGTH $content_length;
uwsgi_param REQUEST_URI $request_uri; uwsgi_param PATH_INFO $document_uri;
uwsgi_param DOCUMENT_ROOT $document_root; uwsgi_param SERVER_PROTOCOL $server_protocol;
uwsgi_param REQUEST_SCHEME $scheme; uwsgi_param HTTPS $https if_not_empty;
uwsgi_param REMOTE_ADDR $remote_addr; uwsgi_param REMOTE_PORT $remote_port;
uwsgi_param SERVER_PORT $server_port; uwsgi_param SERVER_NAME $server_name;
"""


@pytest.fixture
def stack(tmp_path: Path):
    """uwkernel on a uwsgi socket and nginx in front of it; yields nginx's port."""
    app = tmp_path / "app.py"
    app.write_text(APP)
    upstream, front = free_port(), free_port()
    conf = tmp_path / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(f"""
{user}
daemon off; master_process off; worker_processes 1; pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log off; client_max_body_size 50m; client_body_temp_path {tmp_path}/body;
  uwsgi_temp_path {tmp_path}/uwsgi; proxy_temp_path {tmp_path}/proxy; fastcgi_temp_path {tmp_path}/fcgi;
  scgi_temp_path {tmp_path}/scgi;
  server {{
    listen 127.0.0.1:{front};
    location / {{ {PARAMS} uwsgi_pass 127.0.0.1:{upstream}; }}
  }}
}}
""")
    with Server("--socket", f"127.0.0.1:{upstream}", "--wsgi-file", str(app), "--master", "--processes", "2",
                log=tmp_path / "server.log") as server:
        wait_connectable(upstream, server)
        nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stderr=subprocess.PIPE,
                                 start_new_session=True)
        try:
            wait_connectable(front)
            yield front, server
        finally:
            nginx.kill()
            nginx.wait(10)


def wait_connectable(port: int, server: Server | None = None, timeout: float = 20) -> None:
    """Wait (bounded) until something accepts TCP connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.proc.poll() is not None:
            raise AssertionError(f"uwkernel exited:\n{server.log_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def request(port: int, raw: bytes) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(raw)
        data = b""
        while chunk := s.recv(1 << 20):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def test_get_through_nginx_uwsgi_pass(stack):
    import json

    port, _ = stack
    status, _, body = request(port, b"GET /some/path?a=1&b=2 HTTP/1.1\r\nHost: x\r\nX-Custom: yes\r\n"
                                    b"Connection: close\r\n\r\n")
    assert status == 200
    info = json.loads(body)
    assert info["REQUEST_METHOD"] == "GET" and info["PATH_INFO"] == "/some/path"
    assert info["QUERY_STRING"] == "a=1&b=2" and info["HTTP_X_CUSTOM"] == "yes"
    assert info["REMOTE_ADDR"] == "127.0.0.1" and info["SERVER_PROTOCOL"] == "HTTP/1.1"


def test_upload_and_download_10mb_through_nginx(stack):
    import json

    port, _ = stack
    payload = os.urandom(10 * 1024 * 1024)
    status, _, body = request(port, b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                                    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(payload) + payload)
    assert status == 200
    info = json.loads(body)
    assert info["length"] == len(payload) and info["sha1"] == hashlib.sha1(payload).hexdigest()
    status, headers, body = request(port, b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200 and len(body) == 10 * 1024 * 1024 and body == b"x" * len(body)


def test_many_requests_through_nginx(stack):
    port, server = stack
    for i in range(200):
        status, _, _ = request(port, f"GET /n/{i} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        assert status == 200
    assert server.proc.poll() is None
