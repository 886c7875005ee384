"""``python -m uwkernel`` serving real apps: loading, mounts, frameworks, big bodies, threads, logs, exits."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import socket
import textwrap
import threading
import time

import pytest

from support import free_port

APP = '''
import hashlib, json, time

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path.startswith("/sleep/"):
        time.sleep(float(path.split("/")[2]))
    if path == "/fail":
        raise RuntimeError("the app failed on purpose")
    if path == "/download":
        data = b"d" * (10 * 1024 * 1024)
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(data)))])
        return [data]
    if path == "/file":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](open(__file__, "rb"))
    body = environ["wsgi.input"].read()
    info = {"path": path, "script_name": environ["SCRIPT_NAME"], "length": len(body),
            "sha1": hashlib.sha1(body).hexdigest(), "method": environ["REQUEST_METHOD"]}
    out = json.dumps(info).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]

def other(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"other:" + environ["SCRIPT_NAME"].encode() + b":" + environ["PATH_INFO"].encode()]

def create_app():
    def made(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"made by a factory"]
    return made
'''


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "webapp.py").write_text(APP)
    return tmp_path


def get(port: int, path: str = "/", method: str = "GET", body: bytes = b"", headers: str = "") -> tuple[int, bytes]:
    """One HTTP/1.1 request on a new connection (closed by the server): (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        length = f"Content-Length: {len(body)}\r\n" if body else ""
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: test\r\n{length}{headers}\r\n".encode() + body)
        data = b""
        while chunk := s.recv(1 << 20):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


def test_wsgi_file_module_callable_and_factory(uwkernel, app_dir, port):
    server = uwkernel("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", port=port)
    assert json.loads(get(port, "/x")[1])["path"] == "/x"
    assert "WSGI app 0 (mountpoint='') ready" in server.log_text()
    port2, port3 = free_port(), free_port()
    uwkernel("--http-socket", f"127.0.0.1:{port2}", "--module", "webapp:other", port=port2)
    assert get(port2, "/y")[1] == b"other::/y"
    uwkernel("--http-socket", f"127.0.0.1:{port3}", "-w", "webapp:create_app()", port=port3)
    assert get(port3)[1] == b"made by a factory"


def test_ini_file_with_callable(uwkernel, app_dir, port):
    (app_dir / "app.ini").write_text(f"[uwsgi]\nhttp-socket = 127.0.0.1:{port}\nwsgi-file = webapp.py\n"
                                     "callable = other\nmaster = true\nprocesses = 2\n")
    uwkernel("--ini", "app.ini", port=port)
    assert get(port, "/z")[1] == b"other::/z"


def test_mount_and_manage_script_name(uwkernel, app_dir, port):
    uwkernel("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", "--mount", "/other=webapp:other",
             "--mount", "/other/deeper=webapp:create_app()", "--manage-script-name", port=port)
    assert get(port, "/other/a/b")[1] == b"other:/other:/a/b"
    assert get(port, "/other/deeper/x")[1] == b"made by a factory"
    assert json.loads(get(port, "/otherwise")[1])["script_name"] == ""


def test_flask_app(uwkernel, tmp_path, port):
    if importlib.util.find_spec("flask") is None:
        pytest.skip("flask is not installed (it is in the python plugin's test extras)")
    (tmp_path / "flaskapp.py").write_text(textwrap.dedent('''
        from flask import Flask, request
        app = Flask(__name__)

        @app.route("/hello/<name>", methods=["GET", "POST"])
        def hello(name):
            return {"hello": name, "data": request.get_data(as_text=True), "script": request.script_root}
    '''))
    uwkernel("--http-socket", f"127.0.0.1:{port}", "--module", "flaskapp:app", "--mount", "/sub=flaskapp:app",
             "--manage-script-name", port=port)
    assert json.loads(get(port, "/hello/world", "POST", b"payload")[1]) == {
        "hello": "world", "data": "payload", "script": ""}
    assert json.loads(get(port, "/sub/hello/x")[1])["script"] == "/sub"
    assert get(port, "/nothing")[0] == 404


def test_django_project(uwkernel, tmp_path, port):
    if importlib.util.find_spec("django") is None:
        pytest.skip("django is not installed (it is in the python plugin's test extras)")
    project = tmp_path / "mysite"
    project.mkdir()
    (project / "__init__.py").write_text("")
    (project / "settings.py").write_text(textwrap.dedent('''
        SECRET_KEY = "test-only"
        DEBUG = False
        ALLOWED_HOSTS = ["*"]
        ROOT_URLCONF = "mysite.urls"
        INSTALLED_APPS = []
        MIDDLEWARE = []
        DATABASES = {}
        USE_TZ = True
    '''))
    (project / "urls.py").write_text(textwrap.dedent('''
        from django.http import HttpResponse, JsonResponse
        from django.urls import path
        from django.views.decorators.csrf import csrf_exempt

        @csrf_exempt
        def echo(request, name):
            return JsonResponse({"name": name, "body": request.body.decode(), "script": request.META["SCRIPT_NAME"],
                                 "host": request.get_host()})

        urlpatterns = [path("echo/<name>", echo)]
    '''))
    (project / "wsgi.py").write_text(textwrap.dedent('''
        import os
        from django.core.wsgi import get_wsgi_application
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
        application = get_wsgi_application()
    '''))
    uwkernel("--http-socket", f"127.0.0.1:{port}", "--chdir", str(tmp_path), "--module", "mysite.wsgi",
             "--master", "--processes", "2", port=port)
    status, body = get(port, "/echo/dj", "POST", b"hi django")
    assert status == 200 and json.loads(body) == {"name": "dj", "body": "hi django", "script": "", "host": "test"}
    assert get(port, "/missing")[0] == 404


def test_ten_megabyte_upload_and_download(uwkernel, app_dir, port):
    uwkernel("--http11-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", port=port)
    data = bytes(range(256)) * (10 * 4096)
    status, body = get(port, "/up", "POST", data)
    assert json.loads(body) == {"path": "/up", "script_name": "", "length": len(data),
                                "sha1": hashlib.sha1(data).hexdigest(), "method": "POST"}
    chunks = b"".join(b"%x\r\n%s\r\n" % (65536, data[i:i + 65536]) for i in range(0, len(data), 65536))
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                  + chunks + b"0\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert json.loads(reply.partition(b"\r\n\r\n")[2])["sha1"] == hashlib.sha1(data).hexdigest()
    status, body = get(port, "/download", headers="Connection: close\r\n")
    assert status == 200 and body == b"d" * (10 * 1024 * 1024)


def test_file_wrapper(uwkernel, app_dir, port):
    uwkernel("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", port=port)
    assert get(port, "/file")[1] == APP.encode()


def test_keep_alive_on_http11_socket(uwkernel, app_dir, port, wire):
    uwkernel("--http11-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", port=port)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        rest = b""
        for i in range(20):
            s.sendall(f"GET /ka/{i} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            status, headers, body, rest = wire.read_response(s, rest)
            assert json.loads(body)["path"] == f"/ka/{i}"


def test_uwsgi_protocol_with_body(uwkernel, app_dir, port, wire):
    uwkernel("--socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", "--master", port=port)
    body = b"uwsgi body " * 1000
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(wire.uwsgi_request({"REQUEST_METHOD": "PUT", "PATH_INFO": "/packet", "SERVER_PROTOCOL": "HTTP/1.1",
                                      "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "10.1.2.3"}, body))
        reply = wire.recv_until_closed(s)
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(payload)["sha1"] == hashlib.sha1(body).hexdigest()


def test_threads_serve_slow_requests_concurrently(uwkernel, app_dir, port):
    server = uwkernel("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", "--threads", "4", port=port)
    results = []
    started = time.monotonic()
    clients = [threading.Thread(target=lambda: results.append(get(port, "/sleep/1")[0])) for _ in range(4)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(20)
    assert results == [200] * 4
    assert time.monotonic() - started < 3, "the four 1-second requests did not run in parallel"
    cores = set(re.findall(r"switches on core (\d)", server.log_text()))
    assert len(cores) > 1


def test_threads_stop_gracefully(uwkernel, app_dir, port):
    import signal

    server = uwkernel("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", "--threads", "4",
                      "--master", port=port)
    assert get(port)[0] == 200
    stopping = time.monotonic()
    server.signal(signal.SIGTERM)  # workers get SIGHUP: every thread waiting to accept must wake and stop
    assert server.wait(15) == 0
    assert time.monotonic() - stopping < 5


@pytest.mark.parametrize("master", [[], ["--master", "--processes", "2"]])
def test_need_app_exits_22(app_dir, wire, master):
    result = wire.run_to_exit("--http-socket", f"127.0.0.1:{free_port()}", "--module", "no_such_module",
                              "--need-app", *master, cwd=app_dir)
    assert result.returncode == 22
    assert "No module named 'no_such_module'" in result.stderr and "GAME OVER" in result.stderr


def test_need_app_with_lazy_apps_exits_22(app_dir, wire):
    result = wire.run_to_exit("--http-socket", f"127.0.0.1:{free_port()}", "--module", "no_such_module",
                              "--need-app", "--lazy-apps", cwd=app_dir)
    assert result.returncode == 22


def test_lazy_apps_load_in_the_worker(uwkernel, app_dir, port):
    server = uwkernel("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", "--lazy-apps", "--master",
                      port=port)
    assert get(port)[0] == 200
    master_pid = str(server.pid)
    ready = re.search(r"WSGI app 0 \(mountpoint=''\) ready .* pid: (\d+)", server.log_text())
    assert ready and ready.group(1) != master_pid


def test_exception_gives_500_and_the_next_request_is_fine(uwkernel, app_dir, port):
    server = uwkernel("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", port=port)
    assert get(port, "/fail") == (500, b"Internal Server Error")
    assert get(port, "/after")[0] == 200
    log = server.log_text()
    assert "RuntimeError: the app failed on purpose" in log and "Traceback (most recent call last)" in log


def test_request_log_line(uwkernel, app_dir, port, wire):
    server = uwkernel("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", port=port)
    get(port, "/logged?q=1")
    log = wire.wait_for_log(server, "GET /logged?q=1")
    pattern = (r"\[pid: (\d+)\|app: 0\|req: 1/1\] 127\.0\.0\.1 \(\) \{(\d+) vars in (\d+) bytes\} "
               r"\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] GET /logged\?q=1 => generated (\d+) bytes in \d+ msecs "
               r"\(HTTP/1\.1 200\) 2 headers in (\d+) bytes \(1 switches on core 0\)")
    match = re.search(pattern, log)
    assert match, log
    assert int(match.group(2)) % 2 == 0 and int(match.group(4)) > 0


def test_log_format_and_disable_logging(uwkernel, app_dir, port, wire):
    server = uwkernel("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py",
                      "--log-format", "%(addr) %(method) %(uri) %(status) %(var.HTTP_HOST) %(nothing)", port=port)
    get(port, "/fmt")
    assert "127.0.0.1 GET /fmt 200 test -" in wire.wait_for_log(server, "GET /fmt")
    quiet_port = free_port()
    quiet = uwkernel("--http-socket", f"127.0.0.1:{quiet_port}", "--wsgi-file", "webapp.py", "--disable-logging",
                     port=quiet_port)
    get(quiet_port, "/silent")
    time.sleep(0.3)
    assert "/silent" not in quiet.log_text()


def test_log_date_prefixes_server_lines(uwkernel, app_dir, port, wire):
    server = uwkernel("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", "webapp.py", "--log-date", port=port)
    log = wire.wait_for_log(server, "WSGI app 0")
    assert re.search(r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} - WSGI app 0", log, re.M)
