"""Fixtures for the spooler's tests.

In-process: :func:`make_config` builds a real Config from command-line style arguments;
:class:`Harness` is one instance's spooling with a :class:`~uwkernel_spooler.loop.Spooler` for a
slot, driven scan by scan in this process, with a stand-in ``uwsgi`` module whose ``spooler``
records what it gets. End to end: :class:`Instance` runs ``python -m uwkernel`` with a spool dir, an
app and an HTTP socket in its own process group (killed at the end of the test).
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import socket
import sys
import textwrap
import types
from pathlib import Path

import pytest

from support import Server, free_port, http_get, wait_for
from uwkernel.config import build_config, read_sources
from uwkernel.plugins import PluginManager
from uwkernel_spooler.api import SpoolerAPI
from uwkernel_spooler.context import Spooling
from uwkernel_spooler.loop import Spooler
from uwkernel_spooler.options import Settings


def make_config(*argv: str):
    """A Config from uWSGI-style arguments (``"--spooler", "/tmp/q"``) with the kernel and spooler options."""
    plugins = PluginManager(entry_points=False)
    plugins.load_module("uwkernel_spooler")
    return build_config(read_sources(list(argv), {}, plugins.options), plugins.options)


@pytest.fixture(name="make_config")
def make_config_fixture():
    """:func:`make_config` for tests."""
    return make_config


class FakeProcess:
    """What the loop needs of a PluginProcess: ``stopping`` and a ``wakeup_fd``."""

    def __init__(self):
        self.stopping = False
        self.wakeup_fd, self.wakeup_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def close(self) -> None:
        """Close the wakeup pipe."""
        os.close(self.wakeup_fd)
        os.close(self.wakeup_w)


class Harness:
    """One instance's spooling, its API, and the Spooler of slot 0 running in this process."""

    def __init__(self, *argv: str):
        self.settings = Settings.from_config(make_config(*argv))
        self.spooling = Spooling(self.settings)
        self.api = SpoolerAPI(self.spooling)
        self.api.enqueuer.quiet = True
        self.process = FakeProcess()
        self.calls: list[dict] = []
        self.result = -2
        self.module = types.SimpleNamespace(spooler=self._spooler)
        self.spooler = Spooler(self.spooling, 0, self.process)

    def _spooler(self, task: dict):
        self.calls.append(task)
        return self.result(task) if callable(self.result) else self.result

    def scan(self):
        """One scan of slot 0's dir with this harness's ``uwsgi`` module; returns (ran, due)."""
        return self._with_module(self.spooler.scan)

    def run(self) -> int:
        """The spooler's whole loop (without its process set-up); returns its exit status."""
        self.spooler._set_up = lambda: None
        return self._with_module(self.spooler.run)

    def _with_module(self, func):
        saved = sys.modules.get("uwsgi")
        sys.modules["uwsgi"] = self.module
        try:
            return func()
        finally:
            if saved is None:
                sys.modules.pop("uwsgi", None)
            else:
                sys.modules["uwsgi"] = saved

    def names(self, key: bytes = b"n") -> list[bytes]:
        """The value of ``key`` in every task the spooler callable got, in order."""
        return [call[key] for call in self.calls]


@pytest.fixture
def harness(tmp_path, monkeypatch):
    """Make a :class:`Harness` with extra options: ``harness("--spooler-ordered")``; dir ``tmp_path/q``."""
    monkeypatch.chdir(tmp_path)
    made = []

    def make(*argv: str) -> Harness:
        h = Harness("--spooler", str(tmp_path / "q"), *argv)
        made.append(h)
        return h

    yield make
    for h in made:
        h.process.close()


# -- end to end ------------------------------------------------------------------------------------

#: An app that spools what its query string says and reports the uwsgi module's spooler names.
APP = '''
import json, os, time, urllib.parse
import uwsgi

RESULTS = os.environ["SPOOL_RESULTS"]

def record(task):
    line = {(k.decode() if isinstance(k, bytes) else k): (v.decode("latin-1") if isinstance(v, bytes) else v)
            for k, v in task.items()}
    line["pid"] = os.getpid()
    line["cwd"] = os.getcwd()
    with open(RESULTS, "a") as f:
        f.write(json.dumps(line) + "\\n")

def spooler(task):
    record(task)
    if task.get(b"sleep"):
        time.sleep(float(task[b"sleep"]))
    if task.get(b"sleep_once") and not os.path.exists(RESULTS + ".slept"):
        open(RESULTS + ".slept", "w").close()
        time.sleep(60)
    return int(task.get(b"ret", uwsgi.SPOOL_OK))

uwsgi.spooler = spooler

def application(environ, start_response):
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
    path = environ["PATH_INFO"]
    if path == "/spool":
        count = int(query.pop("count", "1"))
        paths = [uwsgi.spool({**query, "i": str(i)}) for i in range(count)]
        body = json.dumps([p.decode() for p in paths[:10]])
    elif path == "/info":
        body = json.dumps({"spoolers": [d.decode() for d in uwsgi.spoolers], "pids": uwsgi.spooler_pids(),
                           "pid": uwsgi.spooler_pid(), "jobs": [j.decode() for j in uwsgi.spooler_jobs()],
                           "me": uwsgi.i_am_the_spooler()})
    else:
        body = "ok"
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]
'''


def _installed() -> str | None:
    names = {ep.name for ep in importlib.metadata.entry_points(group="uwkernel.plugins")}
    missing = {"python", "spooler"} - names
    return f"plugins not installed: {', '.join(sorted(missing))} (make install)" if missing else None


class Instance:
    """``uwkernel`` with ``--spooler`` dirs, an app and an HTTP socket; results land in ``results``."""

    def __init__(self, tmp_path: Path, *argv: str, app: str = APP, stats: bool = False, env: dict | None = None):
        self.dir = tmp_path
        self.port = free_port()
        self.results = tmp_path / "results.jsonl"
        self.stats_port = free_port() if stats else None
        (tmp_path / "app.py").write_text(textwrap.dedent(app))
        args = ["--http-socket", f"127.0.0.1:{self.port}", "--wsgi-file", str(tmp_path / "app.py"), "--master",
                "--disable-logging", *argv]
        if stats:
            args += ["--stats", f"127.0.0.1:{self.stats_port}"]
        self.server = Server(*args, env={"SPOOL_RESULTS": str(self.results), **(env or {})}, cwd=tmp_path, log=tmp_path / "log.txt")
        self.pid = self.server.pid
        self.log_text, self.signal, self.wait, self.stop = (
            self.server.log_text, self.server.signal, self.server.wait, self.server.stop)
        try:
            self.server.wait_http(self.port, "/")
        except BaseException:
            self.stop()
            raise

    def get(self, path: str, timeout: float = 30.0):
        """GET ``path``; the JSON body."""
        status, body = http_get(self.port, path, timeout=timeout)
        assert status == 200, (status, body, self.log_text())
        return json.loads(body) if body.startswith((b"[", b"{")) else body

    def tasks(self) -> list[dict]:
        """Every task the spooler callable recorded so far."""
        if not self.results.exists():
            return []
        return [json.loads(line) for line in self.results.read_text().splitlines() if line.endswith("}")]

    def wait_for(self, predicate, timeout: float = 20.0, what: str = "the spooler"):
        """Poll ``predicate()`` (bounded) until it is truthy; return its value. A timeout shows the log's tail."""
        try:
            return wait_for(predicate, timeout, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}:\n{self.log_text()[-4000:]}") from None

    def stats(self) -> dict:
        """The stats server's JSON."""
        with socket.create_connection(("127.0.0.1", self.stats_port), timeout=5) as s:
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return json.loads(data)


@pytest.fixture
def instance(tmp_path):
    """Start an :class:`Instance`: ``instance("--spooler", dir)``; its process group dies with the test."""
    reason = _installed()
    if reason:
        pytest.skip(reason)
    started = []

    def start(*argv: str, **kwargs) -> Instance:
        server = Instance(tmp_path, *argv, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
