"""The spooler loop, scan by scan in this process: return codes, order, at, bad files, crashes, waiting."""
from __future__ import annotations

import os
import signal
import threading
import time

from uwkernel_spooler import loop


def test_spool_ok_removes_the_task(harness, tmp_path):
    h = harness()
    path = h.api.spool({"a": "1", "body": b"B"})
    assert h.scan() == (True, None)
    assert h.calls == [{b"a": b"1", "spooler_task_name": os.path.basename(path), "body": b"B"}]
    assert not os.path.exists(path)
    assert h.spooling.board.read(0).tasks == 1
    assert h.scan() == (False, None)


def test_retry_keeps_the_task_until_the_frequency_passed(harness):
    h = harness("--spooler-frequency", "1")
    h.result = -1
    path = h.api.spool(a="1")
    ran, due = h.scan()
    assert ran and os.path.exists(path)
    assert 0 < due - time.time() <= 1
    assert h.scan() == (False, due)  # deferred: not retried in a tight loop
    time.sleep(due - time.time() + 0.01)
    h.result = -2
    assert h.scan()[0] and not os.path.exists(path)
    assert len(h.calls) == 2


def test_other_results_retry(harness):
    h = harness()
    for result in (5, "nope", None, True):
        h.result = result
        h.spooler.deferred.clear()
        path = h.api.spool(a="1")
        h.scan()
        assert os.path.exists(path), result
        os.unlink(path)


def test_an_exception_is_logged_and_retried(harness, capfd):
    h = harness()

    def boom(task):
        raise RuntimeError("task failed")

    h.result = boom
    path = h.api.spool(a="1")
    h.scan()
    assert os.path.exists(path)
    assert "RuntimeError: task failed" in capfd.readouterr().err


def test_ignore_and_missing_callable_keep_the_task(harness, capfd):
    h = harness()
    h.result = 0
    path = h.api.spool(a="1")
    h.scan()
    assert os.path.exists(path) and h.spooling.board.read(0).tasks == 0
    assert "SPOOL_IGNORE" in capfd.readouterr().err
    h.spooler.deferred.clear()
    h.module.spooler = None
    h.scan()
    assert os.path.exists(path)
    assert "unable to find the spooler function" in capfd.readouterr().err


def test_ordered_runs_priorities_first_then_in_writing_order(harness):
    h = harness("--spooler-ordered")
    for n in range(12):
        h.api.spool(n=str(n))
    h.api.spool(n="p5", priority="5")
    h.api.spool(n="p10", priority=10)
    h.api.spool(n="p0", priority=0)
    h.scan()
    assert h.names() == [b"p0", b"p5", b"p10", *[str(n).encode() for n in range(12)]]


def test_priorities_run_without_spooler_ordered_too(harness):
    h = harness()
    h.api.spool(n="plain")
    h.api.spool(n="high", priority=1)
    h.scan()
    assert h.names() == [b"high", b"plain"]


def test_at_delays_a_task_and_the_wait_ends_when_it_is_due(harness):
    h = harness()
    at = int(time.time()) + 2
    path = h.api.spool(n="later", at=at)
    h.api.spool(n="now")
    ran, due = h.scan()
    assert h.names() == [b"now"] and due == at and os.path.exists(path)
    started = time.time()
    h.spooler._wait(due)
    assert at - 0.1 <= time.time() <= at + 0.5 and time.time() - started < 2.5
    assert h.scan()[0] and h.names() == [b"now", b"later"]


def test_a_wake_up_ends_the_wait_at_once(harness):
    h = harness()
    threading.Timer(0.2, lambda: os.write(h.process.wakeup_w, b"\x0a")).start()
    started = time.monotonic()
    h.spooler._wait(None)
    assert 0.15 < time.monotonic() - started < 5


def test_garbage_is_set_aside_and_the_spooler_goes_on(harness, tmp_path, capfd):
    h = harness()
    bad = tmp_path / "q" / "uwsgi_spoolfile_on_garbage"
    bad.write_bytes(b"\x11\x40\x00\x00not a dict")
    os.utime(bad, (time.time() - 100, time.time() - 100))
    truncated = tmp_path / "q" / "uwsgi_spoolfile_on_truncated"
    truncated.write_bytes(b"\x11\x10\x00\x00\x01\x00a")
    good = h.api.spool(n="good")
    h.scan()
    assert h.names() == [b"good"] and not os.path.exists(good)
    assert sorted(p.name for p in (tmp_path / "q").iterdir()) == [
        "uwsgi_spoolfile_on_garbage.bad", "uwsgi_spoolfile_on_truncated.bad"]
    err = capfd.readouterr().err
    assert f"{bad} is not a valid spool file" in err and f"moved to {bad}.bad" in err
    assert h.scan() == (False, None)


def test_an_empty_young_file_is_left_to_its_writer(harness, tmp_path):
    h = harness()
    empty = tmp_path / "q" / "uwsgi_spoolfile_on_being_written_by_uwsgi"
    empty.write_bytes(b"")
    ran, due = h.scan()
    assert not ran and empty.exists() and due <= time.time() + 1


def test_a_crash_delays_the_task_more_each_time(harness, tmp_path, capfd):
    h = harness()
    path = h.api.spool(n="killer")
    name = os.path.basename(path)
    board = h.spooling.board
    delays = []
    for dead_pid in (101, 102, 103):
        board.spawned(0, dead_pid)
        board.task_started(0, name, time.time(), 0.0)  # ... and the spooler is killed here
        spooler = loop.Spooler(h.spooling, 0, h.process)
        before = board.spawned(0, os.getpid())
        spooler._after_crash(before.task, before.pid, before.crashes if before.crash_task == before.task else 0)
        delays.append(round(os.stat(path).st_mtime - time.time()))
    assert delays == [1, 2, 4]
    err = capfd.readouterr().err
    assert f"task {path.decode()} was running when spooler pid 103 died (3 time(s) in a row)" in err
    assert h.scan() == (False, os.stat(path).st_mtime)


def test_max_tasks_recycles(harness, capfd):
    h = harness("--spooler-max-tasks", "2")
    for n in range(3):
        h.api.spool(n=str(n))
    h.scan()
    assert len(h.calls) == 2
    assert h.run() == loop.EXIT_RECYCLE
    assert "maximum number of tasks reached (2)" in capfd.readouterr().err


def test_a_stop_lets_the_running_task_finish(harness):
    h = harness()
    for n in range(3):
        h.api.spool(n=str(n))

    def stop_after_this_one(task):
        h.process.stopping = True
        return -2

    h.result = stop_after_this_one
    assert h.run() == 0
    assert len(h.calls) == 1 and len(h.api.spooler_jobs()) == 2


def test_set_up_installs_the_wake_up_and_publishes_the_pid(harness, tmp_path, monkeypatch):
    h = harness("--spooler-import", str(tmp_path / "imported.py"))
    (tmp_path / "imported.py").write_text("import os\nos.environ['SPOOLER_IMPORTED'] = '1'\n")
    monkeypatch.setattr(os, "dup2", lambda a, b: None)
    monkeypatch.setattr(os, "setpriority", lambda *a: None)
    previous = signal.getsignal(signal.SIGUSR1)
    try:
        h.spooler._set_up()
        assert signal.getsignal(signal.SIGUSR1) is loop._wake_up
        assert h.spooling.board.read(0).pid == os.getpid() and h.spooling.current_slot == 0
        assert os.getcwd() == h.spooler.dir and os.environ.pop("SPOOLER_IMPORTED") == "1"
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_chdir_before_each_task(harness, tmp_path):
    (tmp_path / "work").mkdir()
    h = harness("--spooler-chdir", str(tmp_path / "work"))
    h.api.spool(n="1")
    h.api.spool(n="2")
    seen = []
    h.result = lambda task: seen.append(os.getcwd()) or os.chdir("/") or -2
    h.scan()
    assert seen == [str(tmp_path / "work")] * 2


def test_a_task_runs_in_its_dir_and_can_read_itself_by_name(harness, tmp_path):
    """As uWSGI: spooler_task_name is the file's name, the cwd its dir (a priority's too)."""
    h = harness("--spooler-ordered")
    h.api.spool(n="p", priority="3", body=b"B")
    h.api.spool(n="plain")
    seen = []

    def task(args):
        seen.append((os.getcwd(), args["spooler_task_name"], h.api.spooler_get_task(args["spooler_task_name"])))
        os.chdir("/")  # the next task still starts in its own dir
        return -2

    h.result = task
    h.scan()
    (cwd_p, name_p, got_p), (cwd_plain, name_plain, got_plain) = seen
    assert (cwd_p, cwd_plain) == (f"{h.spooler.dir}/3", h.spooler.dir)
    assert b"/" not in name_p and name_p.startswith(b"uwsgi_spoolfile_on_") and b"/" not in name_plain
    assert got_p == {b"n": b"p", b"priority": b"3", "spooler_task_name": name_p, "body": b"B"}
    assert got_plain == {b"n": b"plain", "spooler_task_name": name_plain}
    assert h.api.spooler_get_task(f"{h.spooler.dir}/{name_plain.decode()}") is None  # gone, once done


def test_a_scan_behind_another_spooler_lists_the_dir_again(harness):
    """A task gone since the listing was run by another spooler: the rest of the listing is stale too."""
    h = harness("--spooler-ordered")
    paths = [h.api.spool(n=str(n)) for n in range(3)]

    def first_removes_the_second(task):
        if task[b"n"] == b"0":
            os.unlink(paths[1])  # as the other spooler of the dir would
        return -2

    h.result = first_removes_the_second
    assert h.scan() == (True, None) and h.names() == [b"0"]  # stopped at the gone task
    assert h.scan() == (True, None) and h.names() == [b"0", b"2"]


def test_two_spoolers_of_one_dir_never_run_a_task_twice(harness):
    h = harness("--spooler-processes", "2")
    for n in range(40):
        h.api.spool(n=str(n))
    other = loop.Spooler(h.spooling, 1, h.process)

    def first_lets_the_other_scan(task):
        h.result = -2
        other.scan()  # the other spooler scans while this one holds its first task
        return -2

    h.result = first_lets_the_other_scan
    h.scan()
    assert sorted(h.names(), key=int) == [str(n).encode() for n in range(40)]
    assert not h.api.spooler_jobs()


def test_busy_until_an_empty_scan_then_one_more_scan_before_waiting(harness):
    h = harness()
    for n in range(2):
        h.api.spool(n=str(n))
    scans, busy_seen = [], []
    real_scan = h.spooler.scan

    def counting_scan():
        busy_seen.append(h.spooling.board.read(0).busy)
        result = real_scan()
        scans.append(result[0])
        return result

    h.spooler.scan = counting_scan

    def stop():
        h.process.stopping = True
        os.write(h.process.wakeup_w, b"\x01")

    threading.Timer(0.3, stop).start()
    assert h.run() == 0
    assert scans == [True, False, False] and busy_seen == [0, 1, 0]
    assert h.spooling.board.read(0).busy == 0


class _Channel:
    """A stand-in for the master's channel: readable when the test writes to it."""

    def __init__(self):
        self.r, self.w = os.pipe()

    def fileno(self) -> int:
        return self.r


def test_messages_from_the_master_run_while_waiting_and_between_tasks(harness, monkeypatch):
    h = harness("--spooler-ordered")
    channel = _Channel()
    runs = []

    def dispatch_messages():
        os.read(channel.r, 100)
        runs.append("message")

    h.process.channel = channel
    h.process.dispatch_messages = dispatch_messages
    spooler = loop.Spooler(h.spooling, 0, h.process)
    os.write(channel.w, b"x")
    spooler._wait(None)
    assert runs == ["message"]
    h.spooler = spooler

    def task(pairs):
        runs.append(pairs[b"n"])
        os.write(channel.w, b"y")
        return -2

    h.result = task
    for n in range(3):
        h.api.spool(n=str(n))
    monkeypatch.setattr(loop, "MESSAGES_EVERY", 3600.0)  # looked for once in the scan: before its first task
    h.scan()
    assert runs == ["message", b"0", b"1", b"2"]
    monkeypatch.setattr(loop, "MESSAGES_EVERY", 0.0)  # looked for before every task
    spooler._poll_at = 0.0
    for n in range(3):
        h.api.spool(n=str(n))
    h.scan()
    assert runs == ["message", b"0", b"1", b"2", "message", b"0", "message", b"1", "message", b"2"]
    os.close(channel.r)
    os.close(channel.w)
