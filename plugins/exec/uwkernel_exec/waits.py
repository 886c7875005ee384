"""Bounded waits: the wait_for_fs, wait_for_file, wait_for_dir and wait_for_socket handlers.

Each polls every :data:`POLL_INTERVAL` seconds until what it waits for is there, and fails with
:class:`TimeoutError` after ``wait-for-fs-timeout`` / ``wait-for-socket-timeout`` seconds (60 by
default, as in uWSGI).
"""
from __future__ import annotations

import os
import socket
import stat
import time
from typing import Callable

from uwkernel import log

from . import DEFAULT_WAIT_TIMEOUT

POLL_INTERVAL = 0.1
CONNECT_TIMEOUT = 1.0

_timeouts = {"fs": float(DEFAULT_WAIT_TIMEOUT), "socket": float(DEFAULT_WAIT_TIMEOUT)}


def set_timeouts(fs: float, socket: float) -> None:
    """Set how many seconds the filesystem waits and the socket wait last before failing."""
    _timeouts.update(fs=fs, socket=socket)


def _wait(what: str, timeout: float, ready: Callable[[float], bool]) -> None:
    """Call ``ready(seconds_left)`` until it is true; raise TimeoutError after ``timeout`` seconds."""
    log.log(f"waiting for {what} (max {timeout:g} seconds) ...")
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if ready(max(left, 0.0)):
            log.log(f"{what} ready")
            return
        if left <= 0:
            raise TimeoutError(f"{what} unavailable after {timeout:g} seconds")
        time.sleep(min(POLL_INTERVAL, left))


def _mode(path: str) -> int | None:
    try:
        return os.stat(path).st_mode
    except OSError:
        return None


def wait_for_fs(path: str) -> None:
    """``wait_for_fs:PATH``: wait for PATH to exist, whatever it is."""
    _wait(path, _timeouts["fs"], lambda _left: _mode(path) is not None)


def wait_for_file(path: str) -> None:
    """``wait_for_file:PATH``: wait for PATH to be a regular file."""
    _wait(path, _timeouts["fs"], lambda _left: stat.S_ISREG(_mode(path) or 0))


def wait_for_dir(path: str) -> None:
    """``wait_for_dir:PATH``: wait for PATH to be a directory."""
    _wait(path, _timeouts["fs"], lambda _left: stat.S_ISDIR(_mode(path) or 0))


def _socket_target(address: str) -> tuple[str, object]:
    """``("unix", path)`` or ``("tcp", (host, port))`` for a wait_for_socket address."""
    if address.startswith("@"):
        return "unix", "\0" + address[1:]
    host, colon, port = address.rpartition(":")
    if not colon or "/" in address:
        return "unix", address
    if not port.isdigit():
        raise ValueError(f"invalid port in {address!r}")
    return "tcp", (host.strip("[]") or "127.0.0.1", int(port))


def _connects(kind: str, target: object, timeout: float) -> bool:
    """Whether one connection attempt to the target succeeds within ``timeout`` (at most 1 s)."""
    timeout = min(max(timeout, 0.01), CONNECT_TIMEOUT)
    try:
        if kind == "tcp":
            socket.create_connection(target, timeout=timeout).close()
        else:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(target)
    except OSError:
        return False
    return True


def wait_for_socket(address: str) -> None:
    """``wait_for_socket:ADDRESS``: wait until ADDRESS accepts connections.

    ADDRESS is a unix socket path, ``@name`` for an abstract unix socket, or ``host:port``
    (``:port`` means 127.0.0.1, ``[::1]:port`` an IPv6 address).
    """
    kind, target = _socket_target(address)
    _wait(address, _timeouts["socket"], lambda left: _connects(kind, target, left))
