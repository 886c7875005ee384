"""``uwkernel.testing``: a pytest plugin that starts uwkernel for your app (entry point ``pytest11``).

Installed with uwkernel, it gives every test suite the ``uwkernel_server`` fixture::

    def test_home_page(uwkernel_server):
        server = uwkernel_server("--wsgi-file", "app.py", "--master", "--processes", "2")
        status, body = server.get("/")
        assert status == 200

The server listens on a free port of 127.0.0.1 (``server.port``, ``server.url``), runs in its own
process group and is stopped, with every process it started, when the test ends. ``server.log_text()``
is what it logged.

For tests that run a command to completion, :func:`run_bounded` runs it in its own session with
:func:`subprocess_env` and kills whatever it left behind.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str = "/", timeout: float = 5.0, host: str = "127.0.0.1") -> tuple[int, bytes]:
    """One HTTP/1.0 GET on a new connection; returns (status, body)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: test\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def kill_group(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGKILL the process group ``proc`` leads (started with ``start_new_session=True``) and reap ``proc``,
    waiting at most ``timeout`` seconds (then :class:`subprocess.TimeoutExpired`)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout)


def subprocess_env() -> dict[str, str]:
    """This process's environment with its import path, made absolute, as ``PYTHONPATH``: a subprocess
    given it finds uwkernel and the plugins from any directory."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path if p)}


def run_bounded(command, cwd=None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``command`` in its own session with :func:`subprocess_env`, capturing its output as text; kill
    whatever is left of its session when it ends (or when ``timeout`` expires, raising TimeoutExpired)."""
    with subprocess.Popen(command, cwd=cwd, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


class Server:
    """A ``uwkernel`` subprocess in its own process group, stopped (and its group killed) on exit."""

    def __init__(self, *args: str, env: dict | None = None, cwd: Path | None = None, log: Path | None = None):
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("UWSGI_", "UWKERNEL_"))}
        full_env.update(env or {})
        self.log_path = log
        self.port: int | None = None
        self.url: str | None = None
        self._log = open(log, "wb") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen([sys.executable, "-m", "uwkernel", *args], env=full_env, cwd=cwd,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        """The master's pid."""
        return self.proc.pid

    def get(self, path: str = "/", timeout: float = 5.0) -> tuple[int, bytes]:
        """One HTTP GET to the server's port (set by the fixture): (status, body)."""
        return http_get(self.port, path, timeout)

    def log_text(self) -> str:
        """What the server logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def wait_http(self, port: int, path: str = "/", timeout: float = 20.0) -> None:
        """Wait (bounded) until the server answers 200 on ``port``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if http_get(port, path, timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server did not answer on port {port}:\n{self.log_text()}")

    def signal(self, signum: int) -> None:
        """Send a signal to the master."""
        os.kill(self.proc.pid, signum)

    def wait(self, timeout: float = 20.0) -> int:
        """Wait (bounded) for the master to exit; return its status."""
        return self.proc.wait(timeout)

    def group_pids(self) -> list[int]:
        """Pids of every live process in the server's process group."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == self.proc.pid and fields[0] != "Z":
                    pids.append(int(entry))
        return pids

    def stop(self) -> None:
        """Kill the whole process group and wait (bounded) until none of it is left, whatever state it is in."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            kill_group(self.proc)
        deadline = time.monotonic() + 10
        while self.group_pids() and time.monotonic() < deadline:  # children still tearing down after the master
            time.sleep(0.01)
        if self._log is not subprocess.DEVNULL:
            self._log.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    """Poll ``predicate`` until it returns something true (returned), bounded by ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def uwkernel_server(tmp_path: Path):
    """A factory: ``uwkernel_server(*options, env=None, cwd=None)`` starts uwkernel with an HTTP socket.

    It returns once the server answers 200 on ``/`` (pass ``wait_path`` to probe another path); every
    server started is stopped at the end of the test.
    """
    servers: list[Server] = []

    def start(*options: str, env: dict | None = None, cwd: Path | None = None, wait_path: str = "/") -> Server:
        port = free_port()
        server = Server("--http-socket", f"127.0.0.1:{port}", *options, env=env, cwd=cwd,
                        log=tmp_path / f"uwkernel-{len(servers)}.log")
        servers.append(server)
        server.port = port
        server.url = f"http://127.0.0.1:{port}"
        server.wait_http(port, wait_path)
        return server

    yield start
    for server in servers:
        server.stop()
