"""How each server under test is started: the same app file, 2 workers, one address on 127.0.0.1.

Three kinds of socket (``mode``):

* ``uwsgi``: the uwsgi protocol, for nginx ``uwsgi_pass`` (uwkernel and uWSGI only);
* ``http``: plain HTTP, one request per connection (uWSGI's ``--http-socket``);
* ``http11``: HTTP/1.1 with keep-alive (uWSGI's ``--http11-socket``).

gunicorn (sync worker: it closes every connection) and granian (WSGI interface) have one HTTP server that
serves both HTTP modes.
"""
from __future__ import annotations

from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
APP = BENCH / "app.py"
SERVERS = ("uwkernel", "uWSGI", "gunicorn", "granian")
UWSGI_FLAGS = {"uwsgi": "--socket", "http": "--http-socket", "http11": "--http11-socket"}


def command(server: str, mode: str, port: int, bench_venv: Path) -> list[str] | None:
    """The argv that starts ``server`` serving bench/app.py on 127.0.0.1:``port`` in ``mode``.

    None when the server does not speak that mode (only uwkernel and uWSGI speak the uwsgi protocol).
    """
    address = f"127.0.0.1:{port}"
    if server in ("uwkernel", "uWSGI"):
        binary = REPO / ".venv/bin/uwkernel" if server == "uwkernel" else bench_venv / "bin/uwsgi"
        return [str(binary), "--master", "--processes", "2", "--disable-logging", "--wsgi-file", str(APP),
                UWSGI_FLAGS[mode], address]
    if mode == "uwsgi":
        return None
    if server == "gunicorn":
        return [str(bench_venv / "bin/gunicorn"), "--workers", "2", "--worker-class", "sync", "--bind", address,
                "--chdir", str(BENCH), "app:application"]
    if server == "granian":
        return [str(bench_venv / "bin/granian"), "--interface", "wsgi", "--workers", "2", "--host", "127.0.0.1",
                "--port", str(port), "--no-access-log", "--working-dir", str(BENCH), "app:application"]
    raise ValueError(f"unknown server {server!r}")


def version_command(server: str, bench_venv: Path) -> list[str]:
    """The argv that prints ``server``'s version."""
    if server == "uwkernel":
        return [str(REPO / ".venv/bin/uwkernel"), "--version"]
    return [str(bench_venv / "bin" / server.lower()), "--version"]
