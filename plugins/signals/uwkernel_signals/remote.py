"""Remote signals: modifier1 110 over the uwsgi protocol.

A client sends a bare header ``(110, pktsize 0, modifier2 = signal number)``; the instance raises the
signal (through its master, as ``uwsgi.signal`` would) and answers ``(255, 0, 1)`` when it was queued,
``(255, 0, 0)`` otherwise.
"""
from __future__ import annotations

import socket
import struct

from uwkernel import runtime

_HEADER = struct.Struct("<BHB")


def handle(conn: socket.socket, modifier1: int, modifier2: int, payload: bytes, leftover: bytes) -> int:
    """The modifier1 110 request handler of a worker: queue signal ``modifier2`` to the master over its
    channel and answer whether it was queued."""
    channel = getattr(runtime.process, "channel", None)
    queued = bool(channel is not None and channel.send("signal", bytes((modifier2,))))
    reply = _HEADER.pack(255, 0, 1 if queued else 0)
    conn.sendall(reply)
    return len(reply)


def _address(node: str):
    if node.startswith("/") or node.startswith("@"):
        path = "\0" + node[1:] if node.startswith("@") else node
        return socket.AF_UNIX, path
    host, _, port = node.rpartition(":")
    return socket.AF_INET, (host or "127.0.0.1", int(port))


def send_remote(node: str, num: int, timeout: float) -> None:
    """Raise signal ``num`` on the instance at ``node`` ("host:port" or a unix path).

    IOError when it cannot be reached or does not answer within ``timeout``; ValueError when it
    refused the signal (as uWSGI's Python plugin reports).
    """
    family, address = _address(node)
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.sendall(_HEADER.pack(110, 0, num))
            reply = b""
            while len(reply) < _HEADER.size:
                chunk = sock.recv(_HEADER.size - len(reply))
                if not chunk:
                    break
                reply += chunk
    except OSError as exc:
        raise IOError(f"unable to deliver signal {num} to node {node}: {exc}") from None
    if len(reply) < _HEADER.size:
        raise IOError(f"unable to deliver signal {num} to node {node}")
    if _HEADER.unpack(reply)[2] != 1:
        raise ValueError(f"node {node} rejected signal {num}")
