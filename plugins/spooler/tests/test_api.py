"""uwsgi.spool & co, the options, the board, and the modifier1 17 handler, in this process."""
from __future__ import annotations

import array
import os
import signal
import stat
import time

import pytest

import uwkernel_spooler
from uwkernel.errors import ConfigError
from uwkernel.proto.uwsgi import build_packet, encode_vars
from uwkernel_spooler import remote, spoolfile
from uwkernel_spooler.board import Board
from uwkernel_spooler.options import Settings
from uwkernel_spooler.supervise import Supervisor, stats


def _file(path: bytes) -> tuple[dict, bytes]:
    with open(path, "rb") as f:
        return spoolfile.parse(f.read())


def test_spool_writes_a_uwsgi_spool_file(harness, tmp_path):
    h = harness()
    path = h.api.spool({b"a": b"1", "text": "é", "n": 5, "f": 1.5, "body": b"BODY"})
    assert isinstance(path, bytes)
    name = os.path.basename(path).decode()
    host, pid, counter, rand, sec, usec = name[len("uwsgi_spoolfile_on_"):].rsplit("_", 5)
    assert host == h.spooling.hostname and int(pid) == os.getpid() and counter.isdigit()
    assert rand.isdigit() and abs(int(sec) - time.time()) < 5 and 0 <= int(usec) < 1_000_000
    assert os.path.dirname(path).decode() == str(tmp_path / "q")
    pairs, body = _file(path)
    assert pairs == {b"a": b"1", b"text": "é".encode(), b"n": b"5", b"f": b"1.5"}
    assert body == b"BODY"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_spool_takes_keywords_and_leaves_the_callers_dict_alone(harness):
    h = harness()
    given = {"body": b"x", "k": "v"}
    path = h.api.spool(given, extra="1")
    assert given == {"body": b"x", "k": "v"}
    assert _file(path) == ({b"k": b"v", b"extra": b"1"}, b"x")
    assert _file(h.api.spool(only="kw"))[0] == {b"only": b"kw"}


def test_a_forked_process_names_its_tasks_with_its_own_pid(harness):
    h = harness()
    h.api.spool(a="parent")  # the name's start is cached per process
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's result goes through the pipe)
        try:
            os.write(write, h.api.spool(a="child"))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        path = f.read()
    os.waitpid(child, 0)
    assert int(os.path.basename(path).decode().rsplit("_", 5)[1]) == child


def test_spool_of_bytes_only_and_of_other_buffers(harness):
    h = harness()
    given = {b"a": b"1", b"b": bytearray(b"22")}
    assert _file(h.api.spool(given)) == ({b"a": b"1", b"b": b"22"}, b"")
    assert given == {b"a": b"1", b"b": bytearray(b"22")}
    ints = memoryview(array.array("H", [1, 2]))  # len() 2, 4 bytes: written as its bytes
    assert _file(h.api.spool({b"m": ints})) == ({b"m": bytes(ints)}, b"")
    assert _file(h.api.spool({b"m": ints, b"body": ints})) == ({b"m": bytes(ints)}, bytes(ints))
    with pytest.raises(ValueError, match="empty"):
        h.api.spool({b"": b"x"})


@pytest.mark.parametrize("args", [("not a dict",), ({}, {})])
def test_spool_refuses_what_is_not_a_dict(harness, args):
    with pytest.raises(ValueError, match="must be a dictionary"):
        harness().api.spool(*args)


def test_spool_errors_are_value_errors(harness, tmp_path):
    h = harness()
    with pytest.raises(ValueError, match="unable to find spooler"):
        h.api.spool({"spooler": str(tmp_path / "elsewhere")})
    with pytest.raises(ValueError, match="priority must be a number"):
        h.api.spool({"priority": "../../etc"})
    with pytest.raises(ValueError, match="unix time"):
        h.api.spool({"at": "tomorrow"})
    with pytest.raises(ValueError, match="value of 70000 bytes is longer than 65535"):
        h.api.spool({"big": "x" * 70000})
    with pytest.raises(ValueError, match="payload of 120016 bytes is longer than 65535"):
        h.api.spool({b"big%d" % i: b"x" * 60000 for i in range(2)})
    os.chmod(tmp_path / "q", 0o500)
    try:
        if os.geteuid() != 0:
            with pytest.raises(ValueError, match="unable to spool job"):
                h.api.spool({"a": "1"})
    finally:
        os.chmod(tmp_path / "q", 0o750)
    assert list((tmp_path / "q").iterdir()) == []


def test_spool_dir_priority_and_at(tmp_path, monkeypatch, make_config):
    monkeypatch.chdir(tmp_path)
    config = make_config("--spooler", "q1", "--spooler", "q2", "--spooler-external", "ext", "--spooler-quiet")
    settings = Settings.from_config(config)
    assert settings.dirs == (str(tmp_path / "q1"), str(tmp_path / "q2"))
    assert settings.all_dirs == (*settings.dirs, str(tmp_path / "ext"))
    for d in ("q1", "q2", "ext"):
        assert stat.S_IMODE(os.stat(tmp_path / d).st_mode) == 0o750
    uwkernel_spooler.uwkernel_configure(config)
    try:
        api = uwkernel_spooler._api
        assert os.path.dirname(api.spool(a="1")).decode() == str(tmp_path / "q1")
        assert os.path.dirname(api.spool(spooler=str(tmp_path / "q2"))).decode() == str(tmp_path / "q2")
        assert os.path.dirname(api.spool(spooler="ext")).decode() == str(tmp_path / "ext")
        high = api.spool(priority=3, spooler=b"q2")
        assert os.path.dirname(high).decode() == str(tmp_path / "q2" / "3")
        at = time.time() + 100.75
        assert os.stat(api.spool(at=f"{at:.3f}")).st_mtime == int(at)
        assert os.stat(api.spool(at=at)).st_mtime == int(at)
        names = {r.name: r.value for r in uwkernel_spooler.uwkernel_add_module_names(config)}
        assert names["spoolers"] == tuple(os.fsencode(d) for d in settings.all_dirs)
        assert (names["SPOOL_OK"], names["SPOOL_RETRY"], names["SPOOL_IGNORE"]) == (-2, -1, 0)
        assert names["send_to_spooler"] == names["spool"]
        specs = uwkernel_spooler.uwkernel_add_processes(config)
        assert [s.procname for s in specs] == ["uWSGI spooler"] * 2
    finally:
        uwkernel_spooler.uwkernel_configure(make_config())


def test_no_spool_dir_no_names_no_processes(make_config):
    config = make_config()
    uwkernel_spooler.uwkernel_configure(config)
    assert uwkernel_spooler.uwkernel_add_module_names(config) == []
    assert uwkernel_spooler.uwkernel_add_processes(config) == []
    assert uwkernel_spooler.uwkernel_stats(None) == []


@pytest.mark.parametrize("argv, message", [
    (("--spooler-processes", "0"), "at least 1"),
    (("--spooler-frequency", "0"), "at least 1"),
    (("--spooler", ""), "a spool dir is needed"),
])
def test_bad_options(argv, message, make_config):
    with pytest.raises(ConfigError, match=message):
        Settings.from_config(make_config(*argv))


def test_a_file_in_the_way_of_a_spool_dir(tmp_path, make_config):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="spool dir"):
        Settings.from_config(make_config("--spooler", str(tmp_path / "file")))


def test_jobs_get_task_pids_frequency(harness):
    h = harness()
    first = h.api.spool(a="1", body=b"B")
    second = h.api.spool(b="2", priority="1")
    assert sorted(h.api.spooler_jobs()) == sorted([first, second])
    task = h.api.spooler_get_task(first)
    assert task == {b"a": b"1", "spooler_task_name": first, "body": b"B"}
    assert h.api.spooler_get_task(first.decode()) == task
    assert h.api.spooler_get_task(b"/nonexistent") is None
    held = spoolfile.claim(first.decode())
    assert h.api.spooler_get_task(first) is None  # running
    held.release()
    assert h.api.spooler_pids() == [0] and h.api.spooler_pid() == 0
    assert h.spooling.frequency() == 30
    assert h.api.set_spooler_frequency(2) is True and h.spooling.frequency() == 2
    assert h.api.set_spooler_frequency(0) and h.spooling.frequency() == 30
    with pytest.raises(ValueError):
        h.api.set_spooler_frequency(-1)
    assert h.api.i_am_the_spooler() is None
    h.spooling.current_slot = 0
    assert h.api.i_am_the_spooler() is True


def test_spool_wakes_only_waiting_spoolers_of_its_dir(harness, tmp_path):
    h = harness("--spooler-processes", "2")
    got = []
    previous = signal.signal(signal.SIGUSR1, lambda *a: got.append(1))
    try:
        h.spooling.board.spawned(0, os.getpid())
        h.spooling.board.spawned(1, 0)
        h.api.spool(a="1")
        assert got == [1]
        h.spooling.board.set_busy(0, True)
        h.api.spool(a="2")
        assert got == [1]
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_board_slots_and_stats(harness):
    h = harness("--spooler-processes", "2")
    board = h.spooling.board
    board.spawned(1, 4242)
    board.spawned(1, 4343)
    board.task_started(1, b"uwsgi_spoolfile_on_x", time.time(), 0.0)
    assert stats(h.spooling) == [
        {"dir": h.settings.dirs[0], "pid": 0, "tasks": 0, "respawns": 0, "running": 0},
        {"dir": h.settings.dirs[0], "pid": 4343, "tasks": 0, "respawns": 1, "running": 1},
    ]
    board.task_finished(1, 7)
    view = board.read(1)
    assert (view.tasks, view.started, view.respawns) == (7, 0.0, 1)
    with pytest.raises(IndexError):
        board.read(2)
    assert Board(0).slots == 0


def test_harakiri_kills_a_spooler_past_its_deadline(harness, monkeypatch):
    h = harness("--spooler-harakiri", "1")
    killed = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: killed.append((pid, sig)))
    board = h.spooling.board
    board.spawned(0, 999999)
    board.task_started(0, b"uwsgi_spoolfile_on_x", time.time() - 5, time.time() - 4)
    Supervisor(h.spooling).tick()
    assert killed == [(999999, signal.SIGKILL)]
    Supervisor(h.spooling).tick()
    assert killed == [(999999, signal.SIGKILL)]


def test_touch_spoolers_reload(harness, tmp_path, monkeypatch):
    touch = tmp_path / "touch"
    h = harness("--touch-spoolers-reload", str(touch))
    sent = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    h.spooling.board.spawned(0, 31337)
    supervisor = Supervisor(h.spooling)
    supervisor.tick()
    assert sent == []
    touch.write_text("now")
    supervisor.tick()
    assert sent == [(31337, signal.SIGHUP)]


class _Conn:
    def __init__(self):
        self.sent = b""

    def sendall(self, data):
        self.sent += data

    def getpeername(self):
        return ("127.0.0.1", 5)


def test_remote_spool_request(harness, tmp_path):
    h = harness()
    handler = remote.make_handler(h.api.enqueuer)
    payload = encode_vars({b"a": b"1", b"priority": b"2"}, raw=True)
    conn = _Conn()
    assert handler(conn, 17, 0, payload, b"") == 4
    assert conn.sent == b"\xff\x00\x00\x01"
    [written] = (tmp_path / "q" / "2").iterdir()
    assert written.read_bytes() == build_packet(17, payload)


@pytest.mark.parametrize("payload", [
    b"\x05\x00ab",
    encode_vars({b"spooler": b"/not/mine"}, raw=True),
    encode_vars({b"ud_spool_func": b"f", b"args": b"\x80\x04N.", b"kwargs": b"\x80\x04}."}, raw=True),
])
def test_remote_spool_refusals(harness, tmp_path, payload):
    h = harness()
    conn = _Conn()
    remote.make_handler(h.api.enqueuer)(conn, 17, 0, payload, b"")
    assert conn.sent == b"\xff\x00\x00\x00"
    assert list((tmp_path / "q").iterdir()) == []


def test_remote_without_spooler():
    conn = _Conn()
    remote.make_handler(None)(conn, 17, 0, b"", b"")
    assert conn.sent == b"\xff\x00\x00\x00"


def test_request_handler_record(make_config):
    [record] = uwkernel_spooler.uwkernel_add_request_handlers()
    assert (record.modifier1, record.name) == (17, "spool")
    assert callable(record.factory(make_config()))
