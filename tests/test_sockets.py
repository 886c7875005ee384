"""Every socket kind, bound by the master and served by the workers."""
from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time

import pytest

from support import Server, free_port, http_get, wait_for

APP = "def application(e, sr):\n    sr('200 OK', [('Content-Type', 'text/plain')])\n    return [b'ok ' + e['PATH_INFO'].encode()]\n"


def _request(family, address, raw: bytes = b"GET /x HTTP/1.0\r\n\r\n") -> bytes:
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(address)
        s.sendall(raw)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def _wait_for_socket(family, address, server: Server) -> None:
    def ready():
        if server.proc.poll() is not None:
            raise AssertionError(server.log_text())
        try:
            return _request(family, address).endswith(b"ok /x")
        except OSError:
            return False
    wait_for(ready, what=f"the socket {address}")


@pytest.fixture
def app(tmp_path):
    path = tmp_path / "app.py"
    path.write_text(APP)
    return path


def test_unix_socket_with_chmod_and_vacuum(tmp_path, app):
    path = tmp_path / "app.sock"
    with Server("--http-socket", str(path), "--chmod-socket=660", "--wsgi-file", str(app), "--master",
                "--vacuum", log=tmp_path / "log") as server:
        _wait_for_socket(socket.AF_UNIX, str(path), server)
        assert stat.S_IMODE(path.stat().st_mode) == 0o660
        server.signal(2)
        assert server.wait(20) == 0
    assert not path.exists()


def test_abstract_unix_socket(tmp_path, app):
    name = f"uwkernel-test-{os.getpid()}-{time.monotonic_ns()}"
    with Server("--http-socket", f"@{name}", "--wsgi-file", str(app), log=tmp_path / "log") as server:
        _wait_for_socket(socket.AF_UNIX, "\0" + name, server)


def test_ipv6_socket(tmp_path, app):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("::1 is not available here")
    port = free_port()
    with Server("--http-socket", f"[::1]:{port}", "--wsgi-file", str(app), log=tmp_path / "log") as server:
        _wait_for_socket(socket.AF_INET6, ("::1", port), server)


def test_shared_socket_used_by_two_protocols(tmp_path, app):
    port, uwsgi_port = free_port(), free_port()
    with Server("--shared-socket", f"127.0.0.1:{port}", "--http-socket", "=0", "--socket", f"127.0.0.1:{uwsgi_port}",
                "--wsgi-file", str(app), "--master", log=tmp_path / "log") as server:
        server.wait_http(port)
        assert http_get(port, "/shared") == (200, b"ok /shared")


def test_bad_shared_socket_reference_is_a_config_error(tmp_path, app):
    result = subprocess.run([sys.executable, "-m", "uwkernel", "--http-socket", "=3", "--wsgi-file",
                             str(app)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "names no shared-socket" in result.stderr and "Traceback" not in result.stderr


def test_http_option_with_keepalive_serves_several_requests_per_connection(tmp_path, app):
    port = free_port()
    with Server("--http", f"127.0.0.1:{port}", "--http-keepalive", "--wsgi-file", str(app), "--master",
                log=tmp_path / "log") as server:
        server.wait_http(port)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            for i in range(3):
                s.sendall(f"GET /k{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                data = b""
                while not data.endswith(f"ok /k{i}".encode()):
                    chunk = s.recv(4096)
                    assert chunk, "connection closed"
                    data += chunk


def test_reuse_port_lets_two_instances_share_a_port(tmp_path, app):
    port = free_port()
    args = ["--http-socket", f"127.0.0.1:{port}", "--reuse-port", "--wsgi-file", str(app)]
    with Server(*args, log=tmp_path / "a.log") as first, Server(*args, log=tmp_path / "b.log") as second:
        first.wait_http(port)
        second.wait_http(port)
        assert first.proc.poll() is None and second.proc.poll() is None


def test_a_port_in_use_is_one_clear_line(tmp_path, app):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "uwkernel", "--http-socket", f"127.0.0.1:{port}",
                                 "--wsgi-file", str(app)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"cannot bind 127.0.0.1:{port}: Address already in use" in result.stderr and "Traceback" not in result.stderr


def test_procnames_pidfile_and_daemonize(tmp_path, app):
    port = free_port()
    pidfile = tmp_path / "master.pid"
    logfile = tmp_path / "daemon.log"
    pid = None
    try:
        result = subprocess.run([sys.executable, "-m", "uwkernel", "--http-socket", f"127.0.0.1:{port}",
                                 "--wsgi-file", str(app), "--master", "--processes", "2", "--pidfile", str(pidfile),
                                 "--daemonize", str(logfile)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0
        wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what="the pidfile")
        pid = int(pidfile.read_text())
        wait_for(lambda: _get(port) == 200, what="the daemon to serve")
        titles = subprocess.run(["ps", "-o", "args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
        master_title = subprocess.run(["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True).stdout
        assert "uWSGI master" in master_title
        assert "uWSGI worker 1" in titles and "uWSGI worker 2" in titles
        assert "spawned uWSGI worker 2" in logfile.read_text()
    finally:
        if not pid and pidfile.exists() and pidfile.read_text().strip():
            pid = int(pidfile.read_text())
        if pid:
            os.kill(pid, 2)
            wait_for(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), what="the daemon to exit")


def _get(port):
    try:
        return http_get(port)[0]
    except OSError:
        return None


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
