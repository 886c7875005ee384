"""A test app: signal 17 goes to the spooler, whose handler records its pid in OUT/slow and sleeps 30 s.

``/raise`` raises 17; ``/spool`` spools a task, which the spooler records in OUT/task with its pid.
"""
import os
import time

import uwsgi

OUT = os.environ["SIGOUT"]


def _record(name):
    with open(os.path.join(OUT, name), "a") as f:
        f.write(f"{os.getpid()}\n")


def slow(num):
    """A handler running past any spooler-harakiri."""
    _record("slow")
    time.sleep(30)


def spooler(task):
    """Record the pid of the spooler running the task."""
    _record("task")
    return uwsgi.SPOOL_OK


uwsgi.spooler = spooler
uwsgi.register_signal(17, "spooler", slow)


def application(environ, start_response):
    """/raise raises signal 17, /spool spools a task."""
    if environ["PATH_INFO"] == "/raise":
        uwsgi.signal(17)
    elif environ["PATH_INFO"] == "/spool":
        uwsgi.spool({"what": "after"})
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
