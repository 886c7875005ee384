"""The stats server (JSON as uWSGI writes it, read by uwsgitop) and the master FIFO."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from support import APP, Server, free_port, http_get, wait_for

INT_FIELDS = ("id", "pid", "accepting", "requests", "delta_requests", "exceptions", "harakiri_count", "signals",
              "signal_queue", "rss", "vsz", "running_time", "avg_rt", "last_spawn", "respawn_count", "tx")


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "version.txt").write_text("v1")
    path = tmp_path / "app.py"
    path.write_text(APP)
    return path


def read_stats(address) -> bytes:
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(address)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def test_stats_json_has_uwsgi_keys_and_types_over_tcp_and_unix(tmp_path, app):
    port, stats_port = free_port(), free_port()
    unix = str(tmp_path / "stats.sock")
    with Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(app), "--master", "--processes", "2",
                "--stats", f"127.0.0.1:{stats_port}", log=tmp_path / "tcp.log") as server:
        server.wait_http(port)
        for _ in range(5):
            http_get(port)
        # A worker is "accepting" once it reaches its first accept(): on a loaded machine the second may lag.
        wait_for(lambda: all(w["accepting"] == 1 for w in json.loads(read_stats(("127.0.0.1", stats_port)))["workers"]),
                 timeout=10)
        doc = json.loads(read_stats(("127.0.0.1", stats_port)))
        for key, kind in [("version", str), ("listen_queue", int), ("listen_queue_errors", int),
                          ("signal_queue", int), ("load", int), ("pid", int), ("uid", int), ("gid", int),
                          ("cwd", str), ("locks", list), ("sockets", list), ("workers", list)]:
            assert isinstance(doc[key], kind), key
        assert doc["pid"] == server.pid
        assert [w["id"] for w in doc["workers"]] == [1, 2]
        for worker in doc["workers"]:
            for field in INT_FIELDS:
                assert type(worker[field]) is int, field
            assert worker["status"] in ("idle", "busy") and worker["accepting"] == 1
            assert worker["rss"] > 0 and worker["pid"] in server.group_pids()
            core = worker["cores"][0]
            assert {"id", "requests", "in_request", "vars", "req_info"} <= set(core)
        assert sum(w["requests"] for w in doc["workers"]) >= 6
        assert sum(w["tx"] for w in doc["workers"]) > 0
        assert doc["sockets"][0]["name"] == f"127.0.0.1:{port}" and doc["sockets"][0]["proto"] == "http"
    with Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(app), "--master", "--stats", unix,
                "--stats-http", log=tmp_path / "unix.log") as server:
        server.wait_http(port)
        raw = read_stats(unix)
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200 OK") and b"Content-Type: application/json" in head
        assert len(json.loads(body)["workers"]) == 1


def _screen_of(command: list[str], seconds: float) -> str:
    """Run a curses program under a pty (100x30) for ``seconds``; return what it drew, escapes removed."""
    master_fd, slave_fd = pty.openpty()
    fcntl.ioctl(slave_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 160, 0, 0))
    proc = subprocess.Popen(command, stdin=slave_fd, stdout=slave_fd, stderr=slave_fd, close_fds=True,
                            env={**os.environ, "TERM": "xterm"}, start_new_session=True)
    os.close(slave_fd)
    output = b""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if select.select([master_fd], [], [], 0.2)[0]:
                try:
                    output += os.read(master_fd, 65536)
                except OSError:
                    break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
        os.close(master_fd)
    return re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]", b" ", output).decode("utf-8", "replace")


def test_uwsgitop_shows_the_workers(tmp_path, app):
    uwsgitop = shutil.which("uwsgitop", path=os.path.dirname(sys.executable))
    if not uwsgitop:
        pytest.skip("uwsgitop is not installed (it is in the test extras: make test installs it)")
    port, stats_port = free_port(), free_port()
    with Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(app), "--master", "--processes", "2",
                "--stats", f"127.0.0.1:{stats_port}", log=tmp_path / "server.log") as server:
        server.wait_http(port)
        screen = _screen_of([sys.executable, uwsgitop, f"127.0.0.1:{stats_port}"], 3)
        worker_pids = set(server.group_pids()) - {server.pid}
        assert "WID" in screen and "ReSpwn" in screen
        assert "2.0.31" in screen
        for pid in worker_pids:
            assert str(pid) in screen
        assert "unable to get uWSGI statistics" not in screen and "Traceback" not in screen


def _fifo_server(tmp_path, app, *fifos):
    port = free_port()
    args = []
    for fifo in fifos:
        args += ["--master-fifo", str(fifo)]
    server = Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(app), "--master", "--processes", "2",
                    *args, log=tmp_path / "server.log")
    server.wait_http(port)
    return server, port


def _send(fifo: Path, commands: str) -> None:
    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, commands.encode())
    finally:
        os.close(fd)


def test_master_fifo_reloads_workers_logs_stats_and_stops(tmp_path, app):
    fifo = tmp_path / "fifo"
    server, port = _fifo_server(tmp_path, app, fifo)
    with server:
        assert fifo.is_fifo() and (fifo.stat().st_mode & 0o777) == 0o600
        workers = set(server.group_pids()) - {server.pid}
        _send(fifo, "w")
        wait_for(lambda: len(set(server.group_pids()) - {server.pid} - workers) == 2, what="new workers")
        assert http_get(port)[0] == 200
        _send(fifo, "s")
        wait_for(lambda: "stats at" in server.log_text(), what="stats in the log")
        _send(fifo, "q")
        assert server.wait(20) == 0
        assert server.group_pids() == []


def test_master_fifo_slots_select_which_fifo_is_read(tmp_path, app):
    first, second = tmp_path / "fifo0", tmp_path / "fifo1"
    server, port = _fifo_server(tmp_path, app, first, second)
    with server:
        _send(first, "1")
        wait_for(second.is_fifo, what="the second fifo")
        time.sleep(0.3)
        _send(second, "Q")
        assert server.wait(20) == 0


def test_master_fifo_graceful_reload_keeps_the_master(tmp_path, app):
    fifo = tmp_path / "fifo"
    server, port = _fifo_server(tmp_path, app, fifo)
    with server:
        (tmp_path / "version.txt").write_text("v2")
        _send(fifo, "r")
        wait_for(lambda: _version(port) == "v2", timeout=30, what="the reloaded code")
        assert server.proc.poll() is None


def _version(port: int) -> str | None:
    try:
        return http_get(port)[1].decode().split()[1]
    except (OSError, IndexError, ValueError):
        return None
