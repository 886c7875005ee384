"""Mules in a running instance: @mulefunc, farms, respawns, scripts, touch-mules-reload, mule-harakiri."""
from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from uwkernel.testing import Server, free_port, http_get, wait_for

APP = textwrap.dedent('''
    import os, time
    from urllib.parse import parse_qs
    import uwsgi
    from uwsgidecorators import mule, mulefunc

    OUT = os.environ["MULE_OUT"]

    def record(line):
        with open(OUT, "a") as f:
            f.write(line + "\\n")

    @mulefunc
    def task(tag, pause):
        time.sleep(pause)
        record(f"task {tag} {os.getpid()} {uwsgi.mule_id()}")

    @mulefunc(1)
    def task1(tag, pause):
        time.sleep(pause)
        record(f"task1 {tag} {os.getpid()} {uwsgi.mule_id()}")

    @mulefunc("spread")
    def spread(tag):
        time.sleep(0.2)
        record(f"farm {tag} {os.getpid()} {uwsgi.mule_id()}")

    @mule(2)
    def brain():
        record(f"brain {os.getpid()} {uwsgi.mule_id()} {uwsgi.in_farm('spread')}")

    def application(environ, start_response):
        query = {k: v[0] for k, v in parse_qs(environ["QUERY_STRING"]).items()}
        what = environ["PATH_INFO"]
        if what == "/task":
            task(query["tag"], float(query.get("pause", 0)))
        elif what == "/task1":
            task1(query["tag"], float(query.get("pause", 0)))
        elif what == "/farm":
            for i in range(int(query["n"])):
                spread(i)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{os.getpid()} {uwsgi.mule_id()}".encode()]
''')

SCRIPT = textwrap.dedent('''
    import os, uwsgi
    with open(os.environ["MULE_OUT"], "a") as f:
        f.write(f"script {os.getpid()} {uwsgi.mule_id()}\\n")
    while True:
        message = uwsgi.mule_get_msg()
        if message:
            uwsgi.mule_msg_hook(message)  # set by the app's uwsgidecorators import
''')


def procname(pid: int) -> str:
    """What ``ps`` shows for ``pid`` ("" once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


class Instance:
    """A running instance with mules; ``lines()`` is what the mules recorded."""

    def __init__(self, server: Server, port: int, out: Path):
        self.server, self.port, self.out = server, port, out

    def get(self, path: str) -> tuple[int, bytes]:
        """One HTTP GET."""
        return http_get(self.port, path, timeout=10)

    def lines(self, prefix: str) -> list[list[str]]:
        """The recorded lines starting with ``prefix``, split."""
        text = self.out.read_text() if self.out.exists() else ""
        return [line.split() for line in text.splitlines() if line.startswith(prefix + " ")]

    def mule_pids(self) -> dict[int, int]:
        """{mule number: pid} of the live mules."""
        found = {}
        for pid in self.server.group_pids():
            name = procname(pid)
            if name.startswith("uWSGI mule "):
                found[int(name.split()[2])] = pid
        return found

    def worker_pids(self) -> set[int]:
        """Pids of the live workers."""
        return {pid for pid in self.server.group_pids() if procname(pid).startswith("uWSGI worker")}


@pytest.fixture
def start(tmp_path):
    """Start an instance of the test app with 2 workers, mules 1-2 (farm "spread") and mule 3 (a script)."""
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "script.py").write_text(SCRIPT)
    servers = []

    def run(*extra: str) -> Instance:
        port = free_port()
        out = tmp_path / "out.txt"
        server = Server("--http-socket", f"127.0.0.1:{port}", "--master", "--processes", "2",
                        "--wsgi-file", str(tmp_path / "app.py"), "--mules", "2", f"--mule={tmp_path / 'script.py'}",
                        "--farm", "spread:1,2", *extra, env={"MULE_OUT": str(out)}, log=tmp_path / "server.log")
        servers.append(server)
        server.wait_http(port)
        instance = Instance(server, port, out)
        wait_for(lambda: len(instance.mule_pids()) == 3, what="three mules")
        return instance

    yield run
    for server in servers:
        server.stop()


def test_procnames_mule_ids_and_post_fork_decorators(start):
    instance = start()
    pids = instance.mule_pids()
    assert sorted(pids) == [1, 2, 3]
    script = wait_for(lambda: instance.lines("script"), what="the mule script")
    assert script == [["script", str(pids[3]), "3"]]
    brain = wait_for(lambda: instance.lines("brain"), what="@mule(2)")
    assert brain == [["brain", str(pids[2]), "2", "True"]]
    status, body = instance.get("/")
    assert status == 200 and body.split()[1] == b"0"  # mule_id() is 0 in workers


def test_mulefunc_runs_in_a_mule_and_returns_at_once(start):
    instance = start()
    begin = time.monotonic()
    status, body = instance.get("/task?tag=t1&pause=1")
    assert status == 200 and time.monotonic() - begin < 0.8
    line = wait_for(lambda: instance.lines("task"), what="the mule to run the task")[0]
    pid, mule = int(line[2]), int(line[3])
    assert pid not in instance.worker_pids() and pid != instance.server.pid
    assert instance.mule_pids()[mule] == pid


def test_farms_spread_messages(start):
    instance = start()
    assert instance.get("/farm?n=10")[0] == 200
    done = wait_for(lambda: len(instance.lines("farm")) == 10 and instance.lines("farm"), what="ten farm tasks")
    assert sorted(int(line[1]) for line in done) == list(range(10))
    assert {line[3] for line in done} == {"1", "2"}


def test_a_mule_killed_with_sigkill_is_respawned_and_gets_later_messages(start):
    instance = start()
    old = instance.mule_pids()[1]
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: instance.mule_pids().get(1, old) != old and instance.mule_pids()[1], what="a new mule 1")
    assert instance.get("/task1?tag=after")[0] == 200
    line = wait_for(lambda: instance.lines("task1"), what="mule 1 to get the message")[0]
    assert line == ["task1", "after", str(new), "1"]


def test_touch_mules_reload(start, tmp_path):
    trigger = tmp_path / "reload-mules"
    trigger.write_text("")
    instance = start("--touch-mules-reload", str(trigger))
    before = instance.mule_pids()
    workers = instance.worker_pids()
    time.sleep(1.1)
    trigger.write_text("touched")
    wait_for(lambda: (len(after := instance.mule_pids()) == 3 and not set(after.values()) & set(before.values())),
             timeout=20, what="every mule respawned")
    assert instance.worker_pids() == workers


def test_mule_harakiri(start, tmp_path):
    instance = start("--mule-harakiri", "1")
    before = instance.mule_pids()
    assert instance.get("/task1?tag=slow&pause=30")[0] == 200
    wait_for(lambda: "HARAKIRI ON MULE" in (tmp_path / "server.log").read_text(), timeout=10, what="mule harakiri")
    wait_for(lambda: len(now := instance.mule_pids()) == 3 and now[1] != before[1], what="mule 1 respawned")
    assert instance.lines("task1") == []


def test_reload_respawns_mules_with_the_instance(start):
    instance = start()
    before = set(instance.mule_pids().values())
    instance.server.signal(signal.SIGHUP)
    wait_for(lambda: len(now := instance.mule_pids()) == 3 and not set(now.values()) & before, timeout=30,
             what="new mules after a reload")
