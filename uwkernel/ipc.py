"""Channels between the master and each child: one SOCK_SEQPACKET socketpair per child, made before fork.

A message is one datagram: a byte naming its kind (:class:`~uwkernel.types.ChannelHandler` kinds, numbered
the same way in every process because they are numbered before the first fork) and the payload. Sends
never block: a full channel is reported to the sender (``send`` returns False), so a slow child can never
stall the master.
"""
from __future__ import annotations

import socket
from typing import Any, Iterable

from .types import ChannelHandler

#: The largest payload a message carries.
MAX_PAYLOAD = 65536


class Kinds:
    """The message kinds of this instance, numbered 1..N by name."""

    def __init__(self, handlers: Iterable[ChannelHandler]):
        self.handlers = sorted(handlers, key=lambda h: h.kind)
        if len(self.handlers) > 255:
            raise ValueError("more than 255 channel message kinds")
        self.number = {h.kind: i + 1 for i, h in enumerate(self.handlers)}

    def handler(self, number: int) -> ChannelHandler | None:
        """The handler of message kind ``number``."""
        return self.handlers[number - 1] if 0 < number <= len(self.handlers) else None


class Channel:
    """One end of a master-child channel."""

    def __init__(self, sock: socket.socket, kinds: Kinds):
        self.sock = sock
        self.kinds = kinds
        sock.setblocking(False)

    def fileno(self) -> int:
        """The socket's file descriptor (for selectors)."""
        return self.sock.fileno()

    def send(self, kind: str, payload: bytes = b"") -> bool:
        """Send one message; False when the channel is full or closed (never blocks)."""
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"a channel message carries at most {MAX_PAYLOAD} bytes")
        try:
            self.sock.send(bytes((self.kinds.number[kind],)) + payload)
            return True
        except (BlockingIOError, OSError):
            return False

    def receive(self) -> list[tuple[ChannelHandler, bytes]]:
        """Every message waiting now, with its handler (unknown kinds are dropped)."""
        messages = []
        while True:
            try:
                data = self.sock.recv(MAX_PAYLOAD + 1)
            except (BlockingIOError, InterruptedError):
                return messages
            except OSError:
                return messages
            if not data:
                return messages
            handler = self.kinds.handler(data[0])
            if handler is not None:
                messages.append((handler, data[1:]))

    def close(self) -> None:
        """Close this end."""
        self.sock.close()


def pair(kinds: Kinds) -> tuple[Channel, Channel]:
    """A new channel: (the master's end, the child's end)."""
    master_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    return Channel(master_end, kinds), Channel(child_end, kinds)


class Child:
    """A child as the master sees it: its role (``"worker"`` or a ProcessSpec name), id, pid, channel.

    ``id`` is the worker id (1-based) for workers, the index among plugin processes otherwise;
    ``spec`` is the child's :class:`~uwkernel.types.ProcessSpec` (None for workers).
    A plain class, not a dataclass: this module is imported at every start-up.
    """

    __slots__ = ("role", "id", "pid", "channel", "spec")

    def __init__(self, role: str, id: int, pid: int, channel: Channel, spec: Any = None):
        self.role, self.id, self.pid, self.channel, self.spec = role, id, pid, channel, spec

    @property
    def is_worker(self) -> bool:
        """Whether this child is a worker."""
        return self.role == "worker"
