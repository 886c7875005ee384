"""The core names of the ``uwsgi`` module: instance facts, process identity, locks, harakiri, logging.

Values are computed from the kernel's runtime state (:mod:`uwkernel.runtime`) when called, so one
module object serves the master and every child. Request-level names live in :mod:`.uwsgi_request`.
"""
from __future__ import annotations

import os
import signal
import socket
import time

from uwkernel import UWSGI_COMPAT_VERSION, log, runtime, stats
from uwkernel.osutil import setproctitle
from uwkernel.proto import uwsgi as uwsgi_proto
from uwkernel.sockets import parse_address
from uwkernel.types import ModuleName, Option


#: Options of the core names.
CORE_OPTIONS = [Option("locks", kind="int", default=1, help="the number of uwsgi.lock() locks (lock 0 .. N-1)")]

_locks: list = []
#: ``_multiprocessing.SemLock``'s kind for a plain (not recursive) lock, as ``multiprocessing.synchronize`` names it.
_SEMAPHORE = 1
_warning = {"message": ""}


def make_locks(count: int) -> None:
    """Create the process-shared locks; called before the master forks."""
    _locks[:] = [_shared_lock() for _ in range(max(1, count))]


def _shared_lock():
    """A lock shared by the processes forked after it: the POSIX semaphore ``multiprocessing.Lock`` wraps.

    Made directly: importing ``multiprocessing.synchronize`` costs more than the rest of this plugin, for a
    wrapper whose extras (after-fork hooks, a resource tracker) serve ``multiprocessing.Process`` only.
    The semaphore's name is unlinked at once, as ``multiprocessing`` does under ``fork``.
    """
    import _multiprocessing

    return _multiprocessing.SemLock(_SEMAPHORE, 1, 1, f"/uwkernel-{os.getpid()}-{os.urandom(8).hex()}", True)


def _lock(num: int):
    if not 0 <= num < len(_locks):
        raise ValueError(f"lock {num} does not exist (locks = {len(_locks)})")
    return _locks[num]


def lock(lock_num: int = 0) -> None:
    """Take lock ``lock_num`` (shared by every process of the instance), waiting for it."""
    _lock(lock_num).acquire()


def unlock(lock_num: int = 0) -> None:
    """Release lock ``lock_num``."""
    _lock(lock_num).release()


def is_locked(lock_num: int = 0) -> bool:
    """Whether lock ``lock_num`` is held by some process."""
    held = _lock(lock_num)
    if held.acquire(False):
        held.release()
        return False
    return True


def masterpid() -> int:
    """The master's pid (0 when the instance runs without a master)."""
    return runtime.master_pid


def worker_id() -> int:
    """The current worker's id, 0 outside workers."""
    return runtime.worker_id()


def _slots():
    board = runtime.scoreboard
    return [board.read(i) for i in range(1, board.size + 1)] if board else []


def workers() -> tuple[dict, ...]:
    """Every worker's stats (the stats server's per-worker entries)."""
    return tuple(stats.worker_stats(slot) for slot in _slots())


def total_requests() -> int:
    """Requests served by every worker."""
    return runtime.scoreboard.total_requests() if runtime.scoreboard else 0


def request_id() -> int:
    """The current worker's request counter."""
    wid = runtime.worker_id()
    return runtime.scoreboard.read(wid).requests if wid and runtime.scoreboard else 0


def accepting(value: bool = True) -> None:
    """Mark the current worker as accepting (overridden worker loops call it; chain reload waits)."""
    process = runtime.process
    if getattr(process, "is_worker", False):
        process.slot.set_accepting(value)


def ready() -> bool | None:
    """True when every worker accepts requests, else None."""
    slots = _slots()
    return True if slots and all(slot.accepting for slot in slots) else None


def set_user_harakiri(seconds: int) -> None:
    """Kill the current worker if it is still busy ``seconds`` from now; 0 clears it."""
    process = runtime.process
    if getattr(process, "is_worker", False):
        process.slot.set_user_deadline(time.time() + seconds if seconds else 0.0)


def reload() -> bool:
    """Gracefully reload the instance."""
    os.kill(runtime.master_pid or os.getpid(), signal.SIGHUP)
    return True


def stop() -> bool:
    """Shut the instance down."""
    os.kill(runtime.master_pid or os.getpid(), signal.SIGQUIT)
    return True


def uwsgi_log(logline: str) -> bool:
    """Write a line to the instance's log."""
    log.log(str(logline))
    return True


def logsize() -> int:
    """The size of the log file (0 when logging to stderr)."""
    target = runtime.instance.config["logto"] if runtime.instance else None
    try:
        return os.path.getsize(target) if target else 0
    except OSError:
        return 0


def setprocname(name: str) -> None:
    """Set the current process's title."""
    setproctitle(name)


def set_warning_message(message: str) -> bool:
    """Set the instance's warning message."""
    _warning["message"] = message
    return True


def listen_queue(id: int = 0) -> int:
    """Connections waiting in the accept queue of listening socket ``id``."""
    sockets = runtime.instance.sockets if runtime.instance else []
    return stats.listen_queue(sockets[id].sock)[0] if id < len(sockets) else 0


def micros() -> int:
    """The current time in microseconds."""
    return time.time_ns() // 1000


def mem() -> tuple[int, int]:
    """(rss, vsz) of the current process in bytes."""
    return stats.memory(os.getpid())


def parsefile(filename: str) -> dict[bytes, bytes] | None:
    """Read a file holding one uwsgi packet; return its vars (None when it is not one)."""
    try:
        with open(filename, "rb") as f:
            data = f.read()
        _, size, _ = uwsgi_proto.parse_header(data)
        pairs = uwsgi_proto.parse_vars(memoryview(data)[4:4 + size])
    except (OSError, ValueError, uwsgi_proto.ProtocolError):
        return None
    return {k.encode("latin-1"): v.encode("latin-1") for k, v in pairs.items()}


def extract(name: str) -> bytes | None:
    """The contents of file ``name`` (None when it cannot be read)."""
    try:
        with open(name, "rb") as f:
            return f.read()
    except OSError:
        return None


def connect(socket_name: str, timeout: int = 0) -> int:
    """Connect to a uWSGI address (host:port, /path, @abstract); return the file descriptor."""
    family, address = parse_address(socket_name)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout or None)
    sock.connect(address)
    return sock.detach()


def send(fd_or_data, data: bytes | None = None) -> bool:
    """Send ``data`` on file descriptor ``fd``."""
    fd, payload = (fd_or_data, data) if data is not None else (None, fd_or_data)
    if fd is None:
        raise ValueError("uwsgi.send(data) without a fd needs a current request connection")
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view):]
    return True


def recv(fd: int, max_size: int = 4096) -> bytes | None:
    """Read up to ``max_size`` bytes from ``fd``; None at end of file."""
    data = os.read(fd, max_size)
    return data or None


def close(fd: int) -> None:
    """Close file descriptor ``fd``."""
    os.close(fd)


def is_connected(fd: int) -> bool:
    """Whether the socket ``fd`` is still connected."""
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return False
    with sock:
        try:
            sock.getpeername()
            return True
        except OSError:
            return False


def module_names(config) -> list[ModuleName]:
    """The core names of the ``uwsgi`` module for this configuration."""
    instance = runtime.instance
    major, minor, patch = (int(p) for p in UWSGI_COMPAT_VERSION.split("."))
    threads = config["threads"] or 1
    values = {
        "version": UWSGI_COMPAT_VERSION.encode(), "version_info": (major, minor, patch, 0, b""),
        "hostname": socket.gethostname().encode(), "numproc": config["processes"],
        "opt": config.as_uwsgi_opt(), "started_on": int(time.time()),
        "is_a_reload": bool(instance and instance.reloads),
        "sockets": [s.fileno for s in instance.sockets] if instance else [],
        "cores": threads, "buffer_size": config["buffer-size"],
        "has_threads": int(bool(config["enable-threads"] or threads > 1)),
        "applications": None, "magic_table": {}, "post_fork_hook": None, "unbit": None, "loop": None,
        "log": uwsgi_log,
    }
    functions = (lock, unlock, is_locked, masterpid, worker_id, workers, total_requests, request_id, accepting,
                 ready, set_user_harakiri, reload, stop, logsize, setprocname, set_warning_message, listen_queue,
                 micros, mem, parsefile, extract, connect, send, recv, close, is_connected)
    values.update({f.__name__: f for f in functions})
    return [ModuleName(name, value) for name, value in values.items()]
