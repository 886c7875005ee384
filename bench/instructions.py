"""User-space instructions per request in the workers, counted by callgrind: uwkernel beside uWSGI.

Wall-clock rates on a shared 2-core VM move by tens of percent between runs; instruction counts do not
(the same count twice, whatever else runs). This runs each server under ``valgrind --tool=callgrind``
as one process (no ``--master``: the process is the worker, with the same serving loop), sends a warm-up,
zeroes the counters, sends N requests one after the other and dumps the counters: their total over N is
the cost of one request in the worker's own code, without start-up, warm-up or exit (the kernel's time
in system calls is not counted: it is the same for both). Counting from start to exit and subtracting a
shorter run left one-off costs in that moved the result by up to 30 % between runs.

Modes: ``uwsgi`` (a packet with the 20 vars nginx sends for a browser GET, a connection each, as
``uwsgi_pass``), ``http`` (``Connection: close``, a connection each) and ``http11`` (keep-alive).

Usage: python bench/instructions.py [--bench-venv .bench-venv] [--requests 300] [MODE ...]
Takes a couple of minutes (everything runs about 50 times slower under valgrind).
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from proto_micro import NGINX_VARS
from run import Processes, _read_response, free_port
from servers import REPO, command

sys.path.insert(0, str(REPO))
from uwkernel.proto.uwsgi import build_packet, encode_vars  # noqa: E402

#: Requests served before the counters are zeroed (first-use caches, lazy imports).
WARM_UP = 30

REQUESTS = {
    "uwsgi": build_packet(0, encode_vars(NGINX_VARS)),
    "http": b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n",
    "http11": b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n",
}


def send(port: int, mode: str, count: int) -> None:
    """Send ``count`` requests of ``mode`` one after the other, reading every response."""
    if mode == "http11":
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            for _ in range(count):
                s.sendall(REQUESTS[mode])
                if not _read_response(s):
                    raise RuntimeError("the server closed a keep-alive connection")
        return
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(REQUESTS[mode])
            if not _read_response(s):
                raise RuntimeError("no complete response")


def worker_instructions(server: str, mode: str, count: int, bench_venv: Path, workdir: Path) -> float:
    """Instructions the worker of ``server`` runs per request, over ``count`` requests of ``mode``.

    The server runs without ``--master``, so its one process is the worker and callgrind's gdbserver
    (which forked children lack) reaches it: the counters are zeroed after a warm-up
    (``callgrind_control --zero``) and dumped after the ``count`` requests (``--dump``).
    """
    out = workdir / f"{server}-{mode}"
    out.mkdir()
    port = free_port()
    argv = command(server, mode, port, bench_venv)
    argv.remove("--master")
    argv[argv.index("--processes") + 1] = "1"
    procs = Processes(workdir)
    proc = procs.start(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p", *argv],
                       f"{server}-{mode}")
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                send(port, mode, 1)
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"{server} did not start under valgrind (log in {workdir})") from None
                time.sleep(0.5)
        send(port, mode, WARM_UP)
        control(proc.pid, "--zero")
        send(port, mode, count)
        control(proc.pid, "--dump")
    finally:
        procs.stop(proc)
    dump = out / f"cg.{proc.pid}.1"
    summary = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(errors="replace"), re.M)
    return int(summary[1]) / count


def control(pid: int, action: str) -> None:
    """Run ``callgrind_control ACTION PID`` (bounded); RuntimeError when it did not reach the process."""
    done = subprocess.run(["callgrind_control", action, str(pid)], capture_output=True, text=True, timeout=120)
    if "OK." not in done.stdout:
        raise RuntimeError(f"callgrind_control {action} {pid}: {done.stdout.strip()} {done.stderr.strip()}")


def main(argv: list[str] | None = None) -> int:
    """Print instructions per request for each mode, uwkernel and uWSGI, and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-venv", type=Path, default=REPO / ".bench-venv")
    parser.add_argument("--requests", type=int, default=300, help="requests counted (after the warm-up)")
    parser.add_argument("modes", nargs="*", help=f"any of {', '.join(REQUESTS)} (default: all)")
    args = parser.parse_args(argv)
    if set(args.modes) - set(REQUESTS):
        parser.error(f"modes are {', '.join(REQUESTS)}")
    workdir = Path(tempfile.mkdtemp(prefix="uwkernel-instructions-"))
    os.environ["PYTHONHASHSEED"] = "0"  # dict layouts, hence counts, the same in every run
    print("| mode | uwkernel | uWSGI | uwkernel / uWSGI |\n|---|---|---|---|")
    for mode in args.modes or list(REQUESTS):
        per_request = {server: worker_instructions(server, mode, args.requests, args.bench_venv.resolve(), workdir)
                       for server in ("uwkernel", "uWSGI")}
        print(f"| {mode} | {per_request['uwkernel']:,.0f} | {per_request['uWSGI']:,.0f} | "
              f"{per_request['uwkernel'] / per_request['uWSGI']:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
