"""A test app: signal handlers append their pid to OUT/<tag>-<signum>; HTTP paths raise signals."""
import os

import uwsgi

OUT = os.environ["SIGOUT"]


def record(tag):
    """A handler appending this process's pid to OUT/tag-signum."""
    def handler(num):
        with open(os.path.join(OUT, f"{tag}-{num}"), "a") as f:
            f.write(f"{os.getpid()}\n")
    return handler


def boom(num):
    """A handler that raises."""
    raise RuntimeError(f"boom {num}")


uwsgi.register_signal(1, "workers", record("workers"))
uwsgi.register_signal(2, "worker", record("worker"))
uwsgi.register_signal(3, "worker2", record("worker2"))
uwsgi.register_signal(4, "active-workers", record("active"))
uwsgi.register_signal(5, "", record("first"))
uwsgi.register_signal(6, "workers", boom)
uwsgi.register_signal(7, "workers", record("wait"))
uwsgi.register_signal(10, "worker", record("timer"))
uwsgi.add_timer(10, 1)
uwsgi.register_signal(11, "worker", record("rbtimer"))
uwsgi.add_rb_timer(11, 1, 2)
uwsgi.register_signal(12, "worker", record("mstimer"))
uwsgi.add_ms_timer(12, 200)
uwsgi.register_signal(13, "workers", record("filemon"))
uwsgi.add_file_monitor(13, os.environ["WATCHED"])
uwsgi.register_signal(20, "bogus", record("bogus"))


def application(environ, start_response):
    """/raise/N raises N; /remote/N raises N through NODE; /wait/N waits for N; /register/N registers here."""
    path = environ["PATH_INFO"]
    body = str(os.getpid()).encode()
    if path.startswith("/raise/"):
        uwsgi.signal(int(path[7:]))
    elif path.startswith("/remote/"):
        uwsgi.signal(int(path[8:]), os.environ["NODE"])
    elif path.startswith("/wait/"):
        uwsgi.signal_wait(int(path[6:]))
        body = str(uwsgi.signal_received()).encode()
    elif path.startswith("/register/"):
        num = int(path[10:])
        uwsgi.register_signal(num, "workers", record("local"))
    elif path.startswith("/registered/"):
        body = repr(uwsgi.signal_registered(int(path[12:]))).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
