"""One vassal: its config file, the ``uwkernel`` process running it, and how that process starts.

A vassal runs ``python -m uwkernel [--inherit/--include/--set ...] --ini FILE [--inherit/--include
...]`` (``--json``, ``--yaml``, ``--toml`` by the file's extension), as uWSGI's Emperor builds its
vassals' command line from ``vassals-inherit-before``, ``vassals-include-before``, ``vassal-set``,
``vassals-inherit`` and ``vassals-include``. Its environment is the Emperor's less the variables that
belong to the Emperor itself, plus ``UWKERNEL_VASSAL=FILE``; ``UWSGI_VASSAL_FOO`` becomes
``UWSGI_FOO``. Its stdout and stderr go to a pipe the Emperor reads, so the Emperor can forward the
vassal's log and say why a vassal died.

Between fork and exec, as in uWSGI: the tyrant's privilege drop (``emperor-tyrant``: the file's
owner), the parent-death signal (a vassal never outlives its Emperor), then the Emperor's own
``as-vassal`` phase (``hook-as-vassal``, ``exec-as-vassal``, ``call-as-vassal`` of the Emperor's
configuration; the vassal's own as-vassal lines run in the vassal itself, first thing).
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

from uwkernel import log
from uwkernel.config.formats import format_of
from uwkernel.errors import HookFailed
from uwkernel.phases import Phase, run_phase

from .calls import run_calls

#: Set in a vassal's environment: its config file (the kernel runs as-vassal when it is set).
VASSAL_ENV = "UWKERNEL_VASSAL"
_PR_SET_PDEATHSIG = 1
#: Variables of the Emperor's environment a vassal must not inherit (they would make it reload or
#: inherit sockets, or be an Emperor itself).
_DROPPED_ENV = ("UWSGI_RELOADS", "UWKERNEL_SOCKETS", "NOTIFY_SOCKET", "UWSGI_EMPEROR", "UWKERNEL_EMPEROR",
                "UWSGI_VASSALS_", "UWKERNEL_VASSALS_", "UWSGI_VASSAL_SET", "UWKERNEL_VASSAL_SET")
#: Lines of a vassal's output the Emperor keeps, to say why it died.
TAIL_LINES = 5


def command(path: str, config) -> list[str]:
    """The command line running the vassal ``path`` with the Emperor's ``vassal*`` options."""
    argv = [sys.executable, "-m", "uwkernel"]
    for value in config["vassals-inherit-before"]:
        argv += ["--inherit", value]
    for value in config["vassals-include-before"]:
        argv += ["--include", value]
    for value in config["vassal-set"]:
        argv += ["--set", value]
    argv += [f"--{format_of(path) or 'config'}", path]
    for value in config["vassals-inherit"]:
        argv += ["--inherit", value]
    for value in config["vassals-include"]:
        argv += ["--include", value]
    return argv


def environment(path: str, environ=os.environ) -> dict[str, str]:
    """The vassal's environment: the Emperor's, less its own variables, with ``UWSGI_VASSAL_*`` renamed."""
    env = {}
    for name, value in environ.items():
        if name.startswith(_DROPPED_ENV) or name == VASSAL_ENV:
            continue
        if name.startswith("UWSGI_VASSAL_"):
            name = "UWSGI_" + name[len("UWSGI_VASSAL_"):]
        env[name] = value
    env[VASSAL_ENV] = path
    return env


class Vassal:
    """A vassal config file and the process (if any) running it, with its respawn bookkeeping."""

    def __init__(self, path: str, mtime: int):
        self.path = path
        self.name = os.path.basename(path)
        self.mtime = mtime
        self.proc: subprocess.Popen | None = None
        self.born = 0.0  # when the current process was spawned
        self.last_mod = time.time()
        self.respawns = 0
        self.failures = 0  # deaths in a row, each soon after spawning
        self.cursed = 0.0  # when it started to keep dying (0: it does not)
        self.removed = False  # its file is gone: it must stop and be forgotten
        self.pending: object | None = None  # the token of the respawn it waits for, if any
        self.tail: list[str] = []  # the last lines it wrote
        self._partial = b""
        self.uid, self.gid = _owner(path)

    @property
    def pid(self) -> int:
        """The running process's pid, 0 when none runs."""
        return self.proc.pid if self.proc and self.proc.returncode is None else 0

    @property
    def output_fd(self) -> int | None:
        """The read end of the pipe carrying the vassal's output, while open."""
        return self.proc.stdout.fileno() if self.proc and self.proc.stdout and not self.proc.stdout.closed else None

    def spawn(self, emperor_config, plugins, tyrant: bool) -> None:
        """Start the vassal's process (Popen); its output pipe is left for the Emperor to read."""
        self.uid, self.gid = _owner(self.path)
        tyrant = tyrant and os.geteuid() == 0
        self.tail = []
        self._partial = b""

        def before_exec() -> None:
            _prepare_child(self, emperor_config, plugins, tyrant)

        self.proc = subprocess.Popen(
            command(self.path, emperor_config), env=environment(self.path), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=before_exec,
            cwd=os.path.dirname(self.path) or None,
        )
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.born = time.time()

    def read_output(self) -> bytes | None:
        """Read what the vassal wrote (keeping its last lines): b"" at end of file, None when nothing waits."""
        try:
            data = os.read(self.output_fd, 65536)
        except BlockingIOError:
            return None
        if not data:
            return b""
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()[-4096:]
        for line in lines:
            if line.strip():
                self.tail.append(line.decode(errors="replace").rstrip())
        del self.tail[:-TAIL_LINES]
        return data

    def last_line(self) -> str:
        """The last line the vassal wrote (or its unfinished last line), "" when it wrote nothing."""
        if self._partial.strip():
            return self._partial.decode(errors="replace").strip()
        return self.tail[-1] if self.tail else ""

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the vassal's process, when it runs."""
        if self.pid:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass


def _owner(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return os.getuid(), os.getgid()
    return st.st_uid, st.st_gid


def _prepare_child(vassal: Vassal, config, plugins, tyrant: bool) -> None:
    """In the forked child, before exec: tyrant drop, parent-death signal, the Emperor's as-vassal."""
    try:
        if tyrant:
            log.log(f"[emperor-tyrant] dropping privileges to {vassal.uid} {vassal.gid} for instance {vassal.path}")
            os.setgid(vassal.gid)
            os.setgroups([])
            os.setuid(vassal.uid)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the Emperor died between fork and prctl
            os._exit(1)
        for signum in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        run_phase(Phase.AS_VASSAL, config, plugins)
        run_calls("call-as-vassal", config, fatal=True, path=vassal.path, uid=vassal.uid, gid=vassal.gid)
    except (HookFailed, OSError, LookupError) as exc:
        os.write(2, f"[emperor] cannot start vassal {vassal.path}: {exc}\n".encode())
        os._exit(1)
