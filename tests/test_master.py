"""The master and its workers, end to end: reloads, respawns, harakiri, limits and shutdown."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from support import APP, Server, free_port, http_get, wait_for



@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "version.txt").write_text("v1")
    path = tmp_path / "app.py"
    path.write_text(APP)
    return path


def start(tmp_path: Path, app: Path, *extra: str) -> tuple[Server, int]:
    port = free_port()
    server = Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(app), *extra,
                    log=tmp_path / "server.log")
    server.wait_http(port)
    return server, port


def pid_and_version(port: int, path: str = "/") -> tuple[int, str]:
    status, body = http_get(port, path)
    assert status == 200
    pid, version = body.decode().split()
    return int(pid), version


class Client(threading.Thread):
    """Loops requests until stopped, counting successes and failures."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.ok = 0
        self.failed: list[str] = []
        self.versions: set[str] = set()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                status, body = http_get(self.port, timeout=10)
                if status == 200:
                    self.ok += 1
                    self.versions.add(body.decode().split()[1])
                else:
                    self.failed.append(f"status {status}")
            except OSError as exc:
                self.failed.append(repr(exc))

    def stop(self) -> None:
        self._halt.set()
        self.join(15)


def test_hup_reload_loads_new_code_with_zero_failed_requests(tmp_path, app):
    server, port = start(tmp_path, app, "--master", "--processes", "2")
    with server:
        client = Client(port)
        client.start()
        wait_for(lambda: client.ok > 20, what="requests before the reload")
        (tmp_path / "version.txt").write_text("v2")
        server.signal(signal.SIGHUP)
        wait_for(lambda: "v2" in client.versions, timeout=30, what="the new code to serve")
        before = client.ok
        wait_for(lambda: client.ok > before + 20, what="requests after the reload")
        client.stop()
        assert client.failed == []
        assert server.proc.poll() is None  # the same master pid re-executed itself
        assert "gracefully" in server.log_text()


def test_killed_worker_is_respawned_and_requests_go_on(tmp_path, app):
    server, port = start(tmp_path, app, "--master", "--processes", "1")
    with server:
        pid, _ = pid_and_version(port)
        os.kill(pid, signal.SIGKILL)
        new_pid = wait_for(lambda: _other_pid(port, pid), what="a respawned worker")
        assert new_pid != pid
        for _ in range(20):
            assert pid_and_version(port)[0] == new_pid
        assert "died" in server.log_text()


def _other_pid(port: int, old: int) -> int | None:
    try:
        pid = pid_and_version(port)[0]
    except (OSError, AssertionError, ValueError):
        return None
    return pid if pid != old else None


def test_harakiri_kills_a_stuck_request_and_the_worker_comes_back(tmp_path, app):
    server, port = start(tmp_path, app, "--master", "--processes", "1", "--harakiri", "1")
    with server:
        pid, _ = pid_and_version(port)
        began = time.monotonic()
        with pytest.raises((OSError, ValueError, IndexError)):
            http_get(port, "/sleep/30", timeout=15)
        assert time.monotonic() - began < 10
        assert "HARAKIRI ON WORKER 1" in server.log_text()
        new_pid = wait_for(lambda: _other_pid(port, pid), what="the worker to come back")
        assert new_pid != pid


def test_touch_chain_reload_replaces_workers_one_at_a_time(tmp_path, app):
    touch = tmp_path / "chain"
    touch.write_text("")
    server, port = start(tmp_path, app, "--master", "--processes", "2", "--touch-chain-reload", str(touch))
    with server:
        old = set(server.group_pids()) - {server.pid}
        assert len(old) == 2
        client = Client(port)
        client.start()
        time.sleep(1.2)
        os.utime(touch, (time.time() + 5, time.time() + 5))
        wait_for(lambda: not (set(server.group_pids()) & old), timeout=30, what="both workers replaced")
        wait_for(lambda: "chain reload complete" in server.log_text(), timeout=10, what="the chain to end")
        client.stop()
        assert client.failed == []
        assert len(set(server.group_pids()) - {server.pid}) == 2


def test_max_requests_recycles_the_worker(tmp_path, app):
    server, port = start(tmp_path, app, "--master", "--max-requests", "3", "--min-worker-lifetime", "0")
    with server:  # start() made request 1 (the readiness probe)
        pids = [pid_and_version(port)[0] for _ in range(5)]
        assert pids[0] == pids[1] != pids[2] == pids[3] == pids[4]
        assert "max requests reached" in server.log_text()


def test_sigint_stops_everything_and_leaves_no_process(tmp_path, app):
    server, port = start(tmp_path, app, "--master", "--processes", "3")
    with server:
        assert len(server.group_pids()) == 4
        server.signal(signal.SIGINT)
        assert server.wait(20) == 0
        wait_for(lambda: server.group_pids() == [], what="every process gone")
        assert "goodbye to uWSGI." in server.log_text()


def test_sigterm_lets_the_running_request_finish_then_exits(tmp_path, app):
    server, port = start(tmp_path, app, "--master", "--processes", "1")
    with server:
        result = {}
        thread = threading.Thread(target=lambda: result.update(r=http_get(port, "/sleep/1.5", timeout=10)))
        thread.start()
        time.sleep(0.5)
        server.signal(signal.SIGTERM)
        thread.join(10)
        assert result["r"][0] == 200
        assert server.wait(20) == 0


def test_without_master_one_process_serves_and_sigint_ends_it(tmp_path, app):
    server, port = start(tmp_path, app)
    with server:
        pid, _ = pid_and_version(port)
        assert pid == server.pid
        server.signal(signal.SIGINT)
        assert server.wait(10) in (0, 30)
