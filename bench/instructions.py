"""User-space instructions per request in the workers, counted by callgrind: uwkernel beside uWSGI.

Wall-clock rates on a shared 2-core VM move by tens of percent between runs; instruction counts do not
(the same count twice, whatever else runs). This runs each server under ``valgrind --tool=callgrind``
(which follows the master's forks) with one worker, sends N requests one after the other, and reads the
worker's total;
two runs (N and 6 N) cancel start-up and exit, so the difference over 5 N is the cost of one request in
the workers' own code (the kernel's time in system calls is not counted: it is the same for both).

Modes: ``uwsgi`` (a packet with the 20 vars nginx sends for a browser GET, a connection each, as
``uwsgi_pass``), ``http`` (``Connection: close``, a connection each) and ``http11`` (keep-alive).

Usage: python bench/instructions.py [--bench-venv .bench-venv] [--requests 200] [MODE ...]
Takes a few minutes (everything runs about 50 times slower under valgrind).
"""
from __future__ import annotations

import argparse
import glob
import os
import re
import signal
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


def worker_instructions(server: str, mode: str, count: int, bench_venv: Path, workdir: Path) -> int:
    """The instructions the workers of ``server`` ran, from start to exit, serving ``count`` requests."""
    out = workdir / f"{server}-{mode}-{count}"
    out.mkdir()
    port = free_port()
    argv = command(server, mode, port, bench_venv)
    argv[argv.index("--processes") + 1] = "1"  # one worker: the same requests, hence counts, in every run
    procs = Processes(workdir)
    master = procs.start(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p", *argv],
                         f"{server}-{mode}-{count}")
    try:
        deadline = time.monotonic() + 120
        while True:  # the first request, once the server listens, is the same in both runs: it cancels out
            try:
                send(port, mode, 1)
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or master.poll() is not None:
                    raise RuntimeError(f"{server} did not start under valgrind (log in {workdir})") from None
                time.sleep(0.5)
        send(port, mode, count)
    finally:
        master.send_signal(signal.SIGINT)  # every process exits and callgrind writes its files
        try:
            master.wait(120)
        except subprocess.TimeoutExpired:
            pass
        procs.stop(master)  # whatever is left of the group
    total = 0
    for path in glob.glob(f"{out}/cg.*"):
        if path.endswith(f".{master.pid}"):
            continue  # the master
        summary = re.search(r"^(?:summary|totals): (\d+)", Path(path).read_text(errors="replace"), re.M)
        total += int(summary[1]) if summary else 0
    return total


def main(argv: list[str] | None = None) -> int:
    """Print instructions per request for each mode, uwkernel and uWSGI, and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-venv", type=Path, default=REPO / ".bench-venv")
    parser.add_argument("--requests", type=int, default=200, help="N: the runs send N and 6 N requests")
    parser.add_argument("modes", nargs="*", help=f"any of {', '.join(REQUESTS)} (default: all)")
    args = parser.parse_args(argv)
    if set(args.modes) - set(REQUESTS):
        parser.error(f"modes are {', '.join(REQUESTS)}")
    workdir = Path(tempfile.mkdtemp(prefix="uwkernel-instructions-"))
    os.environ["PYTHONHASHSEED"] = "0"  # dict layouts, hence counts, the same in every run
    print("| mode | uwkernel | uWSGI | uwkernel / uWSGI |\n|---|---|---|---|")
    for mode in args.modes or list(REQUESTS):
        per_request = {}
        for server in ("uwkernel", "uWSGI"):
            few, many = (worker_instructions(server, mode, n, args.bench_venv.resolve(), workdir)
                         for n in (args.requests, 6 * args.requests))
            per_request[server] = (many - few) / (5 * args.requests)
        print(f"| {mode} | {per_request['uwkernel']:,.0f} | {per_request['uWSGI']:,.0f} | "
              f"{per_request['uwkernel'] / per_request['uWSGI']:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
