"""A test app: signals 17 and 19 go to the process SIGTARGET names ("spooler", "mule1").

17's handler records its pid in OUT/slow and sleeps 30 s (past any harakiri); 19's records its pid in
OUT/again. ``/raise`` raises 17, ``/again`` raises 19; other paths raise nothing.
"""
import os
import time

import uwsgi

OUT = os.environ["SIGOUT"]
SIGNALS = {"/raise": 17, "/again": 19}


def _record(name):
    with open(os.path.join(OUT, name), "a") as f:
        f.write(f"{os.getpid()}\n")


def slow(num):
    """A handler running past any harakiri."""
    _record("slow")
    time.sleep(30)


uwsgi.register_signal(17, os.environ["SIGTARGET"], slow)
uwsgi.register_signal(19, os.environ["SIGTARGET"], lambda num: _record("again"))


def application(environ, start_response):
    """Raise the path's signal, if it has one."""
    if environ["PATH_INFO"] in SIGNALS:
        uwsgi.signal(SIGNALS[environ["PATH_INFO"]])
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
