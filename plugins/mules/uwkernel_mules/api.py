"""The mules' names in the ``uwsgi`` module, and the life of a mule.

Sending (any process of the instance): ``mule_msg(msg, target=None)`` writes to a queue directly, with no
round trip through the master: ``None``/0 = any mule, N = mule N, a str = the farm of that name.
``farm_msg(farm, msg)`` is ``mule_msg(msg, farm)``. A message over ``mule-msg-size`` bytes is a
``ValueError``; a full queue is a :class:`MuleQueueFull` (an ``OSError``) at once: the sender never waits.

Receiving (in a mule): ``mule_get_msg()`` reads the mule's own queue, the shared one and (``farms``)
its farms' queues; ``farm_get_msg()`` only its farms' queues. While waiting, messages of the master
(signals) are handled when ``signals`` is true, and the call then returns None, as uWSGI's.

A plain mule loops on ``mule_get_msg`` and hands each message to ``uwsgi.mule_msg_hook`` (set by
uwsgidecorators: that is how ``@mulefunc`` runs), under ``mule-harakiri``. A scripted mule runs its
script. SIGHUP/SIGTERM end a mule at once with status 17 (the master respawns it unless the instance
is reloading or stopping), as uWSGI's mules end.
"""
from __future__ import annotations

import errno
import os
import select
import signal
import sys
import time

from uwkernel import log, runtime
from uwkernel.process import EXIT_END, EXIT_RELOAD

from .layout import Layout, Mule, Queue

#: The instance's mules and farms (set in ``uwkernel_configure``, inherited by every child).
LAYOUT = Layout()
#: This process's mule number; 0 when it is not a mule.
MULE_ID = 0


class MuleQueueFull(OSError):
    """A mule message could not be queued: the receiving queue is full (see ``mule-msg-size``)."""


def mule_id() -> int:
    """``uwsgi.mule_id()``: this mule's number, 0 outside mules."""
    return MULE_ID


def _message(msg) -> bytes:
    data = msg.encode("utf-8") if isinstance(msg, str) else bytes(msg)
    if len(data) > LAYOUT.msg_size:
        raise ValueError(f"mule message of {len(data)} bytes is longer than mule-msg-size ({LAYOUT.msg_size})")
    return data


def _queue_for(target) -> Queue:
    if not LAYOUT.mules:
        raise ValueError("no mule configured")
    if target is None or (isinstance(target, int) and not isinstance(target, bool) and target == 0):
        return LAYOUT.shared
    if isinstance(target, (str, bytes)):
        name = target.decode("utf-8") if isinstance(target, bytes) else target
        if name not in LAYOUT.farm_queues:
            raise ValueError(f"unknown farm: {name}")
        return LAYOUT.farm_queues[name]
    if isinstance(target, int) and not isinstance(target, bool) and target in LAYOUT.queues:
        return LAYOUT.queues[target]
    raise ValueError(f"invalid mule number: {target!r}")


def mule_msg(msg, target=None) -> bool:
    """``uwsgi.mule_msg``: queue ``msg`` (bytes or str) for a mule, a farm, or any mule; True.

    Raises ``ValueError`` (no mules, unknown mule or farm, message too long) or :class:`MuleQueueFull`.
    """
    queue = _queue_for(target)
    if not queue.send(_message(msg)):
        log.log(f"*** MULE MSG QUEUE IS FULL: buffer size {LAYOUT.msg_size} bytes "
                "(you can tune it with --mule-msg-size) ***")
        raise MuleQueueFull(errno.EAGAIN, f"mule message queue full (target {target!r})")
    return True


def farm_msg(farm, msg) -> bool:
    """``uwsgi.farm_msg``: queue ``msg`` for the farm named ``farm``; True."""
    if not isinstance(farm, (str, bytes)):
        raise TypeError("farm_msg() takes a farm name")
    return mule_msg(msg, farm)


def in_farm(name=None) -> bool | None:
    """``uwsgi.in_farm``: True when this mule belongs to farm ``name`` (any farm without a name), else None."""
    if not MULE_ID:
        return None
    farms = LAYOUT.farms_of(MULE_ID)
    if isinstance(name, bytes):
        name = name.decode("utf-8")
    return True if (farms if name is None else name in farms) else None


def _wait_for(queues: list[Queue], signals: bool, buffer_size: int, timeout: float | None) -> bytes | None:
    """The next message of ``queues``; None on timeout or after handling the master's messages."""
    if not MULE_ID:
        raise ValueError("you can receive mule messages only in a mule !!!")
    if not queues:
        return None
    channel = getattr(runtime.process, "channel", None) if signals else None
    fds: list = [*queues, channel] if channel is not None else list(queues)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select(fds, [], [], left)
        if not ready:
            return None
        if channel is not None and channel in ready:
            runtime.process.dispatch_messages()
            if os.getppid() != runtime.master_pid:
                log.log(f"uWSGI mule {MULE_ID} braying: my master died, i will follow him...")
                raise SystemExit(EXIT_END)
            return None
        for queue in ready:
            message = queue.receive(buffer_size)
            if message is not None:
                return message


def _timeout(value) -> float | None:
    return None if value is None or value < 0 else float(value)


def mule_get_msg(signals: bool = True, farms: bool = True, buffer_size: int = 65536, timeout: int = -1):
    """``uwsgi.mule_get_msg``: wait (``timeout`` seconds, -1 forever) for a message of this mule.

    Reads the mule's own queue, the shared queue and, with ``farms``, its farms' queues; returns the
    message as bytes, or None on timeout or when a message of the master (a signal) was handled.
    ``ValueError`` outside mules.
    """
    queues = [LAYOUT.queues[MULE_ID], LAYOUT.shared] if MULE_ID in LAYOUT.queues else []
    if farms:
        queues += [LAYOUT.farm_queues[name] for name in LAYOUT.farms_of(MULE_ID)]
    return _wait_for(queues, signals, buffer_size, _timeout(timeout))


def farm_get_msg(signals: bool = False, buffer_size: int = 65536, timeout: int = -1):
    """``uwsgi.farm_get_msg``: wait for a message of this mule's farms; None when it is in no farm."""
    if not MULE_ID:
        return None
    queues = [LAYOUT.farm_queues[name] for name in LAYOUT.farms_of(MULE_ID)]
    return _wait_for(queues, signals, buffer_size, _timeout(timeout))


# -- the mule's life -------------------------------------------------------------------------------


def _end(signum, frame) -> None:
    raise SystemExit(EXIT_RELOAD)


def become_mule(mule: Mule) -> None:
    """In a new mule, before any post-fork code runs: its number, and SIGHUP/SIGTERM ending it."""
    global MULE_ID
    MULE_ID = mule.id
    signal.signal(signal.SIGHUP, _end)
    signal.signal(signal.SIGTERM, _end)


def handle_message(message: bytes) -> None:
    """Give one message to ``uwsgi.mule_msg_hook`` under ``mule-harakiri`` (logged when there is no hook)."""
    hook = getattr(sys.modules.get("uwsgi"), "mule_msg_hook", None)
    if hook is None:
        log.log(f"*** mule {MULE_ID} received a {len(message)} bytes message ***")
        return
    LAYOUT.set_deadline(MULE_ID, LAYOUT.harakiri)
    try:
        hook(message)
    except Exception:
        import traceback  # here: only a failing hook needs it

        log.log(f"mule {MULE_ID}: mule_msg_hook raised:\n{traceback.format_exc().rstrip()}")
    finally:
        LAYOUT.set_deadline(MULE_ID, 0)


def signal_harakiri(mule_id: int, running: bool) -> None:
    """ProcessSpec.harakiri of a mule: a signal handler runs under ``mule-harakiri`` (arm, then clear)."""
    LAYOUT.set_deadline(mule_id, LAYOUT.harakiri if running else 0)


def run_mule(mule: Mule):
    """The ProcessSpec target of ``mule``: run its script, or serve its messages until it is ended."""

    def target(process) -> int:
        if mule.script:
            import runpy  # in the mule: few instances have scripted mules

            runpy.run_path(mule.script, run_name="__main__")
            log.log(f"mule {mule.id} (pid: {os.getpid()}): {mule.script} ended")
            return EXIT_END
        while True:
            message = mule_get_msg(buffer_size=LAYOUT.msg_size)
            if message is not None:
                handle_message(message)

    return target
