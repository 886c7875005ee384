"""Where the vassal configs are: ``emperor = DIR`` or ``emperor = GLOB``, scanned and watched.

:class:`Watcher` lists the config files (``.ini``, ``.json``/``.js``, ``.yaml``/``.yml``,
``.toml``: the formats the kernel reads) with their modification times, and gives an inotify file
descriptor that becomes readable when one of the watched directories changes (a glob watches its
directory). Without inotify (no ``inotify_simple``, or the kernel refuses) :attr:`Watcher.fd` is
None and the Emperor relies on its rescan timer alone.
"""
from __future__ import annotations

import glob
import os

from uwkernel import log
from uwkernel.config.formats import format_of

try:  # a dependency of this plugin; the Emperor still works (rescanning) without it
    import inotify_simple
except ImportError:  # pragma: no cover
    inotify_simple = None

_MAGIC = frozenset("*?[")


def is_glob(pattern: str) -> bool:
    """Whether ``pattern`` has glob characters (``*``, ``?``, ``[``)."""
    return any(c in _MAGIC for c in pattern)


class Watcher:
    """The vassal configs of every ``emperor`` value, and an inotify fd over their directories."""

    def __init__(self, sources: list[str]):
        self.sources = sources
        self.fd: int | None = None
        self._inotify = None
        self._wds: dict[int, str] = {}  # inotify watch descriptor -> directory
        self._open_inotify()

    def _directories(self) -> list[str]:
        dirs = []
        for source in self.sources:
            directory = source if not is_glob(source) else os.path.dirname(source) or "."
            if not is_glob(directory) and directory not in dirs:
                dirs.append(directory)
        return dirs

    def _open_inotify(self) -> None:
        if inotify_simple is None:
            log.log("[emperor] inotify_simple is not installed: watching by rescanning only")
            return
        flags = inotify_simple.flags
        mask = (flags.CREATE | flags.MOVED_TO | flags.CLOSE_WRITE | flags.ATTRIB | flags.DELETE
                | flags.MOVED_FROM | flags.DELETE_SELF | flags.MOVE_SELF)
        try:
            self._inotify = inotify_simple.INotify(inheritable=False, nonblocking=True)
        except OSError as exc:
            log.log(f"[emperor] inotify unavailable ({exc.strerror}): watching by rescanning only")
            return
        for directory in self._directories():
            try:
                self._wds[self._inotify.add_watch(directory, mask)] = directory
            except OSError as exc:
                log.log(f"[emperor] cannot watch {directory}: {exc.strerror} (rescanning only)")
        self.fd = self._inotify.fileno()

    def drain(self) -> bool:
        """Read the pending inotify events; True when a rescan is worth doing.

        A bare IN_CREATE of a regular file is ignored: the file is still being written, its
        IN_CLOSE_WRITE follows.
        """
        if self._inotify is None:
            return False
        try:
            events = self._inotify.read(timeout=0)
        except BlockingIOError:
            return False
        create = inotify_simple.flags.CREATE
        return any(event.mask != create or not self._regular_file(event) for event in events)

    def _regular_file(self, event) -> bool:
        path = os.path.join(self._wds.get(event.wd, ""), event.name)
        return os.path.isfile(path) and not os.path.islink(path)

    def scan(self) -> dict[str, int]:
        """Every vassal config now: absolute path -> modification time (ns, symlinks followed)."""
        found: dict[str, int] = {}
        for source in self.sources:
            if is_glob(source):
                paths = glob.glob(source)
            else:
                try:
                    paths = [os.path.join(source, name) for name in os.listdir(source) if not name.startswith(".")]
                except OSError:
                    paths = []
            for path in sorted(paths):
                if format_of(path) is None:
                    continue
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                if os.path.isfile(path):
                    found[os.path.abspath(path)] = st.st_mtime_ns
        return found

    def close(self) -> None:
        """Close the inotify descriptor."""
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None
            self.fd = None

