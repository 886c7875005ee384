"""Fixtures for the Emperor's tests: vassal files, an Emperor server, its stats document."""
from __future__ import annotations

import json
import socket
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from uwkernel.testing import Server, free_port, http_get, wait_for

APP = """\
import os, time
LOADED = time.time_ns()

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{os.environ.get('NAME', '?')} {LOADED}".encode()]
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A WSGI app answering ``NAME LOADED``: its NAME variable and when it was loaded (ns)."""
    path = tmp_path / "app.py"
    path.write_text(APP)
    return path


@pytest.fixture
def vassals(tmp_path: Path) -> Path:
    """The directory the Emperor watches."""
    path = tmp_path / "vassals"
    path.mkdir()
    return path


@pytest.fixture
def write_vassal(app: Path, vassals: Path):
    """``write_vassal("a.ini", extra="")`` writes a vassal serving ``app`` on a free port; returns the port."""

    def write(name: str, extra: str = "", directory: Path = vassals) -> int:
        port = free_port()
        text = f"[uwsgi]\nhttp-socket = 127.0.0.1:{port}\nwsgi-file = {app}\nenv = NAME={Path(name).stem}\n"
        (directory / name).write_text(text + textwrap.dedent(extra))
        return port

    return write


@pytest.fixture
def emperor(tmp_path: Path, vassals: Path):
    """``emperor(*options)`` starts ``uwkernel --emperor VASSALS`` with a stats server; stopped at the end."""
    servers: list[Server] = []

    def start(*options: str, source: str | None = None) -> Server:
        stats_port = free_port()
        server = Server("--emperor", source or str(vassals), "--emperor-stats", f"127.0.0.1:{stats_port}",
                        "--emperor-freq", "60", *options, log=tmp_path / f"emperor-{len(servers)}.log")
        server.stats_port = stats_port
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def read_stats(server: Server) -> dict:
    """The Emperor's stats document (raises OSError while the server is not up)."""
    with socket.create_connection(("127.0.0.1", server.stats_port), timeout=5) as s:
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return json.loads(data)


def vassal_pid(server: Server, name: str) -> int:
    """The pid of vassal ``name`` (its file name), waiting (bounded) until it runs."""

    def pid():
        try:
            return next((v["pid"] for v in read_stats(server)["vassals"] if v["id"] == name), 0)
        except OSError:
            return 0

    return wait_for(pid, what=f"vassal {name} running:\n{server.log_text()}")


def body(port: int) -> str:
    """The body a vassal answers on ``/``, "" when it does not answer."""
    try:
        status, data = http_get(port, timeout=2)
    except OSError:
        return ""
    return data.decode() if status == 200 else ""


@pytest.fixture
def check():
    """The helpers above for tests (conftest is not importable under --import-mode=importlib)."""
    return SimpleNamespace(stats=read_stats, vassal_pid=vassal_pid, body=body, wait_for=wait_for)
