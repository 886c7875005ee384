"""Test helpers: run ``uwkernel`` as a subprocess, and make fake plugin distributions."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


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




def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str = "/", timeout: float = 5.0, host: str = "127.0.0.1") -> tuple[int, bytes]:
    """One HTTP/1.0 GET on a new connection; returns (status, body)."""
    import socket

    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: test\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


class Server:
    """A ``uwkernel`` subprocess in its own process group, stopped (and its group killed) on exit."""

    def __init__(self, *args: str, env: dict | None = None, cwd: Path | None = None, log: Path | None = None):
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("UWSGI_", "UWKERNEL_"))}
        full_env.update(env or {})
        self.log_path = log
        self._log = open(log, "wb") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen([sys.executable, "-m", "uwkernel", *args], env=full_env, cwd=cwd,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        """The master's pid."""
        return self.proc.pid

    def log_text(self) -> str:
        """What the server logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def wait_http(self, port: int, path: str = "/", timeout: float = 20.0) -> None:
        """Wait (bounded) until the server answers 200 on ``port``."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if http_get(port, path, timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server did not answer on port {port}:\n{self.log_text()}")

    def signal(self, signum: int) -> None:
        """Send a signal to the master."""
        os.kill(self.proc.pid, signum)

    def wait(self, timeout: float = 20.0) -> int:
        """Wait (bounded) for the master to exit; return its status."""
        return self.proc.wait(timeout)

    def group_pids(self) -> list[int]:
        """Pids of every live process in the server's process group."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == self.proc.pid and fields[0] != "Z":
                    pids.append(int(entry))
        return pids

    def stop(self) -> None:
        """Kill the whole process group (bounded), whatever state it is in."""
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        if self._log is not subprocess.DEVNULL:
            self._log.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


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


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    """Poll ``predicate`` until it returns something true (returned), bounded by ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
