"""The Emperor's process: one :class:`~uwkernel.eventloop.EventLoop` over signals, inotify, the vassals'
output and the stats socket.

Life of a vassal config file:

* it appears: the vassal is spawned, then the ``as-emperor`` phase runs here (not fatal) with
  ``UWSGI_VASSAL_CONFIG``, ``UWSGI_VASSAL_PID``, ``UWSGI_VASSAL_UID`` and ``UWSGI_VASSAL_GID`` in
  the environment, so hardcoded and advanced hooks alike see them;
* its modification time changes: the vassal gets SIGHUP (uwkernel reloads gracefully, same pid);
  a vassal waiting to be respawned is spawned at once;
* it disappears: the vassal gets SIGINT (SIGKILL after the mercy) and is forgotten;
* its vassal dies: it is respawned, at once when it had lived :data:`HEALTHY_LIFETIME` seconds,
  otherwise after a back-off doubling from ``emperor-throttle`` to ``emperor-max-throttle``; the log
  names the file and the vassal's last line, and says "keeps dying" from the
  :data:`CURSE_AFTER`-th death in a row.

Signals: SIGINT and SIGQUIT stop every vassal at once (SIGINT, then SIGKILL after the mercy);
SIGTERM and SIGHUP stop them gracefully (SIGTERM: running requests finish). Either way the Emperor
then returns. The master forwards its own signals to this process (SIGHUP for a reload or a
graceful stop, SIGINT for a shutdown), so a master reload restarts every vassal with a new Emperor.
SIGUSR1 logs the vassals.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import time

from uwkernel import UWSGI_COMPAT_VERSION, log
from uwkernel.eventloop import EventLoop
from uwkernel.phases import Phase, run_phase
from uwkernel.sockets import parse_address

from .calls import run_calls
from .vassal import Vassal
from .watch import Watcher

#: A vassal that lived this long (seconds) before dying is respawned at once, its back-off reset.
HEALTHY_LIFETIME = 10.0
#: From this many quick deaths in a row, the log says the vassal keeps dying.
CURSE_AFTER = 3
_STOP_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP)


class Emperor:
    """Watches the ``emperor`` sources and runs one vassal per config file found."""

    def __init__(self, process):
        self.process = process
        self.config = process.config
        self.plugins = process.plugins
        self.vassals: dict[str, Vassal] = {}
        self.loop = EventLoop()
        self.stopping = False
        self.tyrant = bool(self.config["emperor-tyrant"])
        self.throttle = max(self.config["emperor-throttle"], 1) / 1000
        self.max_throttle = max(self.config["emperor-max-throttle"] / 1000, self.throttle)
        self.mercy = max(1, min(self.config["reload-mercy"], self.config["worker-reload-mercy"]) - 1)
        self.watcher: Watcher | None = None
        self.stats_sock: socket.socket | None = None
        self.pidfile = self.config["emperor-pidfile"]

    # -- the loop ----------------------------------------------------------------------------------

    def run(self) -> int:
        """Watch and serve until a stop signal, then stop every vassal and return 0."""
        # Replace PluginProcess's handlers: every signal is queued, the loop acts on it.
        self.loop.catch_signals((*_STOP_SIGNALS, signal.SIGCHLD, signal.SIGUSR1), self.process.wakeup_fd)
        if self.pidfile:
            with open(self.pidfile, "w") as f:
                f.write(f"{os.getpid()}\n")
        log.log("*** starting uWSGI Emperor ***")
        self.watcher = Watcher(self.config["emperor"])
        if self.watcher.fd is not None:
            self.loop.add_reader(self.watcher.fd, self._on_inotify)
        if self.config["emperor-stats"]:
            self._open_stats(self.config["emperor-stats"])
        self._periodic_scan()
        try:
            while not (self.stopping and not any(v.pid for v in self.vassals.values())):
                self.loop.run_once(self._on_signal, self._reap)
        finally:
            self._close()
        log.log("[emperor] all vassals stopped, goodbye")
        return 0

    def _on_signal(self, signum: int) -> None:
        if signum in (signal.SIGINT, signal.SIGQUIT):
            self.stop(graceful=False)
        elif signum in (signal.SIGTERM, signal.SIGHUP):
            self.stop(graceful=True)
        elif signum == signal.SIGUSR1:
            for v in self.vassals.values():
                log.log(f"[emperor] vassal {v.path} pid: {v.pid} respawns: {v.respawns} failures: {v.failures}")

    def _close(self) -> None:
        if self.watcher:
            self.watcher.close()
        if self.stats_sock:
            self.stats_sock.close()
        if self.pidfile and os.path.exists(self.pidfile):
            os.unlink(self.pidfile)

    # -- scanning ----------------------------------------------------------------------------------

    def _on_inotify(self) -> None:
        if self.watcher.drain():
            self.scan()

    def _periodic_scan(self) -> None:
        """The safety net behind inotify (globs, symlinked files): rescan every ``emperor-freq`` s."""
        self.scan()
        self.loop.call_later(max(self.config["emperor-freq"], 1), self._periodic_scan)

    def scan(self) -> None:
        """Compare the config files with the vassals: spawn new ones, reload touched ones, stop removed ones."""
        if self.stopping:
            return
        found = self.watcher.scan()
        for path, vassal in list(self.vassals.items()):
            if path not in found and not vassal.removed:
                self.remove(vassal)
        for path, mtime in found.items():
            vassal = self.vassals.get(path)
            if vassal is None:
                vassal = self.vassals[path] = Vassal(path, mtime)
                self.spawn(vassal)
            elif not vassal.removed and mtime != vassal.mtime:
                vassal.mtime, vassal.last_mod = mtime, time.time()
                self.touched(vassal)

    # -- one vassal --------------------------------------------------------------------------------

    def spawn(self, vassal: Vassal) -> None:
        """Start ``vassal``'s process, read its output, run the as-emperor phase for it."""
        vassal.pending = None
        try:
            vassal.spawn(self.config, self.plugins, self.tyrant)
        except OSError as exc:
            vassal.born = time.time()
            self._died(vassal, None, f"cannot spawn it: {exc}")
            return
        self.loop.add_reader(vassal.output_fd, lambda v=vassal: self._on_output(v))
        log.log(f"[emperor] vassal {vassal.path} has been spawned (pid: {vassal.pid})")
        self._as_emperor(vassal)

    def _as_emperor(self, vassal: Vassal) -> None:
        """Run as-emperor with the UWSGI_VASSAL_* variables in the environment (restored afterwards)."""
        variables = {"UWSGI_VASSAL_CONFIG": vassal.path, "UWSGI_VASSAL_PID": str(vassal.pid),
                     "UWSGI_VASSAL_UID": str(vassal.uid), "UWSGI_VASSAL_GID": str(vassal.gid)}
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            run_phase(Phase.AS_EMPEROR, self.config, self.plugins)
            run_calls("call-as-emperor", self.config, fatal=False, path=vassal.path, pid=vassal.pid,
                      uid=vassal.uid, gid=vassal.gid)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def touched(self, vassal: Vassal) -> None:
        """Its file changed: reload the vassal (SIGHUP), or spawn it now if it waits for a respawn."""
        if vassal.pid:
            log.log(f"[emperor] reload the uwsgi instance {vassal.path}")
            vassal.signal(signal.SIGHUP)
        else:
            log.log(f"[emperor] {vassal.path} changed: spawning it again now")
            vassal.failures = 0
            vassal.cursed = 0.0
            self.spawn(vassal)

    def remove(self, vassal: Vassal) -> None:
        """Its file is gone: stop the vassal (SIGINT, SIGKILL after the mercy) and forget it."""
        vassal.removed = True
        vassal.pending = None
        if vassal.pid:
            log.log(f"[emperor] stop the uwsgi instance {vassal.path}")
            vassal.signal(signal.SIGINT)
            self.loop.call_later(self.mercy, lambda p=vassal.proc: _kill_if_alive(p))
        else:
            self._forget(vassal)

    def _forget(self, vassal: Vassal) -> None:
        if self.vassals.get(vassal.path) is vassal:
            del self.vassals[vassal.path]
        log.log(f"[emperor] removed uwsgi instance {vassal.path}")
        self.loop.call_later(0, self.scan)  # the file may be back already

    def _on_output(self, vassal: Vassal) -> None:
        data = vassal.read_output()
        if data:
            log.write(data)
        elif data is not None:  # end of file
            self._close_output(vassal)

    def _release_output(self, vassal: Vassal) -> None:
        """After the vassal exited: forward what is left in its pipe and close it."""
        if vassal.output_fd is None:
            return
        while data := vassal.read_output():
            log.write(data)
        self._close_output(vassal)

    def _close_output(self, vassal: Vassal) -> None:
        self.loop.remove_reader(vassal.output_fd)
        vassal.proc.stdout.close()

    def _reap(self) -> None:
        for vassal in list(self.vassals.values()):
            if vassal.proc is not None and vassal.proc.returncode is None and vassal.proc.poll() is not None:
                self._release_output(vassal)
                self._exited(vassal)

    def _exited(self, vassal: Vassal) -> None:
        code = vassal.proc.returncode
        if vassal.removed:
            self._forget(vassal)
        elif self.stopping:
            log.log(f"[emperor] vassal {vassal.path} (pid: {vassal.proc.pid}) stopped, status {code}")
        else:
            self._died(vassal, code)

    def _died(self, vassal: Vassal, code: int | None, reason: str = "") -> None:
        """An unexpected death (``code`` None: it could not be spawned): respawn now if it had lived
        long enough, else after the back-off."""
        if code is None:
            event = "could not be spawned"
        else:
            event = f"(pid: {vassal.proc.pid}) died with {f'signal {-code}' if code < 0 else f'status {code}'}"
        last = reason or vassal.last_line()
        why = f': "{last}"' if last else ""
        if time.time() - vassal.born >= HEALTHY_LIFETIME:
            vassal.failures = 0
            vassal.cursed = 0.0
            log.log(f"[emperor] vassal {vassal.path} {event}{why}: respawning")
            vassal.respawns += 1
            self.spawn(vassal)
            return
        vassal.failures += 1
        delay = min(self.throttle * 2 ** (vassal.failures - 1), self.max_throttle)
        log.log(f"[emperor] vassal {vassal.path} {event}{why}: respawning in {delay:g} s")
        if vassal.failures >= CURSE_AFTER:
            vassal.cursed = vassal.cursed or time.time()
            log.log(f"[emperor] vassal {vassal.path} keeps dying ({vassal.failures} times in a row){why}")
        token = object()
        vassal.pending = token
        self.loop.call_later(delay, lambda: self._respawn(vassal, token))

    def _respawn(self, vassal: Vassal, token: object) -> None:
        if vassal.pending is token and not self.stopping and not vassal.removed and not vassal.pid:
            vassal.respawns += 1
            self.spawn(vassal)

    # -- stopping ----------------------------------------------------------------------------------

    def stop(self, graceful: bool) -> None:
        """Stop every vassal: SIGTERM (graceful) or SIGINT, then SIGKILL after the mercy."""
        if self.stopping and graceful:
            return
        self.stopping = True
        log.log(f"[emperor] {'gracefully ' if graceful else ''}stopping every vassal...")
        for vassal in self.vassals.values():
            vassal.pending = None
            vassal.signal(signal.SIGTERM if graceful else signal.SIGINT)
        self.loop.call_later(self.mercy, self._kill_remaining)

    def _kill_remaining(self) -> None:
        for vassal in self.vassals.values():
            if vassal.pid:
                log.log(f"[emperor] NO MERCY for vassal {vassal.path} !!!")
                vassal.signal(signal.SIGKILL)

    # -- stats -------------------------------------------------------------------------------------

    def _open_stats(self, address: str) -> None:
        family, sockaddr = parse_address(address)
        sock = socket.socket(family, socket.SOCK_STREAM)
        if family != socket.AF_UNIX:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        elif isinstance(sockaddr, str) and not sockaddr.startswith("\0") and os.path.exists(sockaddr):
            os.unlink(sockaddr)
        sock.bind(sockaddr)
        sock.listen(64)
        sock.setblocking(False)
        self.stats_sock = sock
        self.loop.add_reader(sock.fileno(), self._on_stats)
        log.log(f"*** Emperor stats server enabled on {address} fd: {sock.fileno()} ***")

    def stats(self) -> dict:
        """The Emperor's stats document, as uWSGI's Emperor writes it (and uwsgitop reads it)."""
        return {
            "version": UWSGI_COMPAT_VERSION,
            "pid": os.getpid(),
            "uid": os.getuid(),
            "gid": os.getgid(),
            "cwd": os.getcwd(),
            "emperor": list(self.config["emperor"]),
            "emperor_tyrant": int(self.tyrant),
            "throttle_level": int(self.throttle * 1000),
            "vassals": [{
                "id": v.name,
                "path": v.path,
                "pid": v.pid,
                "born": int(v.born),
                "last_mod": int(v.last_mod),
                "loyal": 0,
                "ready": int(bool(v.pid)),
                "cursed": int(v.cursed),
                "failures": v.failures,
                "respawns": v.respawns,
                "uid": v.uid,
                "gid": v.gid,
                "last_line": v.last_line(),
            } for v in self.vassals.values() if not v.removed],
        }

    def _on_stats(self) -> None:
        try:
            conn, _ = self.stats_sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        with conn:
            conn.settimeout(2)
            try:
                conn.sendall(json.dumps(self.stats(), indent=1).encode())
            except OSError:
                pass


def _kill_if_alive(proc) -> None:
    if proc.returncode is None and proc.poll() is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
