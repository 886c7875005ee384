"""A spooler process: scan its dir, run each task it can claim, then wait for work.

The loop: a scan tries every task (:mod:`.scan` order), claiming each under its lock, and calls
``uwsgi.spooler`` for it; a scan that ran a task is followed at once by another one (tasks may have
arrived meanwhile), and such a scan stops at the first task found gone, since another spooler of the
dir is then ahead of its listing (the rest of it is mostly gone too: a fresh listing is cheaper than
trying each name). Otherwise the spooler waits for a SIGUSR1 (sent by whoever writes a task for its
dir), a stop, the next ``at`` due, or ``spooler-frequency`` seconds. Messages from the master (uWSGI
signals for the spooler) are run while it waits and between tasks (looked for at most every
:data:`MESSAGES_EVERY` seconds then; uWSGI runs them between scans only).

Writers wake only spoolers that are not *busy*: a spooler becomes busy at the first task it runs,
and stops being busy only after a whole scan found nothing to run, followed by one more scan (so a
task written while it was busy is seen by that scan, and one written later wakes it).

* ``SPOOL_OK``: the file is removed. ``SPOOL_RETRY``, any other number, a non-number or an
  exception: the task runs again after ``spooler-frequency`` seconds. ``SPOOL_IGNORE`` or no
  ``uwsgi.spooler``: the same, with a log line.
* A file that is not a valid task is renamed ``<name>.bad`` with a log line; the spooler goes on.
* A spooler that died in the middle of a task (killed, ``spooler-harakiri``) leaves the file, still
  whole, to be run again; its successor delays it 1 s, then 2, 4, ... (at most
  :data:`MAX_CRASH_DELAY`) each time the same task was running when this spooler died, and says so.
* SIGHUP/SIGTERM (reloads, ``touch-spoolers-reload``): the running task finishes, then the process
  exits and the master respawns it. ``spooler-max-tasks`` reached: exit status 30, respawned.
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import os
import select
import signal
import sys
import time
import traceback

from uwkernel import log

from . import scan, spoolfile
from .api import SPOOL_IGNORE, SPOOL_OK, task_dict
from .context import Spooling

#: Exit status of a spooler recycled after ``spooler-max-tasks``.
EXIT_RECYCLE = 30
#: The longest delay given to a task that keeps killing its spooler, in seconds.
MAX_CRASH_DELAY = 600
#: How often (seconds) a spooler running task after task looks for the master's messages.
MESSAGES_EVERY = 0.01


def run(spooling: Spooling, slot: int, process) -> int:
    """The life of the spooler process of ``slot`` (a ProcessSpec target); returns its exit status."""
    return Spooler(spooling, slot, process).run()


class Spooler:
    """One spooler process's state: its dir, its slot, its count of tasks, its deferred tasks."""

    def __init__(self, spooling: Spooling, slot: int, process):
        settings = spooling.settings
        self.spooling = spooling
        self.settings = settings
        self.board = spooling.board
        self.slot = slot
        self.process = process
        self.dir = spooling.dir_of(slot)
        self._dir_path = os.fsencode(self.dir)
        #: Where a task's name in the spool dir starts in its path.
        self._name_at = len(self._dir_path) + 1
        #: The spool dir, to fchdir to before each of its tasks (cheaper than a chdir by path).
        self._dir_fd = os.open(self.dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.pid = os.getpid()
        self.tag = f"[spooler {self.dir} pid: {self.pid}]"
        self.tasks = 0
        #: Tasks to leave alone until the given time (retried, ignored): path -> time.
        self.deferred: dict[str, float] = {}
        #: The master's channel to this process (signals for the spooler): also polled between tasks.
        self.channel = getattr(process, "channel", None)
        self._messages = select.poll()
        if self.channel is not None:
            self._messages.register(self.channel.fileno(), select.POLLIN)
        #: When a busy spooler next looks for the master's messages.
        self._poll_at = 0.0
        #: Whether the board says this spooler is busy (writers then do not wake it).
        self.busy = False
        #: Where in an unordered listing this process starts (several spoolers per dir).
        self.rotation = (slot % settings.processes) / settings.processes

    def run(self) -> int:
        """Set the process up, then scan and wait until told to stop; return the exit status."""
        self._set_up()
        while not self.process.stopping:
            ran, due = self.scan()
            if self.settings.max_tasks and self.tasks >= self.settings.max_tasks:
                log.log(f"{self.tag} maximum number of tasks reached ({self.settings.max_tasks}) recycling ...")
                return EXIT_RECYCLE
            if ran:
                continue
            if self.busy:  # one more scan as "waiting": a task written from now on wakes us
                self.busy = False
                self.board.set_busy(self.slot, False)
                continue
            self._wait(due)
        return 0

    # -- start-up ----------------------------------------------------------------------------------

    def _set_up(self) -> None:
        signal.signal(signal.SIGUSR1, _wake_up)  # before the pid is published: writers send SIGUSR1
        try:
            os.setpriority(os.PRIO_PROCESS, 0, 19)
        except OSError:
            pass
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        self.spooling.current_slot = self.slot
        for spec in self.settings.imports:
            _import(spec)
        os.chdir(self.dir)
        before = self.board.spawned(self.slot, self.pid)
        if before.started:
            self._after_crash(before.task, before.pid, before.crashes if before.crash_task == before.task else 0)

    def _after_crash(self, name: str, dead_pid: int, crashes_before: int) -> None:
        """Delay the task the previous spooler of this slot died running, longer each time in a row."""
        crashes = crashes_before + 1
        self.board.set_crash(self.slot, name, crashes)
        delay = min(2 ** (crashes - 1), MAX_CRASH_DELAY)
        path = f"{self.dir}/{name}"
        until = time.time() + delay
        try:
            os.utime(path, (until, until))
        except OSError:
            log.log(f"{self.tag} task {path} was running when spooler pid {dead_pid} died; it is gone now")
            return
        log.log(f"{self.tag} task {path} was running when spooler pid {dead_pid} died "
                f"({crashes} time(s) in a row): it runs again in {delay} s")

    # -- scanning ----------------------------------------------------------------------------------

    def scan(self) -> tuple[bool, float | None]:
        """Try every task once; return (whether one ran, the earliest time a skipped task is due)."""
        now = time.time()
        if self.deferred:
            self.deferred = {path: when for path, when in self.deferred.items() if when > now}
        deferred = self.deferred
        process = self.process
        max_tasks = self.settings.max_tasks
        due = None
        ran = False
        for path in scan.tasks(self._dir_path, self.settings.ordered, self.rotation):
            if process.stopping:
                break
            now = time.time()
            if self.channel is not None and not self._poll_at - MESSAGES_EVERY < now < self._poll_at:
                self._poll_at = now + MESSAGES_EVERY  # (also after the clock went back)
                if self._messages.poll(0):
                    process.dispatch_messages()
            if deferred and path in deferred:
                continue
            task = spoolfile.claim(path)
            if not task:
                if task is False and ran:  # another spooler of the dir is ahead of this listing:
                    break  # list again now (a scan that ran a task is followed by another at once)
                continue
            if task.stat.st_mtime > now:
                task.release()
                due = min(due or task.stat.st_mtime, task.stat.st_mtime)
                continue
            try:
                pairs, body = spoolfile.parse(task.data)
            except spoolfile.SpoolFileError as exc:
                if task.in_progress(now):
                    task.release()
                    due = min(due or now + 1, now + 1)
                else:
                    self._set_aside(task, exc)
                continue
            if not ran:
                ran = True
                if not self.busy:
                    self.busy = True
                    self.board.set_busy(self.slot, True)
            self._run(task, pairs, body, now)
            if max_tasks and self.tasks >= max_tasks:
                break
        if self.deferred:
            due = min(due or math.inf, *self.deferred.values())
        return ran, due

    def _set_aside(self, task: spoolfile.Task, error: spoolfile.SpoolFileError) -> None:
        bad = task.set_aside()
        if bad:
            log.log(f"{self.tag} {os.fsdecode(task.path)} is not a valid spool file ({error}): moved to "
                    f"{os.fsdecode(bad)}")

    # -- running a task ----------------------------------------------------------------------------

    def _run(self, task: spoolfile.Task, pairs: dict[bytes, bytes], body: bytes, started: float) -> None:
        path = task.path
        name = path[self._name_at:]  # in the spool dir: "uwsgi_spoolfile_on_..." or "PRIORITY/uwsgi_..."
        harakiri = self.settings.harakiri
        self.board.task_started(self.slot, name, started, started + harakiri if harakiri else 0.0)
        quiet = self.settings.quiet
        if not quiet:
            log.log(f"{self.tag} managing request {os.fsdecode(name)} ...")
        folder, _, base = path.rpartition(b"/")
        # each task starts in its file's dir, as in uWSGI (spooler_get_task(spooler_task_name) works there)
        if self.settings.chdir or folder != self._dir_path:
            os.chdir(self.settings.chdir or folder)
        else:
            os.fchdir(self._dir_fd)
        self.spooling.running = task
        try:
            code = self._call(path, base, pairs, body)
        finally:
            self.spooling.running = None
        if code == SPOOL_OK:
            task.finish()
            if not quiet:
                log.log(f"{self.tag} done with task {os.fsdecode(name)} after {int(time.time() - started)} seconds")
        else:
            task.release()
            self.deferred[path] = time.time() + self.spooling.frequency()
            if code is None:
                log.log(f"{self.tag} unable to find the spooler function, have you loaded it into the "
                        f"spooler process ? ({os.fsdecode(name)} kept)")
            elif code == SPOOL_IGNORE:
                log.log(f"{self.tag} task {os.fsdecode(name)} ignored by the spooler function (SPOOL_IGNORE): kept")
        if code not in (None, SPOOL_IGNORE):
            self.tasks += 1
        self.board.task_finished(self.slot, self.tasks)

    def _call(self, path: bytes, name: bytes, pairs: dict[bytes, bytes], body: bytes) -> int | None:
        """Call ``uwsgi.spooler`` for the task at ``path`` (named ``name`` in its dir); its return code
        (SPOOL_RETRY for an error), None when there is none."""
        func = getattr(sys.modules.get("uwsgi"), "spooler", None)
        if func is None:
            return None
        try:
            result = func(task_dict(name, pairs, body))
        except Exception:
            log.log(f"{self.tag} task {os.fsdecode(path)} raised:\n{traceback.format_exc().rstrip()}")
            return -1
        return result if isinstance(result, int) else -1

    # -- waiting -----------------------------------------------------------------------------------

    def _wait(self, due: float | None) -> None:
        """Wait for a SIGUSR1 (or any signal), a message from the master, the time ``due``, or the
        spooler frequency; run the master's messages."""
        timeout = float(self.spooling.frequency())
        if due is not None:
            timeout = max(0.0, min(timeout, due - time.time()))
        fd = self.process.wakeup_fd
        watched = [fd] if self.channel is None else [fd, self.channel.fileno()]
        ready = select.select(watched, [], [], timeout)[0]
        if fd in ready:
            try:
                while os.read(fd, 4096):
                    pass
            except BlockingIOError:
                pass
        if self.channel is not None and self.channel.fileno() in ready:
            self.process.dispatch_messages()


def _wake_up(signum, frame) -> None:
    """SIGUSR1: the signal's byte on the process's wakeup fd is what ends the wait."""


def _import(spec: str) -> None:
    """``spooler-import``: import a module by name, or run a ``.py`` file as a module."""
    try:
        if spec.endswith(".py") or os.sep in spec:
            name = os.path.splitext(os.path.basename(spec))[0]
            module_spec = importlib.util.spec_from_file_location(name, spec)
            if module_spec is None or module_spec.loader is None:
                raise ImportError(f"cannot load {spec}")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
        else:
            importlib.import_module(spec)
    except Exception:
        log.log(f"spooler-import {spec} failed:\n{traceback.format_exc().rstrip()}")
