"""The stats server: ``stats = ADDR`` answers each connection with the instance's JSON and closes.

The JSON has uWSGI's key names and value types (uwsgitop and uwsgi_exporter read it; an int must stay
an int). It is built from the scoreboard and /proc by the master alone, without asking any worker;
plugins add top-level sections through the ``uwkernel_stats`` hook.
"""
from __future__ import annotations

import os
import socket
import struct
import time
from typing import TYPE_CHECKING, Any

from . import UWSGI_COMPAT_VERSION, log
from .sockets import parse_address

if TYPE_CHECKING:  # pragma: no cover - types only
    from .master import Master

_TCP_INFO_QUEUE = struct.Struct("<II")  # tcpi_unacked, tcpi_sacked: accept queue length and its limit


def listen_queue(sock: socket.socket) -> tuple[int, int]:
    """(connections waiting in the accept queue, the queue's limit) of a TCP listening socket."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return 0, 0
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    except OSError:
        return 0, 0
    return _TCP_INFO_QUEUE.unpack_from(info, 24)


def memory(pid: int) -> tuple[int, int]:
    """(rss, vsz) of ``pid`` in bytes, 0 when unknown."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            vsz_pages, rss_pages = f.read().split()[:2]
    except (OSError, ValueError):
        return 0, 0
    page = os.sysconf("SC_PAGE_SIZE")
    return int(rss_pages) * page, int(vsz_pages) * page


def worker_stats(slot) -> dict[str, Any]:
    """One worker's entry of the stats document (also what ``uwsgi.workers()`` returns)."""
    rss, vsz = memory(slot.pid) if slot.pid else (0, 0)
    return {
        "id": slot.id, "pid": slot.pid, "accepting": slot.accepting, "requests": slot.requests,
        "delta_requests": slot.delta_requests, "exceptions": slot.exceptions,
        "harakiri_count": slot.harakiri_count, "signals": slot.signals, "signal_queue": 0,
        "status": slot.status_name, "rss": rss, "vsz": vsz, "running_time": slot.running_time,
        "avg_rt": slot.avg_rt, "last_spawn": slot.last_spawn, "respawn_count": slot.respawn_count,
        "tx": slot.tx, "apps": [],
        "cores": [{"id": 0, "requests": slot.requests, "static_requests": 0, "routed_requests": 0,
                   "offloaded_requests": 0, "write_errors": 0, "read_errors": 0,
                   "in_request": int(slot.status_name == "busy"), "vars": [], "req_info": {}}],
    }


def build_stats(master: Master) -> dict[str, Any]:
    """The stats document, as uWSGI 2.0 writes it."""
    sockets, total_queue = [], 0
    for s in master.sockets:
        queue, max_queue = listen_queue(s.sock)
        total_queue += queue
        sockets.append({"name": s.name, "proto": s.proto, "queue": queue, "max_queue": max_queue,
                        "shared": int(bool(s.shared_as)), "can_offload": 0})
    workers = [worker_stats(slot) for slot in master.workers()]
    doc: dict[str, Any] = {
        "version": UWSGI_COMPAT_VERSION, "listen_queue": total_queue, "listen_queue_errors": 0,
        "signal_queue": 0, "load": total_queue, "pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid(),
        "cwd": os.getcwd(), "locks": [], "sockets": sockets, "workers": workers,
    }
    for fragments in master.plugins.hook.uwkernel_stats(master=master):
        for fragment in fragments or ():
            doc[fragment.key] = fragment.value
    return doc


class StatsServer:
    """Listens on ``stats = ADDR`` in the master and answers every connection with the JSON."""

    def __init__(self, master: Master, address: str):
        self.master = master
        self.http = bool(master.config["stats-http"])
        self.minified = bool(master.config["stats-minified"])
        family, sockaddr = parse_address(address)
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if family != socket.AF_UNIX:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        elif isinstance(sockaddr, str) and not sockaddr.startswith("\0") and os.path.exists(sockaddr):
            os.unlink(sockaddr)
        self.sock.bind(sockaddr)
        self.sock.listen(64)
        self.sock.setblocking(False)
        master.add_reader(self.sock.fileno(), self.on_connection)
        log.log(f"stats server enabled on {address} fd: {self.sock.fileno()}")

    def on_connection(self) -> None:
        """Accept one client, write the document, close."""
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        with conn:
            conn.settimeout(2)
            body = _json(build_stats(self.master), self.minified).encode()
            if self.http:
                body = (b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                        % len(body)) + body
            try:
                conn.sendall(body)
            except OSError:
                pass


def log_stats(master: Master) -> None:
    """Write the stats document to the log (SIGUSR1, the master FIFO's ``s``)."""
    log.log(f"stats at {time.strftime('%c')}: " + _json(build_stats(master), minified=True))


def _json(document: dict, minified: bool) -> str:
    """``document`` as JSON text, minified or indented by one space.

    json is imported here: an instance that never serves nor logs its stats does not need it at start-up.
    """
    import json

    return json.dumps(document, separators=(",", ":") if minified else None, indent=None if minified else 1)
