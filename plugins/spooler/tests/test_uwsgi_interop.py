"""Spool dirs shared with uWSGI 2.0 itself: each consumes what the other wrote, and both drain one dir.

uWSGI is found by ``support.uwsgi_binary``: ``make test`` builds it and passes its path in ``$UWKERNEL_TEST_UWSGI``
(these tests then fail when it is missing); run by hand, they skip, saying so, when there is no uWSGI.
"""
from __future__ import annotations

import collections
import json
import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from uwkernel.testing import kill_group

from support import free_port, http_get, uwsgi_binary

#: An app for uWSGI: /spool writes tasks (its query says which); its spooler callable records each task.
UWSGI_APP = '''
import json, os, time, urllib.parse
import uwsgi

RESULTS = os.environ["SPOOL_RESULTS"]

def spooler(task):
    line = {(k.decode() if isinstance(k, bytes) else k): (v.decode("latin-1") if isinstance(v, bytes) else v)
            for k, v in task.items()}
    line["pid"] = os.getpid()
    line["server"] = "uwsgi"
    if task.get(b"sleep"):
        time.sleep(float(task[b"sleep"]))
    with open(RESULTS, "a") as f:
        f.write(json.dumps(line) + "\\n")
    return uwsgi.SPOOL_OK

uwsgi.spooler = spooler

def application(environ, start_response):
    if environ["PATH_INFO"] == "/spool":
        query = dict(urllib.parse.parse_qsl(environ["QUERY_STRING"]))
        count = int(query.pop("count", "1"))
        for i in range(count):
            task = {k.encode(): v.encode() for k, v in query.items()}
            task[b"i"] = str(i).encode()
            uwsgi.spool(task)
    start_response("200 OK", [])
    return [b"ok"]
'''


class Uwsgi:
    """uWSGI 2.0 running UWSGI_APP on an HTTP port, in its own process group (killed by :meth:`stop`)."""

    def __init__(self, binary: str, tmp_path: Path, results: Path, *argv: str):
        self.port = free_port()
        app = tmp_path / "uwsgi_app.py"
        app.write_text(textwrap.dedent(UWSGI_APP))
        self.log = tmp_path / "uwsgi-log.txt"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UWSGI_", "UWKERNEL_"))}
        env["SPOOL_RESULTS"] = str(results)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [binary, "--master", "--http-socket", f"127.0.0.1:{self.port}", "--wsgi-file", str(app),
                 "--disable-logging", *argv], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"uWSGI exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if http_get(self.port, "/", timeout=2)[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError(f"uWSGI did not answer:\n{self.log.read_text()}")

    def get(self, path: str) -> None:
        """GET ``path``, expecting 200."""
        status, body = http_get(self.port, path, timeout=30)
        assert status == 200, (status, body, self.log.read_text())

    def stop(self) -> None:
        """Kill uWSGI's whole process group (bounded)."""
        kill_group(self.proc)


@pytest.fixture
def uwsgi(tmp_path):
    """Start uWSGI: ``uwsgi(*options)``; every uWSGI started is killed at the end of the test."""
    binary = uwsgi_binary()
    started = []

    def start(*argv: str) -> Uwsgi:
        server = Uwsgi(binary, tmp_path, tmp_path / "results.jsonl", *argv)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _results(tmp_path: Path) -> list[dict]:
    path = tmp_path / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")] if path.exists() else []


def _spool_every_kind(writer) -> int:
    """Have ``writer`` spool 5 tasks with a body, one with priority 5 and one with an ``at`` 2 s ahead,
    then stop it; return that ``at``."""
    writer.get("/spool?count=5&body=payload")
    writer.get("/spool?n=prio&priority=5")
    at = int(time.time()) + 2
    writer.get(f"/spool?n=at&at={at}")
    writer.stop()
    return at


def test_uwkernel_runs_a_dir_written_by_uwsgi(uwsgi, instance, tmp_path):
    spool_dir = tmp_path / "q"
    at = _spool_every_kind(uwsgi("--spooler-external", str(spool_dir)))
    names = sorted(p.name for p in spool_dir.iterdir())
    assert "5" in names and all(n.startswith("uwsgi_spoolfile_on_") for n in names if n != "5")
    server = instance("--spooler", str(spool_dir))
    tasks = server.wait_for(lambda: len(server.tasks()) == 7 and server.tasks(), timeout=15)
    assert sorted(t["i"] for t in tasks if "body" in t) == ["0", "1", "2", "3", "4"]
    assert {t["body"] for t in tasks if "body" in t} == {"payload"}
    assert [t["n"] for t in tasks if "n" in t] == ["prio", "at"]
    assert time.time() >= at
    server.wait_for(lambda: list(spool_dir.iterdir()) == [spool_dir / "5"], what="every task removed")


def test_uwsgi_runs_a_dir_written_by_uwkernel(uwsgi, instance, tmp_path):
    spool_dir = tmp_path / "q"
    at = _spool_every_kind(instance("--spooler-external", str(spool_dir)))
    assert (spool_dir / "5").is_dir() and len(list(spool_dir.glob("uwsgi_spoolfile_on_*"))) == 6
    reader = uwsgi("--spooler", str(spool_dir), "--spooler-ordered", "--spooler-frequency", "1")
    deadline = time.monotonic() + 20
    while len(_results(tmp_path)) < 7 and time.monotonic() < deadline:
        time.sleep(0.05)
    tasks = _results(tmp_path)
    assert len(tasks) == 7, (tasks, reader.log.read_text())
    assert sorted(t["i"] for t in tasks if "body" in t) == ["0", "1", "2", "3", "4"]
    assert {t["body"] for t in tasks if "body" in t} == {"payload"}
    assert {t["server"] for t in tasks} == {"uwsgi"}
    assert tasks[0]["n"] == "prio" and tasks[-1]["n"] == "at" and time.time() >= at
    assert not list(spool_dir.glob("uwsgi_spoolfile_on_*"))


def test_uwsgi_and_uwkernel_drain_one_dir_together_each_task_once(uwsgi, instance, tmp_path):
    spool_dir = tmp_path / "q"
    uwsgi("--spooler", str(spool_dir), "--spooler-frequency", "1", "--spooler-quiet")
    server = instance("--spooler", str(spool_dir), "--spooler-quiet")
    server.get("/spool?count=1500&sleep=0.002", timeout=60)
    server.wait_for(lambda: len(_results(tmp_path)) >= 1500, timeout=60, what="1500 tasks")
    time.sleep(0.5)
    tasks = _results(tmp_path)
    counts = collections.Counter(t["i"] for t in tasks)
    assert len(tasks) == 1500 and set(counts) == {str(i) for i in range(1500)}
    by_server = collections.Counter(t.get("server", "uwkernel") for t in tasks)
    assert by_server["uwsgi"] > 0 and by_server["uwkernel"] > 0, by_server
