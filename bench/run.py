"""``make bench``: uwkernel side by side with uWSGI, gunicorn and granian on bench/app.py, 2 workers each.

Measures the cases of bench/README.md, writes docs/benchmarks.md (machine, date, versions, one table with
the ratios uwkernel / uWSGI and uwkernel / gunicorn and PASS/FAIL per target) and prints it.

Usage: python bench/run.py [--bench-venv .bench-venv] [--duration 10] [--out docs/benchmarks.md]
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from servers import REPO, SERVERS, command, version_command

THREADS, CONNECTIONS, WARMUP_S, RUNS, STARTUP_RUNS = 2, 32, 3, 3, 5


# ---------------------------------------------------------------------------------------------------------
# Pure parts: wrk's output, the cases and their targets, the table.
# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Wrk:
    """What one ``wrk --latency`` run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    socket_errors: int = 0
    non_2xx: int = 0


_MS_PER_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def parse_wrk(text: str) -> Wrk:
    """Parse ``wrk --latency`` output: requests/s, p50 and p99 (ms), requests, socket errors, non-2xx/3xx."""
    def percentile(pct: int) -> float:
        found = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
        if not found:
            raise ValueError(f"no {pct}% latency in wrk output:\n{text}")
        return float(found[1]) * _MS_PER_UNIT[found[2]]

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    requests = re.search(r"^\s*(\d+) requests in ", text, re.M)
    if not rps or not requests:
        raise ValueError(f"no Requests/sec or request count in wrk output:\n{text}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return Wrk(rps=float(rps[1]), p50_ms=percentile(50), p99_ms=percentile(99), requests=int(requests[1]),
               socket_errors=sum(map(int, errors.groups())) if errors else 0,
               non_2xx=int(non_2xx[1]) if non_2xx else 0)


@dataclass(frozen=True)
class Target:
    """A bound on uwkernel's number: on its ratio to server ``versus``'s, or on the number itself."""

    bound: float
    versus: str | None = None


@dataclass(frozen=True)
class Case:
    """One line of the table: what is measured, in which unit, which way is better, and the targets."""

    key: str
    title: str
    unit: str
    higher_is_better: bool
    targets: tuple[Target, ...]


CASES = (
    Case("a", "nginx `uwsgi_pass` → uwsgi socket", "req/s", True, (Target(0.9, "uWSGI"),)),
    Case("b", "HTTP, a connection per request", "req/s", True, (Target(0.8, "uWSGI"), Target(2, "gunicorn"))),
    Case("c", "HTTP keep-alive (`http11-socket`)", "req/s", True, (Target(1.0, "uWSGI"), Target(2, "gunicorn"))),
    Case("d", "exec → first 200 (median of 5)", "ms", False, (Target(60),)),
    Case("e", "memory per worker (USS; PSS below)", "MiB", False, (Target(1.5, "uWSGI"),)),
    Case("f", "1 MB response, keep-alive", "req/s", True, (Target(2, "gunicorn"),)),
)


@dataclass(frozen=True)
class Measure:
    """One server's number in one case; ``detail`` is shown under it, ``note`` says why there is none."""

    value: float | None
    detail: str = ""
    note: str = ""


Results = dict[tuple[str, str], Measure]  # (case key, server) -> Measure


def ratio(results: Results, case: Case, versus: str) -> float | None:
    """uwkernel's number divided by ``versus``'s in ``case``, None when either is missing."""
    ours, theirs = results.get((case.key, "uwkernel")), results.get((case.key, versus))
    if not ours or not theirs or ours.value is None or not theirs.value:
        return None
    return ours.value / theirs.value


def verdict(results: Results, case: Case, target: Target) -> str:
    """``target`` spelled out with PASS, FAIL or n/a (nothing to compare), e.g. ``≥ 0.9× uWSGI: **PASS**``."""
    sign = "≥" if case.higher_is_better else "≤"
    if target.versus:
        spelled, number = f"{sign} {target.bound:g}× {target.versus}", ratio(results, case, target.versus)
    else:
        ours = results.get((case.key, "uwkernel"))
        spelled, number = f"{sign} {target.bound:g} {case.unit}", ours.value if ours else None
    if number is None:
        return f"{spelled}: n/a"
    ok = number >= target.bound if case.higher_is_better else number <= target.bound
    return f"{spelled}: **{'PASS' if ok else 'FAIL'}**"


def _cell(measure: Measure | None, unit: str) -> str:
    if measure is None:
        return "–"
    if measure.value is None:
        return f"n/a: {measure.note}"
    number = f"{measure.value:,.0f}" if unit == "req/s" else f"{measure.value:.1f}"
    return f"{number} {unit}" + (f"<br>{measure.detail}" if measure.detail else "")


def _ratio_cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def render_table(results: Results) -> str:
    """The markdown table: one row per case, a column per server, the two ratios, the targets' verdicts."""
    lines = [f"| case | {' | '.join(SERVERS)} | uwkernel / uWSGI | uwkernel / gunicorn | targets |",
             "|---" * (len(SERVERS) + 4) + "|"]
    for case in CASES:
        cells = [_cell(results.get((case.key, server)), case.unit) for server in SERVERS]
        ratios = [_ratio_cell(ratio(results, case, versus)) for versus in ("uWSGI", "gunicorn")]
        targets = "<br>".join(verdict(results, case, target) for target in case.targets)
        lines.append(f"| ({case.key}) {case.title} | {' | '.join(cells + ratios)} | {targets} |")
    return "\n".join(lines)


FAIRNESS = (
    "Same app file (bench/app.py), 2 worker processes each, same CPython, same wrk parameters. The servers of "
    f"a case run side by side: a warm-up run on each, then {RUNS} rounds of one run per server, so a burst of "
    "outside load falls on all alike; the median run is shown with the range of the rates. uWSGI and "
    "uwkernel run with `--master --processes 2 --disable-logging`; gunicorn with the sync worker (it logs "
    "no requests by default); granian in WSGI mode with `--workers 2 --no-access-log`.",
    "wrk, nginx and the servers share the machine's 2 cores: every number is 'server + load generator on the "
    "same cores', so a server that needs less CPU per request leaves more to wrk. On this VM, shared with "
    "other jobs, one server's rate moves by 10-50 % between runs (up to 2x in the keep-alive ping-pong): "
    "look at the range, the CPU per request and the load average before reading much into a ratio.",
    "(b) sends `Connection: close`; the notes above say whether each server really closed. uWSGI's "
    "`http-socket` answers HTTP/1.1 without a `Connection: close` header and then closes, so wrk counts a "
    "read error on each of its connections after the complete response: those responses count in req/s, "
    "and the errors cost wrk (not uWSGI) a little. gunicorn's sync worker never keeps a connection alive, "
    "so in (c) and (f) it still pays a connection per request: that is the baseline of the 2x targets.",
    "(c) and (f): uWSGI's and uwkernel's workers are blocking, one connection at a time, and keep a "
    "keep-alive connection until the client ends it: 2 of wrk's 32 connections are served for the whole run "
    "while the other 30 wait in the listen queue (wrk reports no error for them), so their rates and "
    "latencies are those of a 2-connection ping-pong. granian serves all 32 (hence its higher p99); gunicorn "
    "closes each one.",
    "(a) only for the servers that speak the uwsgi protocol; nginx (1 process) opens a new upstream "
    "connection per request, as `uwsgi_pass` does.",
    "Server CPU per request is the user + system time of the master and its workers (not nginx, not wrk) "
    "during the median run, divided by its requests: the steadiest number here, as it does not depend on "
    "how the scheduler shares the cores with wrk.",
    "(d) polls with HTTP GETs every millisecond from the moment before the exec; the time includes the "
    "Python interpreter's own start-up for every server. The servers run without PYTHONDONTWRITEBYTECODE "
    "(this machine's environment sets it): gunicorn and granian got their .pyc files from pip, while "
    "uwkernel is installed editable from the source tree and would otherwise compile every module at "
    "every start (about 100 ms here); its earlier cases have written its __pycache__ by the time (d) runs.",
    "(e) reads /proc/PID/smaps_rollup of the master's children after (b)'s load: USS = Private_Clean + "
    "Private_Dirty, PSS = Pss, averaged over the 2 workers. uWSGI and uwkernel load the app in the master "
    "before forking, gunicorn and granian in each worker (everyone's default).",
)


def render_doc(results: Results, facts: dict[str, str], notes: list[str]) -> str:
    """docs/benchmarks.md: where and when, the table, then the notes of this run and the fairness caveats."""
    out = ["# Benchmarks", "",
           "Written by `make bench` (bench/run.py; bench/README.md says what each case means). "
           "Higher req/s is better; lower latency, start-up time and memory are better.", ""]
    out += [f"- **{name}**: {value}" for name, value in facts.items()]
    out += ["", render_table(results), "", "## Notes of this run", ""]
    out += [f"- {note}" for note in notes] or ["- none"]
    out += ["", "## How fair this is", ""] + [f"- {caveat}" for caveat in FAIRNESS]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------------------
# Running things: processes, probes, wrk, memory, start-up time.
# ---------------------------------------------------------------------------------------------------------

class Processes:
    """Every process this run starts, each in its own process group, killed (the whole group) at the end."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.running: list[subprocess.Popen] = []

    def start(self, argv: list[str], name: str) -> subprocess.Popen:
        """Start ``argv`` in a new session, its output appended to ``name``.log in the log directory."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("UWSGI_", "UWKERNEL_")) and k != "PYTHONDONTWRITEBYTECODE"}
        with open(self.logdir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True)
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        """Kill ``proc``'s process group (master and workers) and reap it."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
        self.running.remove(proc)

    def stop_all(self) -> None:
        """Kill every process group still running."""
        for proc in list(self.running):
            self.stop(proc)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_status(port: int) -> int | None:
    """The status of one GET / on a new connection to 127.0.0.1:``port``; None when nothing answers (yet)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            return int(s.recv(64).split(b" ", 2)[1])
    except (OSError, ValueError, IndexError):
        return None


def _read_response(s: socket.socket) -> bool:
    """Read one response with a Content-Length; False when the connection ends first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length:\s*(\d+)", head)[1])
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            return False
        body += chunk
    return True


def closes_after_response(port: int) -> bool:
    """Whether the server closes the connection after answering a request sent with ``Connection: close``."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        try:
            return _read_response(s) and s.recv(1) == b""
        except TimeoutError:
            return False


def keeps_alive(port: int) -> bool:
    """Whether two HTTP/1.1 requests are answered on one connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        try:
            for _ in range(2):
                s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
                if not _read_response(s):
                    return False
        except OSError:
            return False
    return True


def wait_ready(proc: subprocess.Popen, port: int, timeout: float = 30) -> None:
    """GET 127.0.0.1:``port`` every millisecond until a 200; RuntimeError when ``proc`` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while get_status(port) != 200:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with status {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no 200 within {timeout:g} s")
        time.sleep(0.001)


class Bench:
    """One run: the tools, the processes it started, the results and notes it gathers."""

    def __init__(self, bench_venv: Path, duration: int, workdir: Path, wrk: str | None, nginx: str | None):
        self.bench_venv, self.duration, self.workdir = bench_venv, duration, workdir
        self.wrk_path, self.nginx_path = wrk, nginx
        self.procs = Processes(workdir)
        self.results: Results = {}
        self.notes: list[str] = []

    def fail(self, server: str, cases: str, reason: str) -> None:
        """Mark ``cases`` of ``server`` n/a for ``reason`` (and say so in the notes)."""
        for case in cases:
            self.results.setdefault((case, server), Measure(None, note=reason))
        self.notes.append(f"({', '.join(cases)}) {server}: {reason} (logs: {self.workdir}).")

    @contextmanager
    def endpoints(self, mode: str, cases: str):
        """Start every server that speaks ``mode`` (behind nginx for ``uwsgi``) and wait for a 200 from each;
        yield {server: (port to load, master pid)}; kill them all after. A server that fails to start
        gets ``cases`` marked n/a."""
        with ExitStack() as stack:
            live = {}
            for server in SERVERS:
                port = free_port()
                argv = command(server, mode, port, self.bench_venv)
                if argv is None or (mode == "uwsgi" and not self.nginx_path):
                    for case in cases:
                        self.results[case, server] = Measure(None, note="nginx missing" if argv else
                                                             "no uwsgi protocol")
                    continue
                proc = self.procs.start(argv, f"{server}-{mode}")
                stack.callback(self.procs.stop, proc)
                try:
                    front = stack.enter_context(self.nginx(port)) if mode == "uwsgi" else port
                    wait_ready(proc, front)
                except RuntimeError as error:
                    self.fail(server, cases, f"did not serve ({error})")
                    continue
                live[server] = front, proc.pid
            yield live

    def wrk(self, url: str, seconds: int, headers: tuple[str, ...] = ()) -> Wrk:
        """Run wrk with the fixed thread and connection counts against ``url``."""
        argv = [self.wrk_path, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
        for header in headers:
            argv += ["-H", header]
        done = subprocess.run(argv + [url], capture_output=True, text=True, timeout=seconds + 60)
        return parse_wrk(done.stdout)

    def load(self, case: str, live: dict, path: str, headers: tuple[str, ...] = ()) -> None:
        """A warm-up per server, then RUNS rounds of one wrk run per server, so that a burst of outside load
        falls on every server alike; results[case, server] is each server's median run, with the range."""
        urls = {server: f"http://127.0.0.1:{port}{path}" for server, (port, _) in live.items()}
        masters = {server: master for server, (_, master) in live.items()}
        if not self.wrk_path:
            for server in urls:
                self.results[case, server] = Measure(None, note="wrk missing")
            return
        runs: dict[str, list[tuple[Wrk, float]]] = {server: [] for server in urls}  # (run, CPU s/request)
        for measured, seconds, rounds in ((False, WARMUP_S, 1), (True, self.duration, RUNS)):
            for _ in range(rounds):
                for server, url in list(urls.items()):
                    try:
                        cpu = cpu_seconds(masters[server])
                        run = self.wrk(url, seconds, headers)
                        cpu = cpu_seconds(masters[server]) - cpu
                    except (ValueError, subprocess.SubprocessError) as error:
                        self.fail(server, case, f"wrk failed ({str(error).splitlines()[0]})")
                        del urls[server], runs[server]
                        continue
                    if measured:
                        runs[server].append((run, cpu / max(run.requests, 1)))
        for server, its_runs in runs.items():
            its_runs.sort(key=lambda pair: pair[0].rps)
            run, cpu = its_runs[len(its_runs) // 2]
            self.results[case, server] = Measure(run.rps, f"p50 {run.p50_ms:.2f} ms · p99 {run.p99_ms:.2f} ms<br>"
                                                          f"runs {its_runs[0][0].rps:,.0f}–{its_runs[-1][0].rps:,.0f}"
                                                          f"<br>server CPU {cpu * 1e6:.0f} µs/request")
            if run.socket_errors or run.non_2xx:
                self.notes.append(f"({case}) {server}: wrk counted {run.socket_errors} socket errors and "
                                  f"{run.non_2xx} non-2xx/3xx responses over {run.requests} requests.")

    def memory(self, server: str, master: int) -> None:
        """USS and PSS of the master's children (its workers), averaged, into results["e", server]."""
        workers = children(master)
        if len(workers) != 2:
            self.notes.append(f"(e) {server}: the master has {len(workers)} children, not 2 workers.")
        sizes = [smaps_rollup(pid) for pid in workers]
        uss = statistics.mean(u for u, _ in sizes) / 1024
        pss = statistics.mean(p for _, p in sizes) / 1024
        self.results["e", server] = Measure(uss, f"PSS {pss:.1f} MiB")

    def startup(self, server: str) -> None:
        """Median time from exec to the first 200 over STARTUP_RUNS starts, into results["d", server]."""
        samples = []
        for _ in range(STARTUP_RUNS):
            port = free_port()
            argv = command(server, "http", port, self.bench_venv)
            start = time.perf_counter()
            proc = self.procs.start(argv, f"{server}-startup")
            try:
                wait_ready(proc, port)
                samples.append((time.perf_counter() - start) * 1000)
            except RuntimeError as error:
                self.fail(server, "d", f"did not serve ({error})")
                return
            finally:
                self.procs.stop(proc)
        self.results["d", server] = Measure(statistics.median(samples), f"min {min(samples):.0f}, "
                                                                        f"max {max(samples):.0f}")

    @contextmanager
    def nginx(self, upstream: int):
        """nginx (one process) on a free port passing every request to the uwsgi socket ``upstream``."""
        port, root = free_port(), self.workdir / f"nginx-{upstream}"
        root.mkdir()
        conf = root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user="user root;" if os.geteuid() == 0 else "", root=root, port=port,
                                          upstream=upstream))
        proc = self.procs.start([self.nginx_path, "-c", str(conf), "-p", str(root)], f"nginx-{upstream}")
        try:
            yield port
        finally:
            self.procs.stop(proc)

    def run(self) -> None:
        """Every case, each with all its servers running side by side and loaded in turn."""
        with self.endpoints("http", "be") as live:
            for server, (port, _) in live.items():
                closes = closes_after_response(port)
                self.notes.append(f"(b) {server} {'closed' if closes else 'did NOT close'} the connection after "
                                  "a `Connection: close` request.")
            self.load("b", live, "/", ("Connection: close",))
            for server, (_, master) in live.items():
                self.memory(server, master)
        with self.endpoints("http11", "cf") as live:
            for server, (port, _) in live.items():
                alive = keeps_alive(port)
                self.notes.append(f"(c) {server} {'kept' if alive else 'did NOT keep'} the connection alive "
                                  "between two requests.")
            self.load("c", live, "/")
            self.load("f", live, "/1mb")
        with self.endpoints("uwsgi", "a") as live:
            self.load("a", live, "/")
        for server in SERVERS:
            self.startup(server)


NGINX_CONF = """
{user}
daemon off; master_process off; worker_processes 1; pid {root}/nginx.pid; error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/body; uwsgi_temp_path {root}/uwsgi; proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi; scgi_temp_path {root}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      uwsgi_param QUERY_STRING $query_string; uwsgi_param REQUEST_METHOD $request_method;
      uwsgi_param CONTENT_TYPE $content_type; uwsgi_param CONTENT_LENGTH $content_length;
      uwsgi_param REQUEST_URI $request_uri; uwsgi_param PATH_INFO $document_uri;
      uwsgi_param DOCUMENT_ROOT $document_root; uwsgi_param SERVER_PROTOCOL $server_protocol;
      uwsgi_param REQUEST_SCHEME $scheme; uwsgi_param REMOTE_ADDR $remote_addr;
      uwsgi_param REMOTE_PORT $remote_port; uwsgi_param SERVER_PORT $server_port;
      uwsgi_param SERVER_NAME $server_name;
      uwsgi_pass 127.0.0.1:{upstream};
    }}
  }}
}}
"""


def children(pid: int) -> list[int]:
    """The pids whose parent is ``pid``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def cpu_seconds(master: int) -> float:
    """User + system CPU time so far of ``master`` and its children (every thread), from /proc."""
    total = 0
    for pid in (master, *children(master)):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def smaps_rollup(pid: int) -> tuple[int, int]:
    """(USS, PSS) of ``pid`` in KiB: Private_Clean + Private_Dirty, and Pss, from /proc/PID/smaps_rollup."""
    kib = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        kib[name] = int(value.split()[0])
    return kib["Private_Clean"] + kib["Private_Dirty"], kib["Pss"]


# ---------------------------------------------------------------------------------------------------------
# Tools, facts about this machine, main.
# ---------------------------------------------------------------------------------------------------------

def ensure_tool(name: str, package: str) -> str | None:
    """The path of ``name``, installed with apt-get (as root) when missing; None when that is impossible."""
    def find() -> str | None:
        return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin")

    if find() or os.geteuid() != 0 or not shutil.which("apt-get"):
        return find()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]
    print(f"bench: installing {package} with apt-get", file=sys.stderr)
    if subprocess.run(install, env=env, capture_output=True, timeout=300).returncode:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300)
        subprocess.run(install, env=env, capture_output=True, timeout=300)
    if name == "nginx":  # the package starts a default nginx on port 80; the benchmark runs its own
        subprocess.run(["service", "nginx", "stop"], capture_output=True, timeout=30)
    return find()


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except OSError as error:
        return f"unavailable ({error.strerror})"
    return (done.stdout.strip() or done.stderr.strip() or "?").splitlines()[0]


def facts(bench_venv: Path, duration: int, wrk: str | None, nginx: str | None) -> dict[str, str]:
    """Machine, date and versions for the head of the document."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mem_kib = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M)[1])
    commit = _first_line(["git", "-C", str(REPO), "describe", "--always", "--dirty"])
    versions = {server: _first_line(version_command(server, bench_venv)) for server in SERVERS}
    versions["uwkernel"] += f" (git {commit})"
    return {
        "machine": f"{os.cpu_count()} × {model[1] if model else platform.machine()}, "
                   f"{mem_kib / 1024 / 1024:.0f} GiB RAM, Linux {platform.release()}",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": f"CPython {platform.python_version()} for every server",
        "load average before the run": ", ".join(f"{load:.2f}" for load in os.getloadavg()),
        "versions": "; ".join(f"{name}: {version}" for name, version in versions.items()),
        "load": f"{_first_line([wrk, '-v']).partition(' Copyright')[0] if wrk else 'wrk missing'}, "
                f"`wrk -t{THREADS} -c{CONNECTIONS} -d{duration}s --latency`: a {WARMUP_S} s warm-up, "
                f"then {RUNS} rounds, the median run shown; "
                f"{_first_line([nginx, '-v']) if nginx else 'nginx missing'}",
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, write the document, print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-venv", type=Path, default=REPO / ".bench-venv")
    parser.add_argument("--duration", type=int, default=5, help="seconds of each measured wrk run")
    parser.add_argument("--out", type=Path, default=REPO / "docs/benchmarks.md")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers are killed on the way out
    wrk, nginx = ensure_tool("wrk", "wrk"), ensure_tool("nginx", "nginx-light")
    info = facts(args.bench_venv.resolve(), args.duration, wrk, nginx)
    workdir = Path(tempfile.mkdtemp(prefix="uwkernel-bench-"))  # kept: the servers' logs, for a failed case
    bench = Bench(args.bench_venv.resolve(), args.duration, workdir, wrk, nginx)
    try:
        bench.run()
    finally:
        bench.procs.stop_all()
    doc = render_doc(bench.results, info, bench.notes)
    args.out.write_text(doc)
    print(doc)
    print(f"bench: servers' logs are in {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
