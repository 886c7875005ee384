"""The jail and the privilege drop: ``chroot``, then ``gid`` and ``uid`` (names or numbers)."""
from __future__ import annotations

import grp
import os
import pwd

from .errors import UwkernelError


def chroot(path: str) -> None:
    """chroot() into ``path`` and chdir to its root; a failure stops start-up naming the path."""
    try:
        os.chroot(path)
        os.chdir("/")
    except OSError as exc:
        raise UwkernelError(f"chroot to {path} failed: {exc.strerror}") from None


def _resolve(spec: str, lookup, field: str, what: str) -> int:
    if spec.isdigit():
        return int(spec)
    try:
        return getattr(lookup(spec), field)
    except KeyError:
        raise UwkernelError(f"unknown {what} '{spec}'") from None


def drop(uid: str | None, gid: str | None) -> None:
    """Set the group (and supplementary groups) then the user, as uWSGI does after ``as-root``.

    ``uid`` and ``gid`` are names or numbers; either may be None. A failure stops start-up.
    """
    uid_n = _resolve(uid, pwd.getpwnam, "pw_uid", "user") if uid else None
    gid_n = _resolve(gid, grp.getgrnam, "gr_gid", "group") if gid else None
    try:
        if gid_n is not None:
            os.setgid(gid_n)
            user = pwd.getpwuid(uid_n).pw_name if uid_n is not None else None
            os.setgroups(os.getgrouplist(user, gid_n) if user else [gid_n])
        if uid_n is not None:
            os.setuid(uid_n)
    except (OSError, KeyError) as exc:
        raise UwkernelError(f"cannot drop privileges to uid={uid} gid={gid}: {exc}") from None
