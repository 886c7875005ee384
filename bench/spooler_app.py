"""The spooler benchmark's app, the same file for uWSGI and uwkernel (``bench/spooler.py`` runs it).

``GET /enqueue?count=N`` spools N tasks in a loop and answers the seconds the loop took; ``GET /pids``
answers the worker's pid and the spoolers' (``uwsgi.spooler_pids()``), space-separated. The task, run
by the spooler processes: append one byte to ``$SPOOL_BENCH_COUNTER`` (one ``write`` on a file opened
once per spooler), so the runner sees how many tasks ran from the file's size, and returns SPOOL_OK.
"""
import os
import time

import uwsgi

COUNTER = os.environ["SPOOL_BENCH_COUNTER"]
_fd = None


def task(arguments):
    """Count the task and let the spooler remove it."""
    global _fd
    if _fd is None:
        _fd = os.open(COUNTER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(_fd, b"x")
    return uwsgi.SPOOL_OK


uwsgi.spooler = task


def application(environ, start_response):
    """``/enqueue?count=N``: spool N tasks; the body is the loop's duration in seconds. ``/pids``: the pids."""
    if environ["PATH_INFO"] == "/pids":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [" ".join(map(str, [os.getpid(), *uwsgi.spooler_pids()])).encode()]
    count = int(environ.get("QUERY_STRING", "").partition("count=")[2] or 0)
    started = time.perf_counter()
    for i in range(count):
        uwsgi.spool({b"task": b"bench", b"i": str(i).encode(), b"payload": b"x" * 64})
    elapsed = time.perf_counter() - started
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [repr(elapsed).encode()]
