"""A test app: @timer(target='spooler') appends the pid of the process it ran in to OUT/spooler-timer."""
import os

from uwsgidecorators import timer

OUT = os.environ["SIGOUT"]


@timer(1, target="spooler")
def in_spooler(num):
    """Record the pid of the process running the timer's handler."""
    with open(os.path.join(OUT, "spooler-timer"), "a") as f:
        f.write(f"{os.getpid()}\n")


def application(environ, start_response):
    """Always 200."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
