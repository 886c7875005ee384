"""A test app: one signal per mule target; each handler appends "pid mule_id" to OUT/<target>.

``/raise/N,M,...`` raises the signals in that order from the worker serving the request.
"""
import os

import uwsgi

OUT = os.environ["SIGOUT"]
#: signal number -> target (mules 1-3, farms "odd" = 1,3 and "even" = 2); 39 is the last one raised.
TARGETS = {30: "mule", 31: "mule0", 32: "mule2", 33: "mules", 34: "farm_odd", 35: "farm2", 36: "farm1",
           39: "mules"}


def record(name):
    """A handler appending "pid mule_id" of the process running it to OUT/name."""
    def handler(num):
        with open(os.path.join(OUT, name), "a") as f:
            f.write(f"{os.getpid()} {uwsgi.mule_id()}\n")
    return handler


for _num, _target in TARGETS.items():
    uwsgi.register_signal(_num, _target, record("last" if _num == 39 else _target))


def application(environ, start_response):
    """/raise/N,M,... raises N, M, ... in order."""
    path = environ["PATH_INFO"]
    if path.startswith("/raise/"):
        for num in path[len("/raise/"):].split(","):
            uwsgi.signal(int(num))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
