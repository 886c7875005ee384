"""Test helpers: run ``uwkernel`` as a subprocess, and make fake plugin distributions.

The server helpers come from :mod:`uwkernel.testing`, the pytest plugin users get too.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from uwkernel.testing import Server, free_port, http_get, wait_for  # noqa: F401  (re-exported)

REPO = Path(__file__).resolve().parent.parent
#: Where ``make test`` puts the path of the uWSGI binary it built (the tests that run uWSGI need it there).
UWSGI_ENV = "UWKERNEL_TEST_UWSGI"


def uwsgi_binary() -> str:
    """The uWSGI 2.0 binary for the tests that run it beside uwkernel.

    ``$UWKERNEL_TEST_UWSGI`` when set (``make test`` sets it to the uWSGI it builds into ``.bench-venv``): the test
    fails when that is not an executable. Otherwise ``.bench-venv/bin/uwsgi``, then ``uwsgi`` on PATH; the test
    skips when there is neither.
    """
    wanted = os.environ.get(UWSGI_ENV)
    if wanted:
        if not os.access(wanted, os.X_OK):
            pytest.fail(f"${UWSGI_ENV} is {wanted!r}, which is not an executable: `make test` builds uWSGI there")
        return wanted
    for candidate in (str(REPO / ".bench-venv" / "bin" / "uwsgi"), shutil.which("uwsgi")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip(f"uWSGI is not built: `make test` or `make bench` builds it into .bench-venv (or set ${UWSGI_ENV})")


def run_uwkernel(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 30,
                 path: list[Path] = ()) -> subprocess.CompletedProcess:
    """Run ``python -m uwkernel ARGS`` to completion (bounded) and return the result, text mode.

    ``path`` directories are put first on PYTHONPATH, so fake distributions there are found.
    """
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("UWSGI_", "UWKERNEL_"))}
    full_env.update(env or {})
    full_env["PYTHONPATH"] = os.pathsep.join([*map(str, path), full_env.get("PYTHONPATH", "")]).strip(os.pathsep)
    return subprocess.run([sys.executable, "-m", "uwkernel", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)


class FakeDists:
    """Writes fake installed distributions (dist-info with an entry point) into one directory."""

    def __init__(self, root: Path):
        self.root = root

    def add(self, dist: str, ep_name: str, module: str, source: str, version: str = "1.0") -> None:
        """Install distribution ``dist`` whose ``uwkernel.plugins`` entry point ``ep_name`` is ``module``."""
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[uwkernel.plugins]\n{ep_name} = {module}\n")
        (self.root / f"{module}.py").write_text(textwrap.dedent(source))




#: A WSGI app answering "PID VERSION" (VERSION read from version.txt beside it at import); /sleep/N sleeps.
APP = '''
import os, time
VERSION = open(os.path.join(os.path.dirname(__file__), "version.txt")).read().strip()

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path.startswith("/sleep/"):
        time.sleep(float(path.split("/")[2]))
    body = f"{os.getpid()} {VERSION}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''
