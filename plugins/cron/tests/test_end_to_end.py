"""Crons in a running instance: a real signal cron at the minute boundary, command crons, the stats section."""
from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from uwkernel.testing import Server, free_port, wait_for

HERE = Path(__file__).parent


def _stats(port: int) -> dict:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return json.loads(data)


@pytest.mark.slow
def test_signal_cron_fires_within_a_second_of_the_minute_boundary(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    port = free_port()
    with Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(HERE / "cronapp.py"), "--master",
                "--processes", "1", env={"CRONOUT": str(out)}, log=tmp_path / "server.log") as server:
        server.wait_http(port)
        times = wait_for(lambda: (out / "cron").exists() and len((out / "cron").read_text().split()) >= 2
                         and [float(t) for t in (out / "cron").read_text().split()], 75, "a cron at a boundary")
        assert times[1] % 60 < 1.0, times
        assert len({int(t // 60) for t in times}) == len(times)  # at start, then at boundaries: once a minute


def test_command_crons_run_once_per_entry_and_show_in_stats(tmp_path):
    out = tmp_path / "runs"
    port, stats_port = free_port(), free_port()
    ini = tmp_path / "crons.ini"
    ini.write_text(f"[uwsgi]\nmaster = true\nwsgi-file = {HERE / 'plainapp.py'}\n"
                   f"cron = -1 -1 -1 -1 -1 echo cron >> {out}\n"
                   f"cron2 = minute=-1,unique=1,harakiri=1 sleep 30; echo never >> {out}\n"
                   "cron = -1 -1 -1 -1 -1 exit 3\n")
    # The file loaded twice (a known uWSGI defect doubles every cron): still one run per entry.
    with Server("--http-socket", f"127.0.0.1:{port}", "--stats", f"127.0.0.1:{stats_port}", "--ini", str(ini),
                "--ini", str(ini), log=tmp_path / "server.log") as server:
        server.wait_http(port)
        wait_for(lambda: out.exists() and out.read_text() == "cron\n", 10, "the command cron")
        crons = wait_for(lambda: _stats(stats_port).get("crons"), 10, "the crons section")
        assert [c["command"] for c in crons] == [f"echo cron >> {out}", "exit 3", f"sleep 30; echo never >> {out}"]
        assert set(crons[0]) == {"minute", "hour", "day", "month", "week", "command", "unique", "pid", "started_at"}
        assert crons[2]["unique"] == 1 and crons[2]["minute"] == -1
        wait_for(lambda: "*** HARAKIRI ON CRON \"" in server.log_text(), 10, "the cron harakiri")
        assert server.log_text().count('[uwsgi-cron] running "echo cron') == 1
        # The master reaps the commands; the cron plugin still logs each exit, as uWSGI does, with its status.
        for command, how in ((f"echo cron >> {out}", "exit status 0"), ("exit 3", "exit status 3"),
                             (f"sleep 30; echo never >> {out}", "killed by signal 9")):
            pid = re.search(rf'\[uwsgi-cron\] running "{re.escape(command)}" \(pid (\d+)\)', server.log_text())[1]
            line = f'[uwsgi-cron] command "{command}" running with pid {pid} exited after'
            wait_for(lambda: line in server.log_text(), 5, f"the exit of {command}")
            assert re.search(rf"{re.escape(line)} \d+ second\(s\) \({how}\)\n", server.log_text()), command
