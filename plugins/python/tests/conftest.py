"""Fixtures for the python plugin's tests.

In-process: :func:`make_config` builds a real :class:`~uwkernel.config.Config` from command-line style
arguments (kernel and python plugin options), and :class:`InProcess` serves connections with a real
:class:`~uwkernel_python.loop.Core` in a thread, so protocol and WSGI behaviour is tested without
forking. End to end: :func:`uwkernel` starts ``python -m uwkernel`` (the ``Server`` of the kernel's
test support) on a free port; it skips when the plugin's entry point is not installed.
"""
from __future__ import annotations

import importlib.metadata
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from support import Server, free_port
from uwkernel.config import build_config, read_sources
from uwkernel.plugins import PluginManager
from uwkernel.process import Worker
from uwkernel.proto.uwsgi import build_packet, encode_vars
from uwkernel.scoreboard import Scoreboard
from uwkernel.sockets import ListenSocket
from uwkernel_python.loader import load_apps
from uwkernel_python.loop import Core, Server as LoopServer
from uwkernel_python.options import Settings


def make_config(*argv: str):
    """A Config from uWSGI-style arguments (``"--threads", "4"``), with the kernel and python options."""
    plugins = PluginManager(entry_points=False)
    plugins.load_module("uwkernel_python")
    return build_config(read_sources(list(argv), {}, plugins.options), plugins.options)


class _Instance:
    """What a Worker needs of the Instance: the configuration and a plugin manager."""

    def __init__(self, config, plugins):
        self.config = config
        self.plugins = plugins
        self.lazy_apps = False


class InProcess:
    """A python-plugin Core serving connections in threads of this process.

    ``proto`` is the listening socket's protocol (``uwsgi``, ``http``, ``http11``); ``argv`` are extra
    options; ``handlers`` plugs request handlers in as if a plugin returned them. Request log lines are
    off (``--disable-logging``): the end-to-end tests check them.
    """

    def __init__(self, app_path: Path, proto: str = "http11", *argv: str, handlers: dict | None = None):
        self.config = make_config("--wsgi-file", str(app_path), "--disable-logging", *argv)
        plugins = PluginManager(entry_points=False)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        self.lsock = ListenSocket(f"127.0.0.1:{listener.getsockname()[1]}", proto, listener)
        self.worker = Worker(_Instance(self.config, plugins), 1, [self.lsock], Scoreboard(1), True)
        settings = Settings.from_config(self.config)
        self.server = LoopServer(self.worker, load_apps(settings), settings)
        self.server.handlers.update(handlers or {})
        self.core = Core(self.server, 0)
        self.port = listener.getsockname()[1]

    def connect(self) -> socket.socket:
        """A client connection whose server side is served by the Core in a background thread."""
        client = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.lsock.sock.setblocking(True)
        conn, addr = self.lsock.sock.accept()
        threading.Thread(target=self.core.serve, args=(conn, addr, self.lsock), daemon=True).start()
        return client


@pytest.fixture
def settings_from():
    """Build the plugin's Settings from uWSGI-style arguments: ``settings_from("--module", "app")``."""

    def build(*argv: str) -> Settings:
        return Settings.from_config(make_config(*argv))

    return build


@pytest.fixture
def write_app(tmp_path: Path):
    """Write app source (dedented) to a file in tmp_path; return its path."""

    def write(source: str, name: str = "app.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source))
        return path

    return write


@pytest.fixture
def inprocess(write_app):
    """Make an :class:`InProcess` server for app source: ``inprocess(SOURCE, "http11", "--threads", "2")``."""

    def make(source: str, proto: str = "http11", *argv: str, handlers: dict | None = None) -> InProcess:
        return InProcess(write_app(source), proto, *argv, handlers=handlers)

    return make


def recv_until_closed(sock: socket.socket, timeout: float = 10) -> bytes:
    """Everything the peer sends until it closes the connection."""
    sock.settimeout(timeout)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def read_http_response(sock: socket.socket, buffered: bytes = b"", head_request: bool = False):
    """Read one HTTP response: ``(status, headers dict (lower-case names), body, leftover)``.

    Handles Content-Length, chunked and close-delimited bodies.
    """
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed inside a response head: {data!r}")
        data += chunk
    head, _, data = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if head_request or status in (204, 304) or status < 200:
        return status, headers, b"", data
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(data) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed inside a body")
            data += chunk
        return status, headers, data[:length], data[length:]
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            while b"\r\n" not in data:
                data += sock.recv(65536)
            size_line, _, data = data.partition(b"\r\n")
            size = int(size_line, 16)
            while len(data) < size + 2:
                data += sock.recv(65536)
            body += data[:size]
            data = data[size + 2:]
            if not size:
                return status, headers, body, data
    while chunk := sock.recv(65536):
        data += chunk
    return status, headers, data, b""


def _plugin_installed() -> str | None:
    """Why end-to-end tests cannot run, or None."""
    names = {ep.name for ep in importlib.metadata.entry_points(group="uwkernel.plugins")}
    if "python" not in names:
        return "the python plugin's entry point is not installed (pip install -e plugins/python)"
    return None


@pytest.fixture
def uwkernel(tmp_path: Path):
    """Start ``python -m uwkernel ARGS`` (own process group, killed at the end); wait for ``port``.

    ``uwkernel(*args, port=N)`` waits until N accepts connections; ``wait=False`` returns at once.
    """
    reason = _plugin_installed()
    if reason:
        pytest.skip(reason)
    started: list[Server] = []

    def start(*args: str, port: int | None = None, unix: str | None = None, wait: bool = True,
              cwd: Path | None = None, env: dict | None = None) -> Server:
        server = Server(*args, cwd=cwd or tmp_path, env=env, log=tmp_path / f"server{len(started)}.log")
        started.append(server)
        if wait:
            wait_listening(server, port=port, unix=unix)
        return server

    yield start
    for server in started:
        server.stop()


def wait_listening(server: Server, port: int | None = None, unix: str | None = None, timeout: float = 20) -> None:
    """Wait (bounded) until the server accepts connections on ``port`` (or the UNIX socket ``unix``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"server exited with {server.proc.returncode}:\n{server.log_text()}")
        try:
            if unix:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(unix)
            else:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"server not listening after {timeout}s:\n{server.log_text()}")


def wait_for_log(server: Server, text: str, timeout: float = 10) -> str:
    """Wait (bounded) until ``text`` appears in the server's log; return the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log_text()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not logged within {timeout}s:\n{server.log_text()}")


def wait_until(predicate, timeout: float = 10) -> None:
    """Wait (bounded) until ``predicate()`` is true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.01)


def uwsgi_request(variables: dict, body: bytes = b"", modifier1: int = 0, modifier2: int = 0) -> bytes:
    """A uwsgi packet carrying ``variables`` (str or bytes), followed by ``body``."""
    return build_packet(modifier1, encode_vars(variables), modifier2) + body


@pytest.fixture
def wire():
    """Client-side helpers: ``read_response``, ``recv_until_closed``, ``uwsgi_request``, ``wait_for_log``,
    ``wait_listening``, ``run_to_exit``, ``wait_until``."""
    return SimpleNamespace(read_response=read_http_response, recv_until_closed=recv_until_closed,
                           uwsgi_request=uwsgi_request, wait_for_log=wait_for_log, wait_listening=wait_listening,
                           run_to_exit=run_to_exit, wait_until=wait_until)


@pytest.fixture
def port() -> int:
    """A free TCP port on 127.0.0.1."""
    return free_port()


def run_to_exit(*args: str, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run ``python -m uwkernel ARGS`` to its exit (bounded); text output."""
    return subprocess.run([sys.executable, "-m", "uwkernel", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, start_new_session=True)
