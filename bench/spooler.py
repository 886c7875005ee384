"""The spooler benchmark: uwkernel's spooler next to uWSGI's, the same app and task, 2 spooler processes.

Each server runs ``bench/spooler_app.py`` with ``--master --processes 1 --spooler DIR --spooler-processes 2``
(plus ``--spooler-quiet`` in the "quiet" variant; the "logging" variant logs every task written and run, as
both servers do by default, to a file). For each of ``--runs`` runs, on an empty spool dir:

* enqueue rate: ``GET /enqueue?count=N`` spools N tasks in a loop in the worker; N / the loop's time;
* end-to-end drain rate: N / the time from sending that request until the N-th task ran (the task appends
  one byte to a counter file; the runner polls its size every 2 ms). Spoolers drain while the worker
  enqueues, as in production.

Both servers run side by side and their runs alternate, so that both meet the same moments of a
disk whose speed drifts. The table shows the median run and the ratio uwkernel / uWSGI (target >= 1.0
for both). It also shows the CPU time (user + system, from ``/proc``, in clock ticks) the worker spent
per task written and the spoolers per task run, over all runs: on a machine shared with other loads the rates
follow the CPU each server gets, while its CPU per task does not. Every server runs in its own process
group, killed when its runs are done or on any failure.

Run: ``python bench/spooler.py [--tasks 5000] [--runs 5] [--dir /dev/shm] [--out bench/spooler.md]``
(``make install`` and ``make bench`` build ``.venv`` and uWSGI in ``.bench-venv`` first).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from uwkernel.testing import free_port, http_get, kill_group

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
APP = BENCH / "spooler_app.py"


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by the processes ``pids``."""
    used = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        used += int(fields[11]) + int(fields[12])
    return used / os.sysconf("SC_CLK_TCK")


class Server:
    """One server under test, in its own process group, with its spool dir and counter file."""

    def __init__(self, name: str, binary: str, work: Path, quiet: bool):
        self.name = name
        self.port = free_port()
        variant = "quiet" if quiet else "logging"
        self.spool = work / f"{name}-{variant}-spool"
        self.counter = work / f"{name}-{variant}-counter"
        self.log = work / f"{name}-{variant}.log"
        self.spool.mkdir()
        #: CPU seconds of the worker and of the spoolers during the measured runs, and the tasks of those runs.
        self.cpu = {"worker": 0.0, "spooler": 0.0, "tasks": 0}
        argv = [binary, "--master", "--processes", "1", "--disable-logging", "--http-socket",
                f"127.0.0.1:{self.port}", "--wsgi-file", str(APP), "--spooler", str(self.spool),
                "--spooler-processes", "2", "--spooler-frequency", "30", *(["--spooler-quiet"] if quiet else [])]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UWSGI_", "UWKERNEL_"))}
        env["SPOOL_BENCH_COUNTER"] = str(self.counter)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work,
                                         start_new_session=True)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: see {self.log}")
            try:  # ready: answering, and every spooler started (its pid published)
                if http_get(self.port, "/enqueue?count=0", timeout=2)[0] == 200 and all(self.pids()):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer in 30 s: see {self.log}")

    def pids(self) -> list[int]:
        """The worker's pid, then the spoolers' (0 for a spooler not started yet)."""
        return [int(pid) for pid in http_get(self.port, "/pids", timeout=2)[1].split()]

    def ran(self) -> int:
        """How many tasks ran so far."""
        try:
            return self.counter.stat().st_size
        except FileNotFoundError:
            return 0

    def run(self, tasks: int, timeout: float = 120.0) -> tuple[float, float]:
        """Enqueue ``tasks`` and wait until they all ran: (enqueue rate, end-to-end drain rate) per second.

        The CPU the worker and the spoolers used meanwhile is added to :attr:`cpu`.
        """
        before = self.ran()
        worker, *spoolers = self.pids()
        cpu_before = cpu_seconds([worker]), cpu_seconds(spoolers)
        started = time.perf_counter()
        status, body = http_get(self.port, f"/enqueue?count={tasks}", timeout=timeout)
        if status != 200:
            raise RuntimeError(f"{self.name}: /enqueue answered {status}: {body[:200]!r}")
        enqueue_seconds = float(body)
        deadline = time.monotonic() + timeout
        while self.ran() < before + tasks:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: only {self.ran() - before} of {tasks} tasks ran in {timeout} s")
            time.sleep(0.002)
        drained = time.perf_counter() - started
        if self.ran() != before + tasks:
            raise RuntimeError(f"{self.name}: {self.ran() - before} tasks ran for {tasks} spooled")
        self.cpu["worker"] += cpu_seconds([worker]) - cpu_before[0]
        self.cpu["spooler"] += cpu_seconds(spoolers) - cpu_before[1]
        self.cpu["tasks"] += tasks
        return tasks / enqueue_seconds, tasks / drained

    def stop(self) -> None:
        """Kill the server's process group (bounded)."""
        kill_group(self.proc)


def measure(binaries: dict[str, str], work: Path, quiet: bool, tasks: int, runs: int) -> tuple[dict, dict]:
    """Start every server, warm them up, then alternate their runs (the disk's speed drifts over time,
    so each server gets the same mix of good and bad moments).

    Returns ``{name: [(enqueue, drain), ...]}`` and ``{name: (worker, spooler) CPU microseconds per task}``.
    """
    servers = {}
    try:
        for name, binary in binaries.items():
            servers[name] = Server(name, binary, work, quiet)
            servers[name].run(200)
            servers[name].cpu = {"worker": 0.0, "spooler": 0.0, "tasks": 0}
        results: dict[str, list] = {name: [] for name in servers}
        order = list(servers)
        for _ in range(runs):
            for name in order:
                time.sleep(0.3)
                results[name].append(servers[name].run(tasks))
            order.reverse()
        cpu = {name: tuple(server.cpu[role] / server.cpu["tasks"] * 1e6 for role in ("worker", "spooler"))
               for name, server in servers.items()}
        return results, cpu
    finally:
        for server in servers.values():
            server.stop()


def main() -> int:
    """Measure both servers in both variants and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--uwsgi", default=str(REPO / ".bench-venv/bin/uwsgi"))
    parser.add_argument("--uwkernel", default=str(REPO / ".venv/bin/uwkernel"))
    parser.add_argument("--dir", help="where the spool dirs go (default: the system's temporary directory)")
    parser.add_argument("--out", help="also append the table to this markdown file")
    args = parser.parse_args()
    for binary in (args.uwsgi, args.uwkernel):
        if not os.access(binary, os.X_OK):
            print(f"{binary} is missing: `make install` and `make bench` build both", file=sys.stderr)
            return 2
    work = Path(tempfile.mkdtemp(prefix="spooler-bench-", dir=args.dir))
    lines: list[str] = []

    def emit(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    emit(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f} at the start, "
         f"{args.tasks} tasks x {args.runs} runs (median), 2 spooler processes, spool dirs in {work.parent}\n")
    emit("| variant | server | enqueue tasks/s | drain tasks/s (end to end) | worker CPU us/task | spoolers CPU us/task |")
    emit("|---|---|---:|---:|---:|---:|")
    for quiet in (True, False):
        variant = "quiet" if quiet else "logging"
        results, cpu = measure({"uWSGI": args.uwsgi, "uwkernel": args.uwkernel}, work, quiet, args.tasks, args.runs)
        medians = {}
        for name, runs in results.items():
            enqueue = statistics.median(r[0] for r in runs)
            drain = statistics.median(r[1] for r in runs)
            medians[name] = (enqueue, drain)
            emit(f"| {variant} | {name} | {enqueue:,.0f} | {drain:,.0f} | {cpu[name][0]:.1f} | {cpu[name][1]:.1f} |")
        (ue, ud), (ke, kd) = medians["uWSGI"], medians["uwkernel"]
        (uw, us), (kw, ks) = cpu["uWSGI"], cpu["uwkernel"]
        emit(f"| {variant} | ratio uwkernel/uWSGI | {ke / ue:.2f}x {'PASS' if ke >= ue else 'FAIL'} "
             f"| {kd / ud:.2f}x {'PASS' if kd >= ud else 'FAIL'} | {kw / uw:.2f}x | {ks / us:.2f}x |")
    shutil.rmtree(work, ignore_errors=True)
    if args.out:
        with open(args.out, "a") as f:
            f.write("\n".join(lines) + "\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
