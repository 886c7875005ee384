"""uWSGI's magic variables: ``%`` and one character, replaced while a config file is read.

Per file (from the path as given and the section read): ``%p`` absolute path, ``%s`` file name,
``%d`` directory with a trailing ``/``, ``%e`` extension (no dot), ``%n`` file name without it,
``%c`` the directory's own name, ``%x`` ``FILE:SECTION``, ``%o`` the path as given, ``%i`` inode,
``%0``..``%9`` the directory's components (``/etc/uwsgi/`` gives ``%0`` = ``etc``). The capital
letters ``%O %P %S %D %E %N %C %X %I`` are the same for the first config file read.

Global: ``%v`` working directory, ``%h`` host name, ``%t``/``%T`` start time in seconds/microseconds,
``%k`` CPU count, ``%u``/``%U`` uid/user name, ``%g``/``%G`` gid/group name, ``%V`` the uWSGI version,
``%[`` the ESC character, ``%%`` a ``%``. ``%(`` is left for placeholders. As in uWSGI any other
character gives the empty string (so ``%Y`` must be written ``%%Y``); a ``%`` ending the text stays.
"""
from __future__ import annotations

import grp
import os
import pwd
import socket
import time
from typing import NamedTuple

from .. import UWSGI_COMPAT_VERSION

FILE_LETTERS = "opsdencxi"


class FileContext(NamedTuple):
    """A config file being read: its path as given, and the section read from it.

    A named tuple, not a dataclass: this module is imported at every start-up, where a dataclass costs
    a millisecond more.
    """

    path: str
    section: str

    def variables(self) -> dict[str, str]:
        """The per-file magic variables, by letter."""
        absolute = os.path.abspath(self.path) if os.path.islink(self.path) else os.path.realpath(self.path)
        directory, name = os.path.split(absolute)
        stem, dot, extension = name.rpartition(".")
        components = [part for part in directory.split("/") if part]
        try:
            inode = str(os.stat(self.path).st_ino)
        except OSError:
            inode = ""
        return {
            "o": self.path, "p": absolute, "s": name, "d": directory.rstrip("/") + "/",
            "e": extension if dot else "", "n": stem if dot else name,
            "c": components[-1] if components else "", "x": f"{self.path}:{self.section}", "i": inode,
            **{str(index): part for index, part in enumerate(components[:10])},
        }


def global_variables() -> dict[str, str]:
    """The magic variables that do not depend on the file (computed once per configuration read)."""
    now = time.time()
    uid, gid = os.getuid(), os.getgid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = str(gid)
    return {
        "v": os.getcwd(), "h": socket.gethostname(), "t": str(int(now)), "T": str(int(now * 1_000_000)),
        "k": str(os.cpu_count() or 1), "u": str(uid), "U": user, "g": str(gid), "G": group,
        "V": UWSGI_COMPAT_VERSION, "[": "\x1b", "%": "%",
    }


def table_for(file: FileContext, first_file: FileContext, globals_: dict[str, str]) -> dict[str, str]:
    """The full table for ``file``: globals, the file's letters, and the first file's as capitals."""
    first = {letter.upper(): value for letter, value in first_file.variables().items() if letter in FILE_LETTERS}
    return {**globals_, **first, **file.variables()}


def substitute(text: str, table: dict[str, str]) -> str:
    """Replace each ``%`` and its next character from ``table`` (unknown: empty); keep ``%(``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "%" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        letter = text[i + 1]
        out.append("%(" if letter == "(" else table.get(letter, ""))
        i += 2
    return "".join(out)
