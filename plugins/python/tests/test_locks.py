"""``uwsgi.lock``: locks made before a fork are shared by the processes forked after."""
from __future__ import annotations

import os
import select

from uwkernel_python import uwsgi_core


def test_a_lock_taken_in_the_master_holds_a_forked_child_until_released():
    uwsgi_core.make_locks(2)
    uwsgi_core.lock(1)
    released_r, released_w = os.pipe()  # the parent writes a byte here just before it releases the lock
    checked_r, checked_w = os.pipe()  # the child writes a byte here once it looked at the locks
    pid = os.fork()
    if pid == 0:  # the child: sees the lock taken, gets it only after the release, and lock 0 is free
        status = 1
        try:
            seen = uwsgi_core.is_locked(1) and not uwsgi_core.is_locked(0)
            os.write(checked_w, b"x")
            uwsgi_core.lock(1)
            os.set_blocking(released_r, False)
            after_release = os.read(released_r, 1) == b"x"
            uwsgi_core.unlock(1)
            status = 0 if seen and after_release else 1
        finally:
            os._exit(status)
    try:
        checked = bool(select.select([checked_r], [], [], 10)[0])
        os.write(released_w, b"x")
    finally:  # released whatever happened, so the child always ends
        uwsgi_core.unlock(1)
        _, status = os.waitpid(pid, 0)
        for fd in (released_r, released_w, checked_r, checked_w):
            os.close(fd)
    assert checked and os.waitstatus_to_exitcode(status) == 0
    assert not uwsgi_core.is_locked(1)
