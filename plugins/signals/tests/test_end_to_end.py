"""Signals in running instances: targets (by pid), timers, file monitors, remote signals, signal_wait."""
from __future__ import annotations

import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

from uwkernel.testing import Server, free_port, http_get, wait_for

APP = Path(__file__).with_name("sigapp.py")


def _lines(out: Path, name: str) -> list[int]:
    path = out / name
    return [int(x) for x in path.read_text().split()] if path.exists() else []


@pytest.fixture
def instance(tmp_path):
    """A master with 2 workers, an HTTP and a uwsgi socket, running sigapp.py; returns (server, out dir)."""
    out = tmp_path / "out"
    out.mkdir()
    watched = tmp_path / "watched"
    watched.touch()
    port, uport = free_port(), free_port()
    server = Server("--http-socket", f"127.0.0.1:{port}", "--socket", f"127.0.0.1:{uport}", "--wsgi-file", str(APP),
                    "--master", "--processes", "2", "--harakiri", "20",
                    env={"SIGOUT": str(out), "WATCHED": str(watched), "NODE": f"127.0.0.1:{uport}"},
                    log=tmp_path / "server.log")
    server.port, server.uport, server.watched = port, uport, watched
    try:
        server.wait_http(port)
        wait_for(lambda: len(_worker_pids(server)) == 2, 10, "two workers")
        yield server, out
    finally:
        server.stop()


def _worker_pids(server) -> set[int]:
    return {pid for pid in server.group_pids() if pid != server.pid}


def test_every_target_delivers_where_it_should(instance):
    server, out = instance
    workers = _worker_pids(server)
    for num in (1, 2, 3, 4, 5):
        assert http_get(server.port, f"/raise/{num}")[0] == 200
    assert set(wait_for(lambda: len(_lines(out, "workers-1")) == 2 and _lines(out, "workers-1"))) == workers
    assert set(wait_for(lambda: len(_lines(out, "active-4")) == 2 and _lines(out, "active-4"))) == workers
    assert len(wait_for(lambda: _lines(out, "worker-2"))) == 1
    assert wait_for(lambda: _lines(out, "first-5"))[0] in workers
    worker2 = wait_for(lambda: _lines(out, "worker2-3"))
    status = subprocess.run(["ps", "-o", "args=", "-p", str(worker2[0])], capture_output=True, text=True).stdout
    assert worker2[0] in workers and "worker 2" in status


def test_unsupported_target_and_registered(instance):
    server, out = instance
    assert http_get(server.port, "/raise/20")[0] == 200
    wait_for(lambda: "UNSUPPORTED SIGNAL TARGET" in server.log_text(), 5, "the unsupported target line")
    assert http_get(server.port, "/registered/1")[1] == b"True"
    assert http_get(server.port, "/registered/99")[1] == b"None"


def test_timer_rbtimer_and_mstimer_counts(instance):
    server, out = instance
    wait_for(lambda: len(_lines(out, "timer-10")) >= 3, 10, "three timer ticks")
    assert len(_lines(out, "rbtimer-11")) == 2  # 2 iterations, then never again
    assert len(_lines(out, "mstimer-12")) >= 10  # every 200 ms for 3 s


def test_filemon_fires_on_touch(instance):
    server, out = instance
    server.watched.touch()
    assert set(wait_for(lambda: len(_lines(out, "filemon-13")) >= 2 and _lines(out, "filemon-13"), 5)) \
        == _worker_pids(server)


def test_handler_that_raises_is_logged_and_worker_keeps_serving(instance):
    server, out = instance
    http_get(server.port, "/raise/6")
    wait_for(lambda: server.log_text().count("RuntimeError: boom 6") == 2, 5, "both workers to log the error")
    pids = _worker_pids(server)
    for _ in range(4):
        assert http_get(server.port, "/")[0] == 200
    assert _worker_pids(server) == pids


def test_remote_signal_over_modifier1_110(instance):
    server, out = instance
    with socket.create_connection(("127.0.0.1", server.uport), timeout=5) as s:
        s.sendall(struct.pack("<BHB", 110, 0, 1))
        assert s.recv(4) == struct.pack("<BHB", 255, 0, 1)
    wait_for(lambda: len(_lines(out, "workers-1")) == 2, 5, "the remote signal")
    assert http_get(server.port, "/remote/2")[0] == 200  # uwsgi.signal(2, node): the client side
    wait_for(lambda: _lines(out, "worker-2"), 5, "the signal sent through the node")


def test_remote_signal_to_a_dead_node_raises():
    from uwkernel_signals.remote import send_remote
    with pytest.raises(IOError):
        send_remote(f"127.0.0.1:{free_port()}", 1, 2)


def test_signal_wait(instance):
    server, out = instance
    result = {}
    waiter = threading.Thread(target=lambda: result.update(r=http_get(server.port, "/wait/7", timeout=15)))
    waiter.start()
    deadline = time.monotonic() + 10
    while waiter.is_alive() and time.monotonic() < deadline:
        http_get(server.port, "/raise/7")
        waiter.join(0.5)
    assert result["r"] == (200, b"7")


def test_signal_registered_in_a_worker_goes_to_that_worker_only(instance):
    server, out = instance
    pid = int(http_get(server.port, "/register/40")[1])
    http_get(server.port, "/raise/40")
    assert wait_for(lambda: _lines(out, "local-40")) == [pid]


def _plugin_available(name: str) -> bool:
    from importlib.metadata import entry_points
    return name in {ep.name for ep in entry_points(group="uwkernel.plugins")}


@pytest.mark.skipif(not _plugin_available("spooler"), reason="--spooler needs the uwkernel-spooler plugin")
def test_timer_with_spooler_target_runs_in_the_spooler(tmp_path):
    out, spool = tmp_path / "out", tmp_path / "spool"
    out.mkdir()
    port = free_port()
    with Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(APP.with_name("spoolapp.py")), "--master",
                "--processes", "1", "--spooler", str(spool), env={"SIGOUT": str(out)},
                log=tmp_path / "server.log") as server:
        server.wait_http(port)
        pids = wait_for(lambda: _lines(out, "spooler-timer"), 5, "the timer in the spooler")
        status = subprocess.run(["ps", "-o", "args=", "-p", str(pids[0])], capture_output=True, text=True).stdout
        assert "uWSGI spooler" in status


def _pids_named(server, prefix: str) -> dict[str, int]:
    """{procname: pid} of the server's live processes whose procname starts with ``prefix``."""
    found = {}
    for pid in server.group_pids():
        try:
            name = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if name.startswith(prefix):
            found[name] = pid
    return found


def _mule_pids(server) -> dict[int, int]:
    """{mule number: pid} of the server's live mules ("uWSGI mule N")."""
    return {int(name.split()[2]): pid for name, pid in _pids_named(server, "uWSGI mule ").items()}


def _records(out: Path, name: str) -> list[tuple[int, int]]:
    """The (pid, mule_id) lines muleapp.py's handlers wrote to OUT/name."""
    numbers = [int(x) for x in (out / name).read_text().split()] if (out / name).exists() else []
    return list(zip(numbers[::2], numbers[1::2]))


@pytest.mark.skipif(not _plugin_available("mules"), reason="--mules needs the uwkernel-mules plugin")
def test_mule_targets_deliver_to_exactly_their_mules(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    port = free_port()
    with Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(APP.with_name("muleapp.py")), "--master",
                "--processes", "1", "--mules", "3", "--farm", "odd:1,3", "--farm", "even:2",
                env={"SIGOUT": str(out)}, log=tmp_path / "server.log") as server:
        server.wait_http(port)
        mules = wait_for(lambda: len(found := _mule_pids(server)) == 3 and found, 10, "three mules")
        assert http_get(port, "/raise/30,31,32,33,34,35,36,39")[0] == 200
        # 39 ("mules") is raised last: once every mule ran it, each has run whatever came before it.
        assert sorted(wait_for(lambda: len(_records(out, "last")) == 3 and _records(out, "last"), 10,
                               "signal 39 in every mule")) == sorted((pid, n) for n, pid in mules.items())
        expected = {"mule2": [2], "mules": [1, 2, 3], "farm_odd": [1, 3], "farm2": [2], "farm1": [1, 3]}
        for target in ("mule", "mule0", *expected):
            records = _records(out, target)
            assert all(mules[n] == pid for pid, n in records), (target, records, mules)
            ran_in = sorted(n for _, n in records)
            if target in expected:
                assert ran_in == expected[target], target
            else:  # any one mule
                assert len(ran_in) == 1, target
        assert "SIGNAL" not in server.log_text() and "no process for target" not in server.log_text()


def _spooler_pid(server) -> dict[int, int]:
    """{1: pid} of the server's live spooler."""
    return {1: pid for pid in _pids_named(server, "uWSGI spooler").values()}


# target, the plugin, its options, the master's harakiri line for pid {pid}, the process's pid(s)
HARAKIRI_CASES = {
    "spooler": ("spooler", ["--spooler", "{tmp}/spool", "--spooler-harakiri", "1"],
                "*** HARAKIRI ON THE SPOOLER (pid: {pid}) ***", _spooler_pid),
    "mule1": ("mules", ["--mules", "1", "--mule-harakiri", "1"],
              "*** HARAKIRI ON MULE 1 HANDLING SIGNAL/MESSAGE (pid: {pid}) ***", _mule_pids),
}


@pytest.mark.parametrize("target", HARAKIRI_CASES)
def test_a_signal_handler_runs_under_the_harakiri_of_its_process(tmp_path, target):
    plugin, options, line, pids = HARAKIRI_CASES[target]
    if not _plugin_available(plugin):
        pytest.skip(f"needs the uwkernel-{plugin} plugin")
    out = tmp_path / "out"
    out.mkdir()
    port = free_port()
    with Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(APP.with_name("slowapp.py")), "--master",
                "--processes", "1", *(o.format(tmp=tmp_path) for o in options),
                env={"SIGOUT": str(out), "SIGTARGET": target}, log=tmp_path / "server.log") as server:
        server.wait_http(port)
        assert http_get(port, "/raise")[0] == 200
        first = wait_for(lambda: _lines(out, "slow"), 5, "the slow handler")[0]
        assert pids(server) == {1: first}
        wait_for(lambda: line.format(pid=first) + "\n" in server.log_text(), 10, "the harakiri")
        new = wait_for(lambda: pids(server).get(1, first) != first and pids(server)[1], 10, "a new process")
        assert http_get(port, "/again")[0] == 200
        assert wait_for(lambda: _lines(out, "again"), 10, "the next handler in the new process") == [new]
