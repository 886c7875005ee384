"""The ``uwsgi`` module and uwsgidecorators in a running instance, checked against types-uwsgi."""
from __future__ import annotations

import ast
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import pytest

from uwkernel.testing import Server, free_port, http_get, wait_for

# The names the core (this plugin) must provide, from types-uwsgi's stub: everything but the names of
# plugins still to come (cache, queue, sharedarea, snmp, metrics, websocket, async, legion, alarm, ...)
# and those of the spooler, signals, cron, rpc and mules plugins.
CORE = ["version", "version_info", "hostname", "numproc", "opt", "masterpid", "worker_id", "workers",
        "total_requests", "request_id", "started_on", "sockets", "accepting", "log", "setprocname", "reload",
        "stop", "is_a_reload", "listen_queue", "ready", "micros", "mem", "cores", "buffer_size", "has_threads",
        "applications", "magic_table", "set_user_harakiri", "lock", "unlock", "is_locked", "set_warning_message",
        "logsize", "parsefile", "extract", "connect", "send", "recv", "close", "is_connected", "unbit", "loop",
        "connection_fd", "disconnect", "log_this_request", "set_logvar", "get_logvar", "add_var", "cl",
        "chunked_read", "chunked_read_nb"]

STATE_APP = '''
import json, uwsgi

def describe(value):
    if callable(value):
        return "callable"
    return type(value).__name__

def application(environ, start_response):
    names = [n for n in dir(uwsgi) if not n.startswith("_")]
    calls = {"masterpid": uwsgi.masterpid(), "worker_id": uwsgi.worker_id(), "workers": len(uwsgi.workers()),
             "worker_keys": sorted(uwsgi.workers()[0]), "total_requests": uwsgi.total_requests(),
             "request_id": uwsgi.request_id(), "micros": uwsgi.micros(), "mem": list(uwsgi.mem()),
             "ready": uwsgi.ready(), "listen_queue": uwsgi.listen_queue(), "is_locked": uwsgi.is_locked(),
             "log": uwsgi.log("hello from the app"), "logsize": uwsgi.logsize(),
             "set_warning_message": uwsgi.set_warning_message("careful")}
    uwsgi.lock(); locked = uwsgi.is_locked(); uwsgi.unlock()
    calls["locked_inside"] = locked
    try:
        uwsgi.spool
        calls["spool"] = "present"
    except AttributeError as exc:
        calls["spool"] = str(exc)
    opt = {k: (v.decode() if isinstance(v, bytes) else [x.decode() for x in v] if isinstance(v, list) else v)
           for k, v in uwsgi.opt.items()}
    body = json.dumps({"types": {n: describe(getattr(uwsgi, n)) for n in names}, "calls": calls, "opt": opt,
                       "version": uwsgi.version.decode(), "version_info": [
                           x.decode() if isinstance(x, bytes) else x for x in uwsgi.version_info]}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
'''


def _stub() -> tuple[set[str], dict[str, str]]:
    path = Path(sysconfig.get_paths()["purelib"]) / "uwsgi-stubs" / "__init__.pyi"
    if not path.exists():
        pytest.skip("types-uwsgi is not installed (it is in the python plugin's test extras)")
    tree = ast.parse(path.read_text())
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    variables = {node.target.id: ast.unparse(node.annotation) for node in tree.body
                 if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
    return functions, variables


STUB_TYPES = {"int": {"int"}, "bytes": {"bytes"}, "bool": {"bool"}, "_TrueOrNone": {"NoneType", "bool"},
              "bytes | None": {"bytes", "NoneType"}, "list[int]": {"list"},
              "tuple[int, int, int, int, bytes]": {"tuple"}}


def test_uwsgi_module_matches_types_uwsgi(uwkernel_server, tmp_path):
    functions, variables = _stub()
    app = tmp_path / "app.py"
    app.write_text(STATE_APP)
    server = uwkernel_server("--wsgi-file", str(app), "--master", "--processes", "2", "--env", "X=1",
                             "--env", "Y=2", "--enable-threads")
    deadline = time.monotonic() + 10
    while True:  # uwsgi.ready() is True once both workers accept: the first request may come before
        status, body = server.get("/")
        assert status == 200, body
        state = json.loads(body)
        if state["calls"]["ready"] is True or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    types = state["types"]
    missing = [name for name in CORE if name not in types]
    assert missing == []
    for name, kind in types.items():
        if name in functions:
            assert kind == "callable", name
        elif name in variables and variables[name] in STUB_TYPES:
            assert kind in STUB_TYPES[variables[name]], (name, kind, variables[name])
        elif name in variables and variables[name].startswith("dict"):
            assert kind in ("dict", "NoneType"), name
    unknown = sorted(set(types) - functions - set(variables) - {"post_fork_hook", "spooler", "mule_msg_hook", "add_ms_timer"})
    assert unknown == [], "names the stub does not know"
    calls = state["calls"]
    assert calls["masterpid"] == server.pid and calls["worker_id"] in (1, 2) and calls["workers"] == 2
    assert {"id", "pid", "requests", "status", "rss", "avg_rt"} <= set(calls["worker_keys"])
    assert calls["ready"] is True and calls["is_locked"] is False and calls["locked_inside"] is True
    assert calls["log"] is True and calls["set_warning_message"] is True
    assert "uwkernel-spooler" in calls["spool"] and "spooler = DIR" in calls["spool"]
    assert state["version"] == "2.0.31" and state["version_info"][:3] == [2, 0, 31]
    assert state["opt"]["env"] == ["X=1", "Y=2"] and state["opt"]["processes"] == "2"
    assert state["opt"]["enable-threads"] is True
    assert "hello from the app" in server.log_text()


def test_import_uwsgi_outside_uwkernel_fails_as_in_uwsgi():
    result = subprocess.run([sys.executable, "-c", "import uwsgi"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "No module named 'uwsgi'" in result.stderr


DECORATED = '''
import os, threading, time, uwsgi
from uwsgidecorators import postfork, thread, lock, harakiri

OUT = os.environ["OUT_DIR"]

@postfork
def mark():
    with open(os.path.join(OUT, f"postfork-{os.getpid()}"), "w") as f:
        f.write(str(uwsgi.worker_id()))

@thread
def background(path):
    time.sleep(0.1)
    with open(path, "w") as f:
        f.write(threading.current_thread().name)

@lock
def increment():
    path = os.path.join(OUT, "counter")
    value = int(open(path).read()) if os.path.exists(path) else 0
    time.sleep(0.001)
    with open(path, "w") as f:
        f.write(str(value + 1))

@harakiri(1)
def slow():
    time.sleep(10)

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/thread":
        background(os.path.join(OUT, "thread"))
    elif path == "/inc":
        increment()
    elif path == "/slow":
        slow()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
'''


@pytest.fixture
def decorated(uwkernel_server, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    app = tmp_path / "app.py"
    app.write_text(DECORATED)
    server = uwkernel_server("--wsgi-file", str(app), "--master", "--processes", "2",
                             env={"OUT_DIR": str(out)})
    return server, out


def _postforks(out: Path) -> dict[int, str]:
    return {int(p.name.split("-")[1]): p.read_text() for p in out.glob("postfork-*")}


def test_postfork_runs_once_in_every_worker_and_after_respawn(decorated):
    server, out = decorated
    workers = set(server.group_pids()) - {server.pid}
    wait_for(lambda: set(_postforks(out)) == workers, what="postfork in both workers")
    assert sorted(_postforks(out).values()) == ["1", "2"]
    victim = next(iter(workers))
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(_postforks(out)) == 3, what="postfork in the respawned worker")
    assert server.pid not in _postforks(out)


def test_thread_runs_in_the_background(decorated):
    server, out = decorated
    assert server.get("/thread")[0] == 200
    wait_for(lambda: (out / "thread").exists() and (out / "thread").read_text(), what="the thread")
    assert (out / "thread").read_text() != "MainThread"


def test_lock_keeps_200_concurrent_read_modify_writes_exact(decorated):
    server, out = decorated
    errors = []

    def hammer():
        for _ in range(25):
            try:
                assert server.get("/inc", timeout=20)[0] == 200
            except (OSError, AssertionError) as exc:
                errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert (out / "counter").read_text() == "200"


def test_harakiri_decorator_kills_a_slow_call_and_the_worker_comes_back(decorated):
    server, out = decorated
    with pytest.raises((OSError, ValueError, IndexError)):
        server.get("/slow", timeout=15)
    assert "HARAKIRI ON WORKER" in server.log_text()
    wait_for(lambda: len(set(server.group_pids()) - {server.pid}) == 2, what="the worker to come back")
    assert server.get("/")[0] == 200


def test_pyrun_runs_a_script_in_the_instance_and_stops_with_its_status(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import sys, uwsgi\nuwsgi.log(f'PYRUN masterpid={uwsgi.masterpid()} procs={uwsgi.numproc}')\n"
                      "sys.exit(7)\n")
    port = free_port()
    with Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(tmp_path / "none.py"), "--pyrun",
                str(script), "--processes", "2", log=tmp_path / "log") as server:
        assert server.wait(30) == 7
        assert f"PYRUN masterpid={server.pid} procs=2" in server.log_text()
        assert server.group_pids() == []


AIOSERVER = Path(__file__).resolve().parents[3] / "examples" / "aioserver" / "server.py"


def test_worker_override_with_the_aiohttp_example_two_sockets_four_workers(tmp_path):
    aiohttp = pytest.importorskip("aiohttp", reason="aiohttp is in the python plugin's test extras")
    import asyncio

    ports = [free_port(), free_port()]
    with Server("--http-socket", f"127.0.0.1:{ports[0]}", "--http-socket", f"127.0.0.1:{ports[1]}", "--master",
                "--processes", "4", "--python-worker-override", str(AIOSERVER), log=tmp_path / "log") as server:
        for port in ports:
            server.wait_http(port, "/bob")
        wait_for(lambda: server.log_text().count("aioserver: worker") >= 4, what="four workers serving")

        async def exercise(port: int) -> tuple[str, str]:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/alice") as response:
                    text = await response.text()
                async with session.ws_connect(f"http://127.0.0.1:{port}/echo") as ws:
                    await ws.send_str("websocket")
                    echoed = await asyncio.wait_for(ws.receive_str(), 10)
            return text, echoed

        for port in ports:
            text, echoed = asyncio.run(exercise(port))
            assert text.startswith("Hello, alice (worker ") and echoed == "Hello, websocket"
        old = set(server.group_pids()) - {server.pid}
        server.signal(signal.SIGHUP)
        wait_for(lambda: not (set(server.group_pids()) & old), timeout=30, what="the workers to be replaced")
        server.wait_http(ports[0], "/again")
        assert asyncio.run(exercise(ports[1]))[1] == "Hello, websocket"
        assert server.proc.poll() is None


REQUEST_APP = '''
import os, uwsgi

def application(environ, start_response):
    uwsgi.set_logvar("user_id", "u42")
    uwsgi.add_var("EXTRA", "added")
    if environ["PATH_INFO"] == "/logme":
        uwsgi.log_this_request()
    body = f"{uwsgi.cl()} {os.fstat(uwsgi.connection_fd()).st_mode > 0} {uwsgi.get_logvar('user_id').decode()} "
    body += environ["EXTRA"] + " " + environ["wsgi.input"].read().decode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]
'''


def test_request_level_names_and_logvars(uwkernel_server, tmp_path):
    app = tmp_path / "app.py"
    app.write_text(REQUEST_APP)
    server = uwkernel_server("--wsgi-file", str(app), "--log-format", "REQ %(uri) user=%(user_id) extra=%(var.EXTRA)")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"POST /x HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.endswith(b"5 True u42 added hello")
    wait_for(lambda: "REQ /x user=u42 extra=added" in server.log_text(), what="the request line with the logvar")
    quiet = uwkernel_server("--wsgi-file", str(app), "--disable-logging")
    quiet.get("/plain")
    quiet.get("/logme")
    wait_for(lambda: "GET /logme" in quiet.log_text(), what="the forced log line")
    assert "GET /plain" not in quiet.log_text()
