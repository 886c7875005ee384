"""modifier1 17: a task spooled over the uwsgi protocol (another instance's ``uwsgi.send_message``, a client).

The packet's payload is the task's dict as a vars block; it is written as it came (the ``spooler``,
``priority`` and ``at`` keys apply), with no body. The reply is a bare header: modifier1 255,
datasize 0, modifier2 1 when the task was spooled, 0 when it was not.

A remote peer never gets its dict unpickled by this instance's spooler: a packet carrying the
pickled ``args``/``kwargs`` of a ``@spool(pass_arguments=True)`` task is refused with a log line.
"""
from __future__ import annotations

import socket
import struct
from typing import TYPE_CHECKING

from uwkernel import log
from uwkernel.proto import ProtocolError
from uwkernel.proto.uwsgi import MAX_PAYLOAD, build_packet, parse_vars

from .spoolfile import MODIFIER1

if TYPE_CHECKING:
    from .enqueue import Enqueuer

_REPLY = struct.Struct("<BHB")
#: Keys holding pickles in uwsgidecorators' tasks: only this instance's own code may spool them.
PICKLED_KEYS = (b"args", b"kwargs")


def reply(spooled: bool) -> bytes:
    """The answer to a spool request: header(255, 0, 1 spooled | 0 not)."""
    return _REPLY.pack(255, 0, 1 if spooled else 0)


def make_handler(enqueuer: Enqueuer | None):
    """The modifier1 17 handler: ``handler(conn, modifier1, modifier2, payload, leftover) -> bytes sent``."""

    def handler(conn: socket.socket, modifier1: int, modifier2: int, payload: bytes, leftover: bytes) -> int:
        if enqueuer is None:
            log.log("the spooler is inactive !!!...skip")
            spooled = False
        else:
            spooled = _spool(enqueuer, payload, conn)
        answer = reply(spooled)
        conn.sendall(answer)
        return len(answer)

    return handler


def _spool(enqueuer: Enqueuer, payload: bytes, conn: socket.socket) -> bool:
    try:
        pairs = parse_vars(payload, MAX_PAYLOAD, True)
    except ProtocolError as exc:
        log.log(f"[spooler] invalid remote spool request from {_peer(conn)}: {exc}")
        return False
    if b"ud_spool_func" in pairs and any(key in pairs for key in PICKLED_KEYS):
        log.log(f"[spooler] remote spool request from {_peer(conn)} refused: it carries pickled arguments")
        return False
    try:
        enqueuer.enqueue(pairs, build_packet(MODIFIER1, payload))
    except (ValueError, OSError) as exc:
        log.log(f"[spooler] remote spool request from {_peer(conn)} not spooled: {exc}")
        return False
    return True


def _peer(conn: socket.socket) -> str:
    try:
        peer = conn.getpeername()
    except OSError:
        return "a closed connection"
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "a unix socket"
