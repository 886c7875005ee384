"""The instance's life: configuration, the start-up phases, then serving (or, with no socket, the exit).

Read top to bottom, :meth:`Instance.run` is the lifecycle:

1. plugins load (entry points less the blocked ones) and the configuration is read and checked;
2. as-vassal (when an Emperor started this instance); asap; pre-jail (first start only); ``chroot``; post-jail; in-jail; as-root (when root);
   ``gid``/``uid`` drop; as-user; pre-app; the apps load (plugins do it in their pre-app
   ``uwkernel_phase``); post-app;
3. serving: with ``master`` (or more than one process) the :class:`Master` loop forks the workers
   and manages them; otherwise this process is worker 1;
4. as-user-atexit and the ``uwkernel_atexit`` hook when the instance stops; on a reload the master
   then re-executes itself, keeping its listening sockets.

The master is one thread around one selector, a :class:`~uwkernel.eventloop.EventLoop` (gunicorn's
arbiter is the model): signal handlers only queue the signal and write to the wakeup pipe; the loop acts
on the queued signals, reaps children and runs due timers (the 1 s tick: harakiri, lifetimes, touch files).
"""
from __future__ import annotations

import gc
import os
import signal
import sys
import time
from collections import deque
from typing import Callable, Mapping, Sequence

from . import ipc, log, osutil, privileges, runtime, sockets as socket_setup, stats
from .config import Config, build_config, read_sources
from .errors import ConfigError
from .eventloop import EventLoop
from .phases import Phase, check_hook_chains, run_phase
from .plugins import PluginManager, blocked_from
from .process import EXIT_NO_APP, EXIT_RELOAD, PluginProcess, Worker, fork_child, procname, setproctitle
from .scoreboard import Scoreboard

RELOADS_ENV = "UWSGI_RELOADS"
#: Set by an Emperor in the environment of the vassals it starts: the vassal's config file.
VASSAL_ENV = "UWKERNEL_VASSAL"


class Instance:
    """One uwkernel instance: its plugins, its configuration, and its run."""

    def __init__(self, argv: Sequence[str], environ: Mapping[str, str] = os.environ):
        self.argv = list(argv)
        self.cwd = os.getcwd()
        runtime.instance = self
        self.reloads = int(environ.get(RELOADS_ENV, "0") or 0)
        self.is_vassal = bool(environ.get(VASSAL_ENV))
        self.plugins = PluginManager(blocked=blocked_from(self.argv, environ))
        self.config = self._configure(environ)
        self.sockets: list[socket_setup.ListenSocket] = []

    def _configure(self, environ: Mapping[str, str]) -> Config:
        """Read every source, apply the config's own ``plugin``/``no-plugin`` lines, check everything."""
        is_reload = self.reloads > 0
        entries = read_sources(self.argv, environ, self.plugins.options, is_reload=is_reload)
        first = build_config(entries, self.plugins.options, check_unknown=False)
        for name in first["no-plugin"]:
            self.plugins.block(name)
        for line in first["plugin"]:
            for name in line.replace(",", " ").split():
                self.plugins.use_uwsgi_plugin(name)
        config = build_config(entries, self.plugins.options)
        for name, origin in config.unimplemented:
            log.log(f"uwkernel: {origin}: uWSGI option '{name}' is accepted for compatibility and has no effect")
        check_hook_chains(config, self.plugins)
        self.plugins.hook.uwkernel_configure(config=config)
        return config

    def phase(self, phase: Phase) -> None:
        """Run one phase's hook chains and plugin hooks."""
        run_phase(phase, self.config, self.plugins)

    def start_up(self) -> None:
        """Run the start-up phases up to post-app, with the jail and the privilege drop between them."""
        config = self.config
        if self.is_vassal:
            self.phase(Phase.AS_VASSAL)
        self.phase(Phase.ASAP)
        if not self.reloads:
            self.phase(Phase.PRE_JAIL)
        if config["chroot"]:
            privileges.chroot(config["chroot"])
        self.phase(Phase.POST_JAIL)
        self.phase(Phase.IN_JAIL)
        self.sockets = socket_setup.bind_all(config)
        _write_pidfile(config["pidfile"])
        if os.geteuid() == 0:
            self.phase(Phase.AS_ROOT)
            privileges.drop(config["uid"], config["gid"])
        elif config["uid"] or config["gid"]:
            log.log("uwkernel: not running as root: uid/gid ignored")
        self.phase(Phase.AS_USER)
        _write_pidfile(config["pidfile2"])
        for pair in config["env"]:
            name, _, value = pair.partition("=")
            os.environ[name] = value
        if config["chdir"]:
            try:
                os.chdir(config["chdir"])
            except OSError as exc:
                raise ConfigError(f"cannot chdir to {config['chdir']}: {exc.strerror}", config.origin("chdir"),
                                  "chdir") from None
        self.phase(Phase.PRE_APP)
        self.phase(Phase.POST_APP)

    def shut_down(self) -> None:
        """Run as-user-atexit (not fatal) and the plugins' ``uwkernel_atexit``."""
        self.phase(Phase.AS_USER_ATEXIT)
        self.plugins.hook.uwkernel_atexit(config=self.config)

    @property
    def lazy_apps(self) -> bool:
        """Whether apps load in each worker after fork instead of in the master."""
        return bool(self.config["lazy-apps"] or self.config["lazy"])

    def run(self) -> int:
        """Start up, serve, shut down; return the exit status (or re-execute on a reload)."""
        if self.config["show-config"]:
            print(self.config.to_ini(), end="", flush=True)
        if self.config["logto"] or self.config["daemonize"]:
            log.set_target(self.config["logto"] or self.config["daemonize"])
        if self.config["daemonize"]:
            _daemonize(self.config["daemonize"])
        specs = self.plugins.collect("uwkernel_add_processes", config=self.config)
        with_master = bool(self.config["master"] or self.config["processes"] > 1 or specs)
        if with_master:
            runtime.master_pid = os.getpid()  # known while the apps load, as in uWSGI
        self.start_up()
        if self.config["logto2"]:
            log.set_target(self.config["logto2"])
        if not self.sockets and not specs:
            log.log("uwkernel: no socket configured: the phases ran and there is nothing to serve, exiting")
            self.shut_down()
            return 0
        if with_master:
            return Master(self, specs).run()
        return self._serve_alone()

    def _serve_alone(self) -> int:
        """No master: this process is worker 1; SIGHUP reloads it by re-executing, SIGINT ends it."""
        runtime.scoreboard = Scoreboard(1)
        worker = Worker(self, 1, self.sockets, runtime.scoreboard, first_spawn=not self.reloads)
        status = worker.run()
        self.shut_down()
        if status == EXIT_RELOAD and worker.stop_signal != signal.SIGTERM and not self.config["exit-on-reload"]:
            self.re_exec()
        return 0 if status in (EXIT_RELOAD, 30) else status

    def re_exec(self) -> None:
        """Replace this process with a fresh instance of the same command, keeping the sockets."""
        env = dict(os.environ)
        env[RELOADS_ENV] = str(self.reloads + 1)
        env[socket_setup.INHERIT_ENV] = socket_setup.inheritance_env(self.sockets)
        os.chdir(self.cwd)
        log.log("...gracefully reloading: executing a new instance...")
        os.execve(sys.executable, [sys.executable, "-m", "uwkernel", *self.argv], env)


def _write_pidfile(path: str | None) -> None:
    if path:
        with open(path, "w") as f:
            f.write(f"{os.getpid()}\n")


def _daemonize(logfile: str) -> None:
    """Detach: fork twice, new session; stdin from /dev/null, stdout and stderr to ``logfile``."""
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    out = os.open(logfile, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(null)
    os.close(out)


class Master:
    """The master loop: forks and respawns workers, handles signals, runs the timers."""

    def __init__(self, instance: Instance, specs: list):
        self.instance = instance
        self.config = instance.config
        self.plugins = instance.plugins
        self.sockets = instance.sockets
        self.processes = self.config["processes"] if self.sockets else 0
        self.scoreboard = runtime.scoreboard = Scoreboard(self.processes)
        self.pids: dict[int, int] = {}  # pid -> worker id
        self.specs = specs
        self.kinds = ipc.Kinds(self.plugins.collect("uwkernel_add_channel_handlers"))
        self.children: dict[int, ipc.Child] = {}  # pid -> every child, with its channel
        self.extra: dict[int, int] = {}  # pid -> index in self.specs
        self.extra_spawned_at: dict[int, float] = {}  # spec index -> last spawn time
        self.exit_callbacks: dict[int, Callable[[int], None]] = {}  # pid -> a plugin's watch_child callback
        self.spawned: set[int] = set()  # worker ids spawned at least once
        self.state = "running"  # running | reloading | stopping
        self.exit_status = 0
        self.chain: deque[int] = deque()  # worker ids still to chain-reload
        self.chain_waiting: int | None = None  # the worker id whose new process must report accepting
        self.loop = EventLoop()
        self._touch = {name: {path: osutil.mtime(path) for path in self.config[name]}
                       for name in ("touch-reload", "touch-workers-reload", "touch-chain-reload")}
        self.reload_after = False
        self.fifo: MasterFifo | None = None

    # -- plugin-facing API -------------------------------------------------------------------------

    def add_reader(self, fd: int, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever ``fd`` is readable."""
        self.loop.add_reader(fd, callback)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once, ``delay`` seconds from now."""
        self.loop.call_later(delay, callback)

    def watch_child(self, pid: int, callback: Callable[[int], None]) -> None:
        """Call ``callback(status)`` once ``pid``, a process a plugin started in the master, has exited.

        The master reaps every child with ``waitpid(-1)``, so a plugin cannot wait for the processes it
        starts (a cron command): it registers them here, in the callback that started them (the master
        reaps in that same loop, later). ``status`` is :func:`os.waitstatus_to_exitcode`'s value: the
        exit code, or minus the number of the signal that killed the process.
        """
        self.exit_callbacks[pid] = callback

    def workers(self) -> list:
        """Snapshots of every worker's scoreboard slot."""
        return [self.scoreboard.read(i) for i in range(1, self.processes + 1)]

    # -- the loop ----------------------------------------------------------------------------------

    def run(self) -> int:
        """Fork the workers and run until shutdown (returning the status) or reload (re-executing)."""
        setproctitle(self.config["procname-master"] or procname(self.config, "uWSGI master"))
        self.loop.catch_signals((signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1,
                                 signal.SIGTSTP, signal.SIGCHLD))
        if self.config["stats"]:
            stats.StatsServer(self, self.config["stats"])
        if self.config["master-fifo"]:
            self.fifo = MasterFifo(self, self.config["master-fifo"])
        self.plugins.hook.uwkernel_master_start(master=self)
        # What the master holds now (modules, configuration, the apps) goes out of the cyclic collector's
        # sight: the children's collections never scan it, so never copy-on-write its pages (gc.freeze's
        # documented use). Once: objects the master makes later stay collectable.
        gc.freeze()
        for worker_id in range(1, self.processes + 1):
            self.spawn(worker_id)
        for index in range(len(self.specs)):
            self.spawn_process(index)
        self.call_later(1, self._tick)
        while self.state != "done":
            self._loop_once()
        self.instance.shut_down()
        if self.config["vacuum"]:
            _vacuum(self.instance)
        if self.reload_after:
            self.instance.re_exec()
        log.log("goodbye to uWSGI.")
        return self.exit_status

    def _loop_once(self) -> None:
        self.loop.run_once(self._on_signal, self._reap)
        if self.state in ("reloading", "stopping") and not self.pids and not self.extra:
            self.reload_after = self.state == "reloading" and not self.config["exit-on-reload"]
            self.state = "done"

    def _on_signal(self, signum: int) -> None:
        if signum == signal.SIGHUP:
            self.reload()
        elif signum == signal.SIGTERM:
            self.stop(graceful=True)
        elif signum in (signal.SIGINT, signal.SIGQUIT):
            self.stop(graceful=False)
        elif signum == signal.SIGUSR1:
            stats.log_stats(self)
        elif signum == signal.SIGTSTP:
            self.pause()

    # -- workers -----------------------------------------------------------------------------------

    def spawn(self, worker_id: int) -> None:
        """Fork worker ``worker_id``."""
        first = worker_id not in self.spawned
        self.spawned.add(worker_id)
        board = self.scoreboard
        board.set(worker_id, "accepting", 0)
        if not first:
            board.set(worker_id, "respawn_count", board.read(worker_id).respawn_count + 1)
        board.set(worker_id, "last_spawn", int(time.time()))
        master_end, child_end = ipc.pair(self.kinds)
        worker = Worker(self.instance, worker_id, self.sockets, board, first_spawn=first, channel=child_end)
        pid = fork_child(lambda: self._child(worker, master_end))
        self._track(ipc.Child("worker", worker_id, pid, master_end), child_end)
        board.set(worker_id, "pid", pid)
        self.pids[pid] = worker_id
        log.log(f"spawned uWSGI worker {worker_id} (pid: {pid}, cores: 1)")

    def spawn_process(self, index: int) -> None:
        """Fork the plugin process ``self.specs[index]``."""
        spec = self.specs[index]
        master_end, child_end = ipc.pair(self.kinds)
        child = PluginProcess(self.instance, spec, index, channel=child_end)
        pid = fork_child(lambda: self._child(child, master_end))
        self._track(ipc.Child(spec.name, index, pid, master_end, spec), child_end)
        self.extra[pid] = index
        self.extra_spawned_at[index] = time.time()
        log.log(f"spawned {spec.procname} (pid: {pid})")

    def _child(self, child: Worker | PluginProcess, master_end: ipc.Channel) -> int:
        self.loop.abandon()
        master_end.close()
        for other in self.children.values():
            other.channel.close()
        return child.run()

    def _track(self, child: ipc.Child, child_end: ipc.Channel) -> None:
        """Keep the master's end of a new child's channel and listen to it."""
        child_end.close()
        self.children[child.pid] = child
        self.add_reader(child.channel.fileno(), lambda: self._on_channel(child))

    def _forget(self, pid: int) -> None:
        child = self.children.pop(pid, None)
        if child is not None:
            self.loop.remove_reader(child.channel.fileno())
            child.channel.close()

    def _on_channel(self, child: ipc.Child) -> None:
        for handler, payload in child.channel.receive():
            if handler.on_master is None:
                continue
            try:
                handler.on_master(self, child, payload)
            except Exception:
                import traceback

                log.log(f"uwkernel: {handler.plugin} message handler '{handler.kind}' failed in the master:\n"
                        f"{traceback.format_exc().rstrip()}")

    def _reap(self) -> None:
        while self.pids or self.extra:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            code = os.waitstatus_to_exitcode(status)
            self._forget(pid)
            if pid in self.extra:
                self._process_exited(pid, code)
                continue
            if pid in self.exit_callbacks:
                try:
                    self.exit_callbacks.pop(pid)(code)
                except Exception:
                    import traceback

                    log.log(f"uwkernel: the exit callback of pid {pid} failed:\n{traceback.format_exc().rstrip()}")
                continue
            worker_id = self.pids.pop(pid, None)
            if worker_id is None:
                continue
            self.scoreboard.set(worker_id, "pid", 0)
            if self.state != "running":
                continue
            if code == EXIT_NO_APP:
                log.log(f"worker {worker_id} could not load an app (need-app): stopping the instance")
                self.exit_status = EXIT_NO_APP
                self.stop(graceful=False)
                continue
            lived = time.time() - self.scoreboard.read(worker_id).last_spawn
            if code not in (EXIT_RELOAD, 0):
                log.log(f"DAMN ! worker {worker_id} (pid: {pid}) died, exit status {code} :( trying respawn ...")
            if code not in (EXIT_RELOAD, 0) and lived < 1:
                delay = self.config["forkbomb-delay"]
                log.log(f"worker respawning too fast: waiting {delay} seconds (forkbomb-delay)")
                self.call_later(delay, lambda w=worker_id: self._respawn_if_missing(w))
            else:
                self.spawn(worker_id)

    def _process_exited(self, pid: int, code: int) -> None:
        index = self.extra.pop(pid)
        if self.state != "running":
            return
        spec = self.specs[index]
        if not spec.respawn:
            log.log(f"{spec.procname} (pid: {pid}) exited with status {code}: stopping the instance")
            self.exit_status = code
            self.stop(graceful=True)
            return
        log.log(f"{spec.procname} (pid: {pid}) exited with status {code}: respawning")
        if time.time() - self.extra_spawned_at[index] < 1 and code not in (0, EXIT_RELOAD):
            self.call_later(self.config["forkbomb-delay"], lambda: self._respawn_process_if_missing(index))
        else:
            self.spawn_process(index)

    def _respawn_process_if_missing(self, index: int) -> None:
        if self.state == "running" and index not in self.extra.values():
            self.spawn_process(index)

    def _respawn_if_missing(self, worker_id: int) -> None:
        if self.state == "running" and worker_id not in self.pids.values():
            self.spawn(worker_id)

    def _pid_of(self, worker_id: int) -> int | None:
        return next((pid for pid, wid in self.pids.items() if wid == worker_id), None)

    # -- reloads and shutdown ----------------------------------------------------------------------

    def reload(self, brutal: bool = False) -> None:
        """Reload: workers finish their request (brutal: are ended), then the master re-executes itself."""
        if self.state != "running":
            return
        log.log("...brutally killing workers..." if brutal else "...gracefully killing workers...")
        self.plugins.hook.uwkernel_reload(config=self.config)
        self.state = "reloading"
        self._stop_workers(signal.SIGINT if brutal else signal.SIGHUP, self.config["worker-reload-mercy"])

    def pause(self) -> None:
        """Pause the workers, or resume them (SIGTSTP, the master FIFO's ``p``)."""
        for pid in self.pids:
            osutil.kill(pid, signal.SIGTSTP)

    def stop(self, graceful: bool) -> None:
        """Shut down: SIGTERM lets running requests finish, SIGINT/SIGQUIT end the workers at once."""
        if self.state == "stopping":
            return
        log.log("SIGTERM received: gracefully stopping the workers..." if graceful
                else "SIGINT/SIGQUIT received...killing workers...")
        self.state = "stopping"
        self._stop_workers(signal.SIGHUP if graceful else signal.SIGINT, self.config["reload-mercy"])

    def _stop_workers(self, signum: int, mercy: int) -> None:
        for pid in [*self.pids, *self.extra]:
            osutil.kill(pid, signum)
        self.call_later(mercy, self._kill_remaining)

    def _kill_remaining(self) -> None:
        for pid in [*self.pids, *self.extra]:
            log.log(f"worker (pid: {pid}) did not stop in time: killing it")
            osutil.kill(pid, signal.SIGKILL)

    def reload_workers(self, brutal: bool = False) -> None:
        """Reload every worker (touch-workers-reload; brutal: SIGINT); the master stays."""
        for pid in list(self.pids):
            osutil.kill(pid, signal.SIGINT if brutal else signal.SIGHUP)

    def chain_reload(self) -> None:
        """Reload the workers one at a time, each only once the previous new one is accepting."""
        if self.chain or self.chain_waiting:
            return
        log.log("chain reload starting...")
        self.chain.extend(range(1, self.processes + 1))
        self._chain_next()

    def _chain_next(self) -> None:
        if self.chain_waiting is not None:
            slot = self.scoreboard.read(self.chain_waiting)
            if not (slot.accepting and slot.pid):
                return
            self.chain_waiting = None
        if not self.chain:
            log.log("chain reload complete")
            return
        worker_id = self.chain.popleft()
        pid = self._pid_of(worker_id)
        self.chain_waiting = worker_id
        if pid:
            self.scoreboard.set(worker_id, "accepting", 0)
            osutil.kill(pid, signal.SIGHUP)

    # -- the tick ----------------------------------------------------------------------------------

    def _tick(self) -> None:
        self.call_later(1, self._tick)
        if self.state != "running":
            return
        self._check_workers()
        self._check_touch_files()
        if self.chain_waiting is not None:
            self._chain_next()
        self.plugins.hook.uwkernel_master_tick(master=self)

    def _check_workers(self) -> None:
        now = time.time()
        lifetime = self.config["max-worker-lifetime"]
        rss_limit = self.config["reload-on-rss"] * 1024 * 1024
        for pid, worker_id in list(self.pids.items()):
            slot = self.scoreboard.read(worker_id)
            deadlines = [d for d in (slot.deadline, slot.user_deadline) if d]
            if deadlines and now > min(deadlines):
                self._harakiri(pid, worker_id, slot)
            elif lifetime and now - slot.last_spawn > lifetime:
                log.log(f"worker {worker_id} lifetime reached, it was running for {lifetime} second(s)")
                osutil.kill(pid, signal.SIGHUP)
            elif rss_limit and _rss(pid) > rss_limit:
                log.log(f"worker {worker_id} (pid: {pid}) exceeded reload-on-rss: reloading it")
                osutil.kill(pid, signal.SIGHUP)

    def _harakiri(self, pid: int, worker_id: int, slot) -> None:
        ran = time.time() - slot.request_start
        log.log(f"*** HARAKIRI ON WORKER {worker_id} (pid: {pid}, try: 1) *** request running for {ran:.1f} s")
        self.scoreboard.set(worker_id, "harakiri_count", slot.harakiri_count + 1)
        self.scoreboard.set(worker_id, "deadline", 0.0)
        self.scoreboard.set(worker_id, "user_deadline", 0.0)
        osutil.kill(pid, signal.SIGKILL)

    def _check_touch_files(self) -> None:
        actions = {"touch-reload": self.reload, "touch-workers-reload": self.reload_workers,
                   "touch-chain-reload": self.chain_reload}
        for name, files in self._touch.items():
            for path, before in files.items():
                now = osutil.mtime(path)
                if now != before:
                    files[path] = now
                    log.log(f"*** {path} has been touched... ({name}) ***")
                    actions[name]()


class MasterFifo:
    """The master FIFO (``master-fifo``): one byte per command; ``0``-``9`` select which FIFO is read."""

    def __init__(self, master: Master, paths: list[str]):
        self.master = master
        self.paths = paths
        self.fds: tuple[int, int] | None = None
        self.commands = {
            "c": master.chain_reload, "r": master.reload, "R": lambda: master.reload(brutal=True),
            "q": lambda: master.stop(graceful=True), "Q": lambda: master.stop(graceful=False),
            "w": master.reload_workers, "W": lambda: master.reload_workers(brutal=True),
            "s": lambda: stats.log_stats(master), "p": master.pause, "l": self._reopen_log,
        }
        self.select(0)

    def select(self, slot: int) -> None:
        """Read commands from the ``slot``-th FIFO from now on (created 0600 when missing)."""
        if slot >= len(self.paths):
            log.log(f"master fifo: there is no fifo slot {slot}")
            return
        if self.fds:
            self.master.loop.remove_reader(self.fds[0])
            for fd in self.fds:
                os.close(fd)
        path = self.paths[slot]
        if not os.path.exists(path):
            os.mkfifo(path, 0o600)
        read_fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        keep_open = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # no EOF when writers leave
        self.fds = (read_fd, keep_open)
        self.master.add_reader(read_fd, self.on_readable)

    def on_readable(self) -> None:
        """Run every command byte waiting in the FIFO."""
        try:
            data = os.read(self.fds[0], 4096)
        except BlockingIOError:
            return
        for command in data.decode("latin-1"):
            if command.isdigit():
                self.select(int(command))
            elif command in self.commands:
                self.commands[command]()
            elif not command.isspace():
                log.log(f"master fifo: unknown command {command!r}")

    def _reopen_log(self) -> None:
        target = self.master.config["logto2"] or self.master.config["logto"] or self.master.config["daemonize"]
        if target:
            log.set_target(target)


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def _vacuum(instance: Instance) -> None:
    for s in instance.sockets:
        if s.unix_path and os.path.exists(s.unix_path):
            os.unlink(s.unix_path)
    for name in ("pidfile", "pidfile2"):
        if instance.config[name] and os.path.exists(instance.config[name]):
            os.unlink(instance.config[name])
