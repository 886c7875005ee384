"""Timer drift: a 1 s ``uwsgi.add_timer`` measured over a minute in a real uwkernel instance.

Usage: ``.venv/bin/python bench/timer_drift.py [--seconds 60]``. The app's handler records the
wall-clock time of every tick; the report gives the mean and worst deviation of each interval from
1 s and the accumulated drift (last tick vs first tick + N s). Not a test: timing depends on load.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from uwkernel.testing import Server, free_port  # noqa: E402

APP = textwrap.dedent("""
    import os, time, uwsgi
    OUT = os.environ["DRIFT_OUT"]
    def tick(num):
        with open(OUT, "a") as f:
            f.write(f"{time.time():.6f}\\n")
    uwsgi.register_signal(17, "worker", tick)
    uwsgi.add_timer(17, 1)
    def application(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]
""")


def main() -> None:
    """Run the instance for ``--seconds`` and print the drift figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app, out = Path(tmp) / "app.py", Path(tmp) / "ticks"
        app.write_text(APP)
        port = free_port()
        with Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(app), "--master", "--processes", "2",
                    env={"DRIFT_OUT": str(out)}) as server:
            server.wait_http(port)
            time.sleep(args.seconds + 1.5)
        ticks = [float(t) for t in out.read_text().split()]
    deltas = [b - a - 1.0 for a, b in zip(ticks, ticks[1:])]
    if not deltas:
        sys.exit("no ticks recorded")
    print(f"ticks: {len(ticks)} over {ticks[-1] - ticks[0]:.3f} s")
    print(f"per-tick deviation: mean {1000 * sum(deltas) / len(deltas):+.3f} ms, "
          f"worst {1000 * max(deltas, key=abs):+.3f} ms")
    print(f"accumulated drift: {1000 * (ticks[-1] - ticks[0] - (len(ticks) - 1)):+.3f} ms")


if __name__ == "__main__":
    main()
