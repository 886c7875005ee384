"""One child process of the master: fork, procname, post-fork hooks, the accepting phases, its role loop.

A worker's role loop is whatever plugin answers the ``uwkernel_worker`` hook first (the python
plugin's WSGI loop by default). It gets connections from :meth:`Worker.accept`, which returns
``None`` when the worker must stop: a graceful stop (SIGHUP from the master, max-requests reached)
lets the running request finish.

Exit statuses, as uWSGI's: 17 after a graceful stop (reload), 30 when ended by SIGINT/SIGQUIT,
22 when no app could be served (``need-app``), 5 after an uncaught exception.
"""
from __future__ import annotations

import _socket
import errno
import os
import select
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING

from . import ipc, log, runtime
from .osutil import setproctitle
from .phases import Phase, run_phase
from .scoreboard import STATUS_IDLE, STATUS_PAUSE


if TYPE_CHECKING:  # pragma: no cover - types only
    from .master import Instance
    from .scoreboard import Scoreboard
    from .sockets import ListenSocket

EXIT_RELOAD, EXIT_END, EXIT_NO_APP, EXIT_EXCEPTION = 17, 30, 22, 5
#: Under constant load a worker still reads its channel at least once every this many connections.
MESSAGE_CHECK_EVERY = 16


def procname(config, name: str) -> str:
    """The process title for ``name`` ("uWSGI worker 1"), with ``procname-prefix`` and friends."""
    prefix = config["procname-prefix"] or ""
    if config["procname-prefix-spaced"]:
        prefix = config["procname-prefix-spaced"] + " "
    return f"{prefix}{name}{config['procname-append'] or ''}"


class ChildProcess:
    """What every child of the master has: its channel to the master and the dispatch of its messages."""

    channel: ipc.Channel | None = None

    def dispatch_messages(self) -> None:
        """Run the handler of every message the master sent (a failing handler is logged)."""
        if self.channel is None:
            return
        for handler, payload in self.channel.receive():
            if handler.on_child is None:
                continue
            try:
                handler.on_child(self, payload)
            except Exception:
                import traceback

                log.log(f"uwkernel: {handler.plugin} message handler '{handler.kind}' failed:\n"
                        f"{traceback.format_exc().rstrip()}")


class Worker(ChildProcess):
    """A worker process: its id (1-based), its sockets, its scoreboard slot and its stop flags.

    Messages from the master are handled while the worker waits for a connection, and at least every
    :data:`MESSAGE_CHECK_EVERY` connections under constant load.
    """

    is_worker = True

    def __init__(self, instance: Instance, worker_id: int, sockets: list[ListenSocket],
                 scoreboard: Scoreboard, first_spawn: bool, channel: ipc.Channel | None = None):
        self.instance = instance
        self.channel = channel
        self._accepted = 0
        self.config = instance.config
        self.plugins = instance.plugins
        self.id = worker_id
        self.sockets = sockets
        self.scoreboard = scoreboard
        self.first_spawn = first_spawn
        self.slot = scoreboard.slot(worker_id, self.config["harakiri"] or 0)
        self.stopping = False
        self.paused = False
        max_requests = (self.config["max-requests"] or 0) + (self.config["max-requests-delta"] or 0) * worker_id
        #: ``max-requests`` (plus its per-worker delta) for this process; infinite without it.
        self.request_limit = max_requests or float("inf")
        self.min_lifetime = self.config["min-worker-lifetime"]
        self.spawned_at = time.time()
        self.stop_signal: int | None = None  # the signal that stopped the worker, if one did
        self._poll: select.epoll | None = None
        self._listeners = {lsock.fileno: lsock for lsock in sockets}
        self._wakeup_r = -1
        self._stop_fd = -1
        self._accepting = False

    # -- the child's life --------------------------------------------------------------------------

    def run(self) -> int:
        """The child's whole life after fork; returns its exit status."""
        runtime.process = self
        self._install_signals()
        setproctitle(procname(self.config, f"uWSGI worker {self.id}"))
        self.plugins.hook.uwkernel_post_fork(process=self)
        for phase in self._accepting_phases():
            run_phase(phase, self.config, self.plugins)
        try:
            result = self.plugins.hook.uwkernel_worker(worker=self)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 1
        except Exception:
            import traceback

            log.log(f"uwkernel: worker {self.id} died of an uncaught exception:\n{traceback.format_exc()}")
            return EXIT_EXCEPTION
        if result is None:
            log.log("uwkernel: no plugin runs workers (is uwkernel-python installed?)")
            return EXIT_NO_APP
        return result if isinstance(result, int) and result is not True else EXIT_RELOAD

    def _accepting_phases(self) -> list[Phase]:
        phases = [Phase.ACCEPTING]
        if self.first_spawn:
            phases.append(Phase.ACCEPTING_ONCE)
        if self.id == 1:
            phases.append(Phase.ACCEPTING1)
            if self.first_spawn:
                phases.append(Phase.ACCEPTING1_ONCE)
        return phases

    def _install_signals(self) -> None:
        r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._wakeup_r = r
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        # Written once on stop and never drained, so every thread waiting in accept() wakes up.
        self._stop_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._poll = select.epoll()
        for lsock in self.sockets:
            self._poll.register(lsock.fileno, select.EPOLLIN | select.EPOLLEXCLUSIVE)
        self._poll.register(self._wakeup_r, select.EPOLLIN)
        self._poll.register(self._stop_fd, select.EPOLLIN)
        if self.channel is not None:
            self._poll.register(self.channel.fileno(), select.EPOLLIN)
        signal.signal(signal.SIGHUP, self._graceful)
        signal.signal(signal.SIGTERM, self._graceful)
        signal.signal(signal.SIGINT, self._end)
        signal.signal(signal.SIGQUIT, self._end)
        signal.signal(signal.SIGTSTP, self._pause)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    def _graceful(self, signum, frame) -> None:
        self.stop_signal = signum
        self.stop()

    def stop(self) -> None:
        """Stop gracefully: running requests finish, every ``accept()`` returns None."""
        self.stopping = True
        if self._stop_fd >= 0:
            os.eventfd_write(self._stop_fd, 1)

    def _end(self, signum, frame) -> None:
        os._exit(EXIT_END)

    def _pause(self, signum, frame) -> None:
        self.paused = not self.paused
        self.scoreboard.set(self.id, "status", STATUS_PAUSE if self.paused else STATUS_IDLE)

    # -- what role loops call ----------------------------------------------------------------------

    def set_accepting(self) -> None:
        """Tell the master this worker accepts requests (``uwsgi.accepting()`` for overridden loops)."""
        self._accepting = True
        self.slot.set_accepting(True)

    def accept(self) -> tuple[_socket.socket, object, ListenSocket] | None:
        """Wait for the next connection on any socket; ``None`` when the worker must stop.

        The first call marks the worker as accepting. Like uWSGI, the worker waits in ``epoll`` and then
        accepts on the socket it reported, so an idle socket costs no failed ``accept``. Several
        workers waiting on one socket are woken one at a time (EPOLLEXCLUSIVE); a signal or a message
        from the master wakes the wait at once. Safe to call from several threads of the worker.

        The connection is a ``_socket.socket``, the C type under ``socket.socket``: it has ``recv``,
        ``recv_into``, ``sendall``, ``setsockopt``, ``shutdown``, ``fileno``, ``close``..., but not the
        Python class's ``makefile``, ``sendfile`` or ``with`` support (wrap it with
        ``socket.socket(fileno=conn.detach())`` for those). Making the Python object, whose ``family``
        and ``type`` go through enum conversions, cost a tenth of a whole request.
        """
        if not self._accepting:
            self.set_accepting()
        listeners = self._listeners
        poll = self._poll.poll
        while not self.stopping:
            if self.paused:
                self._wait_paused()
                continue
            for fd, _ in poll():
                lsock = listeners.get(fd)
                if lsock is None:
                    self._on_event(fd)
                    continue
                try:
                    conn_fd, addr = lsock.sock._accept()
                except (BlockingIOError, InterruptedError):
                    continue  # another worker (or thread) took it
                except OSError as exc:
                    if exc.errno in (errno.ECONNABORTED, errno.EMFILE, errno.ENFILE):
                        continue
                    raise
                self._accepted += 1
                if self.channel is not None and self._accepted % MESSAGE_CHECK_EVERY == 0:
                    self.dispatch_messages()
                return _socket.socket(-1, socket.SOCK_STREAM, 0, conn_fd), addr, lsock  # family: from the fd
        return None

    def _wait_paused(self) -> None:
        """While paused (SIGTSTP) wait for the next signal only."""
        if select.select([self._wakeup_r], [], [])[0]:
            os.read(self._wakeup_r, 4096)

    def _on_event(self, fd: int) -> None:
        """Handle a readable descriptor that is not a listening socket: the signal pipe or the channel."""
        if fd == self._wakeup_r:
            try:
                os.read(fd, 4096)
            except BlockingIOError:
                pass
        elif self.channel is not None and fd == self.channel.fileno():
            self.dispatch_messages()

    def request_started(self) -> float:
        """Record that a request began (sets its harakiri deadline); return its start time.

        Role loops may call ``worker.slot.begin()`` themselves: it is the same."""
        return self.slot.begin()

    def request_finished(self, start: float, tx: int, exception: bool = False) -> None:
        """Record a finished request; after ``max-requests`` the worker stops gracefully.

        Role loops may call ``worker.slot.end(...)`` themselves and :meth:`served` when the count it
        returns reaches :attr:`request_limit`: it is the same."""
        if self.slot.end(start, tx, exception) >= self.request_limit:
            self.served()

    def served(self) -> None:
        """``max-requests`` reached: stop gracefully once ``min-worker-lifetime`` has passed."""
        if time.time() - self.spawned_at >= self.min_lifetime:
            log.log(f"...The work of process {os.getpid()} is done (max requests reached). Seeya!")
            self.stop()


class PluginProcess(ChildProcess):
    """A child a plugin declared with a :class:`~uwkernel.types.ProcessSpec` (a spooler, a mule).

    SIGHUP and SIGTERM set :attr:`stopping` (the role loop should finish its task and return);
    SIGINT and SIGQUIT end it at once. :attr:`wakeup_fd` becomes readable when a signal arrives,
    so a loop waiting in ``select`` notices at once; the loop should also watch :attr:`channel` and
    call :meth:`dispatch_messages` when it is readable (or use :meth:`wait`).
    """

    is_worker = False

    def __init__(self, instance: Instance, spec, index: int, channel: ipc.Channel | None = None):
        self.instance = instance
        self.channel = channel
        self.config = instance.config
        self.plugins = instance.plugins
        self.spec = spec
        self.index = index
        self.stopping = False
        self.wakeup_fd = -1

    def run(self) -> int:
        """The child's life after fork: signals, procname, post-fork hooks, then the spec's target."""
        runtime.process = self
        r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.wakeup_fd = r
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        signal.signal(signal.SIGHUP, self._graceful)
        signal.signal(signal.SIGTERM, self._graceful)
        signal.signal(signal.SIGINT, lambda signum, frame: os._exit(EXIT_END))
        signal.signal(signal.SIGQUIT, lambda signum, frame: os._exit(EXIT_END))
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        setproctitle(procname(self.config, self.spec.procname))
        self.plugins.hook.uwkernel_post_fork(process=self)
        result = self.spec.target(self)
        return result if isinstance(result, int) else 0

    def _graceful(self, signum, frame) -> None:
        self.stopping = True

    def wait(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` seconds (None: forever) for a signal or a message; run the messages."""
        fds = [self.wakeup_fd] + ([self.channel.fileno()] if self.channel is not None else [])
        ready = select.select(fds, [], [], timeout)[0]
        if self.wakeup_fd in ready:
            try:
                os.read(self.wakeup_fd, 4096)
            except BlockingIOError:
                pass
        if self.channel is not None and self.channel.fileno() in ready:
            self.dispatch_messages()


def fork_child(run) -> int:
    """Fork; in the child call ``run()`` and exit with its status (never returning); return the pid."""
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        status = run()
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        status = EXIT_EXCEPTION
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
