"""The Emperor end to end: real ``uwkernel --emperor`` processes, vassals serving HTTP on free ports."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from uwkernel.testing import free_port


def _touch(path) -> None:
    """Move the file's mtime a second ahead (a plain touch may land in the same timestamp tick)."""
    later = time.time() + 1
    os.utime(path, (later, later))


def test_two_vassals_served_new_file_spawns_touch_reloads_only_that_vassal(emperor, write_vassal, vassals, check):
    port_a = write_vassal("a.ini")
    server = emperor()
    check.wait_for(lambda: check.body(port_a).startswith("a "), what="vassal a")
    port_b = write_vassal("b.ini")  # appears while the Emperor runs: inotify (emperor-freq is 60 s)
    check.wait_for(lambda: check.body(port_b).startswith("b "), what="vassal b")
    before_a, before_b = check.body(port_a), check.body(port_b)
    pid_a = check.vassal_pid(server, "a.ini")

    _touch(vassals / "a.ini")
    check.wait_for(lambda: check.body(port_a) not in ("", before_a), what="vassal a reloaded")
    assert check.body(port_b) == before_b
    assert check.vassal_pid(server, "a.ini") == pid_a  # a graceful reload keeps the vassal's pid
    assert "[emperor] reload the uwsgi instance" in server.log_text()


def test_removing_a_file_stops_its_vassal(emperor, write_vassal, vassals, check):
    port_a, port_b = write_vassal("a.ini"), write_vassal("b.ini")
    server = emperor()
    check.wait_for(lambda: check.body(port_a) and check.body(port_b), what="both vassals")
    pid_b = check.vassal_pid(server, "b.ini")

    (vassals / "b.ini").unlink()
    check.wait_for(lambda: pid_b not in server.group_pids(), what="vassal b gone")
    assert check.body(port_b) == ""
    assert check.body(port_a).startswith("a ")
    assert [v["id"] for v in check.stats(server)["vassals"]] == ["a.ini"]
    assert "removed uwsgi instance" in server.log_text()


def test_broken_file_is_reported_and_the_others_keep_running(emperor, write_vassal, vassals, check):
    port = write_vassal("good.ini")
    (vassals / "broken.ini").write_text("[uwsgi]\nno-such-option-here = 1\n")
    server = emperor("--emperor-throttle", "100")
    check.wait_for(lambda: "keeps dying" in server.log_text(), what=f"keeps dying:\n{server.log_text()}")
    lines = [line for line in server.log_text().splitlines() if "broken.ini" in line and "died with status 1" in line]
    assert lines and "no-such-option-here" in lines[0], server.log_text()
    assert check.body(port).startswith("good ")
    broken = next(v for v in check.stats(server)["vassals"] if v["id"] == "broken.ini")
    assert broken["failures"] >= 3 and broken["cursed"]

    fixed_port = write_vassal("broken.ini")  # fixed: spawned again at once, whatever its back-off
    check.wait_for(lambda: check.body(fixed_port).startswith("broken "), what=f"fixed vassal:\n{server.log_text()}")


def test_as_vassal_runs_before_the_vassals_asap_and_the_emperors_before_both(emperor, write_vassal, tmp_path, check):
    order = tmp_path / "order"
    port = write_vassal("a.ini", f"""
        exec-asap = echo vassal-asap >> {order}
        exec-as-vassal = echo vassal-as-vassal >> {order}
        hook-as-vassal = exec:echo vassal-hook-as-vassal $UWKERNEL_VASSAL >> {order}
    """)
    emperor("--exec-as-vassal", f"echo emperor-as-vassal >> {order}")
    check.wait_for(lambda: check.body(port), what="vassal a")
    assert order.read_text().splitlines() == [
        "emperor-as-vassal", f"vassal-hook-as-vassal {tmp_path / 'vassals' / 'a.ini'}", "vassal-as-vassal",
        "vassal-asap",
    ]


def test_as_emperor_sees_the_vassal_variables(emperor, write_vassal, vassals, tmp_path, check):
    seen = tmp_path / "seen"
    port = write_vassal("a.ini")
    variables = "$UWSGI_VASSAL_CONFIG $UWSGI_VASSAL_PID $UWSGI_VASSAL_UID $UWSGI_VASSAL_GID"
    server = emperor("--exec-as-emperor", f"echo exec {variables} >> {seen}",
                     "--hook-as-emperor", f"exec:echo hook {variables} >> {seen}",
                     "--exec-as-emperor", "false")  # not fatal
    check.wait_for(lambda: check.body(port), what="vassal a")
    pid = check.vassal_pid(server, "a.ini")
    expected = f"{vassals / 'a.ini'} {pid} {os.getuid()} {os.getgid()}"
    assert seen.read_text().splitlines() == [f"hook {expected}", f"exec {expected}"]
    assert "hook failed in phase as-emperor (not fatal)" in server.log_text()


def test_sigint_stops_every_vassal_and_leaves_no_process(emperor, write_vassal, check):
    ports = [write_vassal("a.ini"), write_vassal("b.ini")]
    server = emperor()
    for port in ports:
        check.wait_for(lambda port=port: check.body(port), what="vassals")
    server.signal(signal.SIGINT)
    assert server.wait(20) == 0
    check.wait_for(lambda: not server.group_pids(), what=f"no process left: {server.group_pids()}")
    assert all(check.body(port) == "" for port in ports)


def test_sigterm_stops_every_vassal_gracefully(emperor, write_vassal, check):
    port = write_vassal("a.ini")
    server = emperor()
    check.wait_for(lambda: check.body(port), what="vassal a")
    server.signal(signal.SIGTERM)
    assert server.wait(30) == 0
    check.wait_for(lambda: not server.group_pids(), what="no process left")


def test_sighup_restarts_every_vassal(emperor, write_vassal, check):
    port = write_vassal("a.ini")
    server = emperor()
    check.wait_for(lambda: check.body(port), what="vassal a")
    before = check.body(port)
    server.signal(signal.SIGHUP)
    check.wait_for(lambda: check.body(port) not in ("", before), timeout=30, what="vassal a restarted")
    assert server.proc.poll() is None


def test_stats_pidfile_procname_and_vassal_set(emperor, write_vassal, vassals, tmp_path, check):
    port = write_vassal("a.ini")
    ini = vassals / "a.ini"
    ini.write_text(ini.read_text().replace("env = NAME=a", ""))  # vassal-set comes before the file's own lines
    pidfile = tmp_path / "emperor.pid"
    server = emperor("--emperor-pidfile", str(pidfile), "--vassal-set", "env=NAME=from-vassal-set")
    check.wait_for(lambda: check.body(port), what="vassal a")
    assert check.body(port).startswith("from-vassal-set ")
    stats = check.stats(server)
    assert stats["emperor"] == [str(tmp_path / "vassals")] and stats["emperor_tyrant"] == 0
    assert [v["id"] for v in stats["vassals"]] == ["a.ini"] and stats["vassals"][0]["pid"] > 0
    emperor_pid = int(pidfile.read_text())
    assert stats["pid"] == emperor_pid
    with open(f"/proc/{emperor_pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[0] == b"uWSGI Emperor"


def test_glob_source_and_config_formats(emperor, write_vassal, app, vassals, check):
    port_ini = write_vassal("a.ini")
    port_skipped = write_vassal("c.ini")
    (vassals / "c.ini").rename(vassals / "c.ini.disabled")
    port_json = free_port()
    (vassals / "b.json").write_text(
        f'{{"uwsgi": {{"http-socket": "127.0.0.1:{port_json}", "wsgi-file": "{app}", "env": "NAME=json"}}}}')
    emperor(source=str(vassals / "*"))
    check.wait_for(lambda: check.body(port_ini) and check.body(port_json), what="ini and json vassals")
    assert check.body(port_json).startswith("json ")
    assert check.body(port_skipped) == ""


def test_tyrant_runs_each_vassal_as_the_owner_of_its_file(emperor, app, tmp_path, check):
    if os.geteuid() != 0:
        pytest.skip("emperor-tyrant needs root")
    shared = Path(tempfile.mkdtemp(prefix="uwkernel-tyrant-"))
    try:
        shared.chmod(0o777)
        (shared / "app.py").write_text(app.read_text())
        (shared / "app.py").chmod(0o644)
        port = free_port()
        ini = shared / "nobody.ini"
        ini.write_text(f"[uwsgi]\nhttp-socket = 127.0.0.1:{port}\nwsgi-file = {shared / 'app.py'}\n")
        os.chown(ini, 65534, 65534)
        ids = shared / "ids"
        server = emperor("--emperor-tyrant", "--exec-as-vassal", f"id -u >> {ids}; id -g >> {ids}", source=str(shared))
        check.wait_for(lambda: ids.exists() and len(ids.read_text().split()) >= 2, what="as-vassal ran")
        assert ids.read_text().split()[:2] == ["65534", "65534"]  # dropped before as-vassal, as uWSGI does
        assert check.stats(server)["emperor_tyrant"] == 1
        try:
            usable = subprocess.run([sys.executable, "-c", "import uwkernel"], user=65534, group=65534,
                                    capture_output=True, timeout=30).returncode == 0
        except OSError:
            usable = False
        if not usable:
            pytest.skip(f"uid 65534 cannot run {sys.executable} here: the vassal itself cannot start")
        check.wait_for(lambda: check.body(port), what="vassal as nobody")
        with open(f"/proc/{check.vassal_pid(server, 'nobody.ini')}/status") as f:
            status = {line.split(":")[0]: line.split()[1:] for line in f if line.startswith(("Uid", "Gid"))}
        assert status["Uid"][0] == "65534" and status["Gid"][0] == "65534"
    finally:
        shutil.rmtree(shared, ignore_errors=True)


C_SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
static void out(const char *line) { FILE *f = fopen(getenv("CALLS_OUT"), "a"); fputs(line, f); fclose(f); }
void vassal3(const char *path, int uid, int gid) { char b[512]; snprintf(b, sizeof b, "vassal3 %s %d %d\n", path, uid, gid); out(b); }
void emperor4(const char *path, int pid, int uid, int gid) { char b[512]; snprintf(b, sizeof b, "emperor4 %s %d %d %d\n", path, pid, uid, gid); out(b); }
"""


def test_call_as_vassal3_and_call_as_emperor4_get_the_vassal(emperor, write_vassal, vassals, tmp_path, check):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    (tmp_path / "calls.c").write_text(C_SOURCE)
    library = tmp_path / "libcalls.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(library), str(tmp_path / "calls.c")], check=True, timeout=60)
    out = tmp_path / "calls.out"
    port = write_vassal("a.ini")
    server = emperor("--dlopen", str(library), "--call-as-vassal3", "vassal3", "--call-as-emperor4", "emperor4",
                     "--call-as-emperor1", "no_such_function", "--env", f"CALLS_OUT={out}")
    check.wait_for(lambda: check.body(port), what="vassal a")
    pid = check.vassal_pid(server, "a.ini")
    path, ids = vassals / "a.ini", f"{os.getuid()} {os.getgid()}"
    assert sorted(out.read_text().splitlines()) == [f"emperor4 {path} {pid} {ids}", f"vassal3 {path} {ids}"]
    assert 'unable to call function "no_such_function"' in server.log_text()
