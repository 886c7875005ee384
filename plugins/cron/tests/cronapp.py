"""A test app: a signal cron every minute whose handler appends the wall-clock time to OUT/cron."""
import os
import time

import uwsgi

OUT = os.environ["CRONOUT"]


def tick(num):
    """Record when the cron fired."""
    with open(os.path.join(OUT, "cron"), "a") as f:
        f.write(f"{time.time():.3f}\n")


uwsgi.register_signal(15, "worker", tick)
assert uwsgi.add_cron(15, -1, -1, -1, -1, -1) is True


def application(environ, start_response):
    """Always 200."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
