"""A test app: signal 18 goes to mule 1, whose handler records its pid in OUT/slow and sleeps 30 s.

``/raise`` raises 18; ``/again`` raises 19, whose handler (also in mule 1) records its pid in OUT/again.
"""
import os
import time

import uwsgi

OUT = os.environ["SIGOUT"]


def _record(name):
    with open(os.path.join(OUT, name), "a") as f:
        f.write(f"{os.getpid()}\n")


def slow(num):
    """A handler running past any mule-harakiri."""
    _record("slow")
    time.sleep(30)


uwsgi.register_signal(18, "mule1", slow)
uwsgi.register_signal(19, "mule1", lambda num: _record("again"))


def application(environ, start_response):
    """/raise raises signal 18, /again signal 19."""
    if environ["PATH_INFO"] in ("/raise", "/again"):
        uwsgi.signal(18 if environ["PATH_INFO"] == "/raise" else 19)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
