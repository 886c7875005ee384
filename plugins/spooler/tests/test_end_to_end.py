"""A real ``uwkernel`` with spoolers: an app spools over HTTP, the spooler processes run the tasks."""
from __future__ import annotations

import collections
import os
import signal
import socket
import time
import urllib.parse

from uwkernel.proto.uwsgi import encode_packet


def _spooler_pids(server) -> list[int]:
    return [e["pid"] for e in server.stats()["spoolers"]]


def _started_spooler_pids(server) -> list[int]:
    """The spoolers' pids once every spooler published its own."""
    return server.wait_for(lambda: all(_spooler_pids(server)) and _spooler_pids(server), what="spooler pids")


def test_spool_run_stats_and_module_names(instance, tmp_path):
    server = instance("--spooler", "q", "--spooler-processes", "2", stats=True)
    _started_spooler_pids(server)
    info = server.get("/info")
    assert info["spoolers"] == [str(tmp_path / "q")] and info["me"] is None
    assert sorted(info["pids"]) == sorted(_spooler_pids(server)) and info["pid"] in info["pids"]
    paths = server.get("/spool?x=1")
    assert paths[0].startswith(str(tmp_path / "q" / "uwsgi_spoolfile_on_"))
    [task] = server.wait_for(server.tasks)
    assert task["x"] == "1" and task["spooler_task_name"] == os.path.basename(paths[0])
    assert task["pid"] in info["pids"]
    entries = server.stats()["spoolers"]
    assert [sorted(e) for e in entries] == [["dir", "pid", "respawns", "running", "tasks"]] * 2
    assert sum(e["tasks"] for e in entries) == 1 and all(e["dir"] == str(tmp_path / "q") for e in entries)
    log = server.log_text()
    assert "[spooler] written" in log and "managing request" in log and "done with task" in log


def test_a_new_task_wakes_an_idle_spooler_at_once(instance):
    server = instance("--spooler", "q", "--spooler-frequency", "60")
    time.sleep(0.5)  # the spooler's first scan is over: it waits up to 60 s
    started = time.monotonic()
    server.get("/spool?x=1")
    server.wait_for(server.tasks, timeout=5)
    assert time.monotonic() - started < 2


def test_two_dirs_selected_by_the_spooler_key(instance, tmp_path):
    server = instance("--spooler", "one", "--spooler", "two")
    server.get("/spool?n=first")
    server.get("/spool?" + urllib.parse.urlencode({"n": "second", "spooler": str(tmp_path / "two")}))
    tasks = server.wait_for(lambda: len(server.tasks()) == 2 and server.tasks())
    by_name = {t["n"]: t["cwd"] for t in tasks}
    assert by_name == {"first": str(tmp_path / "one"), "second": str(tmp_path / "two")}
    assert len({t["pid"] for t in tasks}) == 2


def test_priorities_run_in_order_with_spooler_ordered(instance):
    server = instance("--spooler", "q", "--spooler-ordered")
    server.get("/spool?n=blocker&sleep=1")
    server.wait_for(server.tasks)
    for n in range(5):
        server.get(f"/spool?n=plain{n}")
    for priority in (30, 2, 10):
        server.get(f"/spool?n=p{priority}&priority={priority}")
    tasks = server.wait_for(lambda: len(server.tasks()) == 9 and server.tasks())
    assert [t["n"] for t in tasks] == ["blocker", "p2", "p10", "p30", *[f"plain{n}" for n in range(5)]]


def test_at_delays_a_task(instance):
    server = instance("--spooler", "q")
    at = time.time() + 2
    server.get(f"/spool?n=later&at={at}")
    server.get("/spool?n=now")
    server.wait_for(server.tasks)
    assert [t["n"] for t in server.tasks()] == ["now"]
    server.wait_for(lambda: len(server.tasks()) == 2, timeout=10)
    assert int(at) <= time.time() < at + 3


def test_spool_retry_retries(instance):
    server = instance("--spooler", "q", "--spooler-frequency", "1")
    server.get("/spool?n=again&ret=-1")
    server.wait_for(lambda: len(server.tasks()) >= 3, timeout=10)
    assert {t["n"] for t in server.tasks()} == {"again"}


def test_kill_9_mid_task_runs_it_again(instance, tmp_path):
    server = instance("--spooler", "q")
    server.get("/spool?n=victim&sleep_once=1")
    [first] = server.wait_for(server.tasks)
    os.kill(first["pid"], signal.SIGKILL)
    tasks = server.wait_for(lambda: len(server.tasks()) == 2 and server.tasks(), timeout=15)
    assert tasks[1]["n"] == "victim" and tasks[1]["pid"] != first["pid"]
    server.wait_for(lambda: not list((tmp_path / "q").iterdir()), what="the task file to go")
    assert f"was running when spooler pid {first['pid']} died (1 time(s) in a row)" in server.log_text()


def test_10000_tasks_over_2_spoolers_each_run_exactly_once(instance):
    server = instance("--spooler", "q", "--spooler-processes", "2", "--spooler-quiet")
    server.get("/spool?count=10000", timeout=120)
    server.wait_for(lambda: len(server.tasks()) >= 10000, timeout=120)
    time.sleep(0.5)
    tasks = server.tasks()
    counts = collections.Counter(t["i"] for t in tasks)
    assert len(tasks) == 10000 and set(counts) == {str(i) for i in range(10000)}
    assert len({t["pid"] for t in tasks}) == 2


def test_a_garbage_file_is_set_aside(instance, tmp_path):
    server = instance("--spooler", "q")
    garbage = tmp_path / "q" / "uwsgi_spoolfile_on_garbage"
    garbage.write_bytes(b"\x11\xff\x00\x00this is not a task")
    server.get("/spool?n=good")
    server.wait_for(server.tasks)
    server.wait_for(lambda: (tmp_path / "q" / "uwsgi_spoolfile_on_garbage.bad").exists(), what="the .bad file")
    assert f"{garbage} is not a valid spool file" in server.log_text()
    server.get("/spool?n=after")
    server.wait_for(lambda: len(server.tasks()) == 2)


def _remote_spool(port: int, pairs: dict) -> bytes:
    """Send one spool request (modifier1 17) and read the whole answer, until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(encode_packet(17, pairs, raw=True))
        data = b""
        while chunk := s.recv(16):
            data += chunk
    return data


def test_remote_spool_over_the_uwsgi_protocol(instance, tmp_path):
    from support import free_port

    port = free_port()
    server = instance("--spooler", "q", "--socket", f"127.0.0.1:{port}")
    assert _remote_spool(port, {b"n": b"remote", b"body": b"not a body key here"}) == b"\xff\x00\x00\x01"
    [task] = server.wait_for(server.tasks)
    assert task["n"] == "remote"


def test_remote_pickled_arguments_get_a_clean_refusal(instance, tmp_path):
    """A @spool(pass_arguments=True) task from the network would be unpickled by our spooler: refused."""
    from support import free_port

    port = free_port()
    server = instance("--spooler", "q", "--socket", f"127.0.0.1:{port}")
    pickled = {b"ud_spool_func": b"f", b"args": b"\x80\x04N.", b"kwargs": b"\x80\x04}."}
    assert _remote_spool(port, pickled) == b"\xff\x00\x00\x00"  # the failure answer, then the close
    assert "refused: it carries pickled arguments" in server.log_text()
    assert _remote_spool(port, {b"n": b"after"}) == b"\xff\x00\x00\x01"  # the worker serves on
    assert [t["n"] for t in server.wait_for(server.tasks)] == ["after"]
    assert "Traceback" not in server.log_text()


def test_touch_spoolers_reload_and_max_tasks_respawn(instance, tmp_path):
    touch = tmp_path / "reload-spoolers"
    server = instance("--spooler", "q", "--touch-spoolers-reload", str(touch), "--spooler-max-tasks", "2",
                      stats=True)
    [before] = _started_spooler_pids(server)
    touch.write_text("x")
    server.wait_for(lambda: _spooler_pids(server)[0] not in (before, 0), what="a new spooler after the touch")
    assert server.stats()["spoolers"][0]["respawns"] == 1
    [second] = _spooler_pids(server)
    server.get("/spool?n=1")
    server.get("/spool?n=2")
    server.wait_for(lambda: _spooler_pids(server)[0] not in (second, 0), what="a recycled spooler")
    assert "maximum number of tasks reached (2)" in server.log_text()
    assert server.stats()["spoolers"][0]["respawns"] == 2


def test_spooler_harakiri(instance, tmp_path):
    server = instance("--spooler", "q", "--spooler-harakiri", "1")
    server.get("/spool?n=slow&sleep_once=1")
    [first] = server.wait_for(server.tasks)
    server.wait_for(lambda: "HARAKIRI ON THE SPOOLER" in server.log_text(), timeout=10, what="the harakiri")
    tasks = server.wait_for(lambda: len(server.tasks()) == 2 and server.tasks(), timeout=15)
    assert tasks[1]["pid"] != first["pid"]


def test_spoolers_stop_and_reload_with_the_instance(instance):
    server = instance("--spooler", "q", "--spooler-processes", "2", stats=True)
    before = set(_started_spooler_pids(server))
    server.signal(signal.SIGHUP)

    def reloaded() -> bool:  # one stats read: three could mix the old master's answer with a refusal
        pids = _safe_pids(server)
        return bool(pids) and not set(pids) & before and 0 not in pids

    server.wait_for(reloaded, timeout=30, what="new spoolers after the reload")
    server.signal(signal.SIGTERM)
    assert server.wait(30) == 0
    assert not [pid for pid in before if os.path.exists(f"/proc/{pid}") and _alive(pid)]


def _safe_pids(server) -> list[int]:
    try:
        return _spooler_pids(server)
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_spooler_reload_lets_the_running_task_finish(instance, tmp_path):
    touch = tmp_path / "reload-spoolers"
    server = instance("--spooler", "q", "--touch-spoolers-reload", str(touch), stats=True)
    [before] = _started_spooler_pids(server)
    server.get("/spool?n=long&sleep=1.5")
    server.wait_for(server.tasks)
    touch.write_text("x")
    server.wait_for(lambda: _spooler_pids(server)[0] not in (before, 0), what="a new spooler after the touch")
    assert "done with task" in server.log_text() and "Traceback" not in server.log_text()
    time.sleep(1)
    assert [t["n"] for t in server.tasks()] == ["long"]
    assert not list((tmp_path / "q").iterdir())
