"""The instance's log: one line per event, to stderr or to the ``logto`` file.

Every process of an instance writes through :func:`log`; the target is set once at start-up by
:func:`set_target`. Lines are written whole with one ``write`` so processes do not interleave.
:func:`set_date_format` (``log-date``) prefixes those lines with the date, as uWSGI's ``uwsgi_log`` does.

Request log lines are written by :class:`RequestLog`: uWSGI's default line
(``[pid: 1|app: 0|req: 1/1] 127.0.0.1 () {32 vars in 345 bytes} [Sun Nov 22 02:16:45 2026] GET / =>
generated 12 bytes in 0 msecs (HTTP/1.1 200) 2 headers in 79 bytes (1 switches on core 0)``) or a
``log-format`` with uWSGI's ``%(name)`` variables. As in uWSGI, request lines carry no ``log-date`` prefix.
"""
from __future__ import annotations

import os
import sys
import time

_fd: int | None = None  # None: sys.stderr
_date_format: str | None = None  # None: no prefix; "": ctime-style; else a strftime format

#: ``log-date`` values meaning "the default date format" rather than a strftime format.
_DATE_DEFAULTS = frozenset(("", "true", "1", "on", "yes"))
_DATE_OFF = frozenset(("false", "0", "off", "no"))


def set_target(path: str | None) -> None:
    """Send log lines to ``path`` (appended, created 0640), or back to stderr when ``path`` is None."""
    global _fd
    if _fd is not None:
        os.close(_fd)
        _fd = None
    if path:
        _fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)


def set_date_format(value: str | bool | None) -> None:
    """Prefix every :func:`log` line with the date (``log-date``), or stop doing so.

    ``None``/``False`` or false/off/no/0: no prefix. ``True``, ``""`` or true/on/yes/1: uWSGI's default,
    the ``ctime`` date (``Sun Nov 22 02:16:45 2026 - ``). Anything else is a strftime format
    (``%Y-%m-%d %H:%M:%S - ``).
    """
    global _date_format
    if value is None or value is False or (isinstance(value, str) and value.lower() in _DATE_OFF):
        _date_format = None
    elif value is True or value.lower() in _DATE_DEFAULTS:
        _date_format = ""
    else:
        _date_format = value


def log(line: str) -> None:
    """Write one line to the log (with the ``log-date`` prefix when one is set)."""
    text = line.rstrip("\n")
    if _date_format is not None:
        now = time.time()
        date = time.ctime(now) if not _date_format else time.strftime(_date_format, time.localtime(now))
        text = f"{date} - {text}"
    write((text + "\n").encode("utf-8", "backslashreplace"))


def write(data: bytes) -> None:
    """Write ``data`` (whole lines, newline included) to the log target with one ``write``."""
    if _fd is not None:
        os.write(_fd, data)
        return
    stream = sys.stderr
    stream.flush()
    try:
        os.write(stream.fileno(), data)
    except (AttributeError, OSError, ValueError):  # no real fd (captured in tests): use the stream
        stream.write(data.decode("utf-8"))
        stream.flush()


# ---------------------------------------------------------------------------------------------------
# Request log lines
# ---------------------------------------------------------------------------------------------------


class RequestRecord:
    """What a request log line can say about one served request; the worker loop fills one per request.

    ``vars`` holds the request's CGI variables as received (``REQUEST_METHOD``, ``REQUEST_URI``,
    ``REMOTE_ADDR``, ``HTTP_*``...); ``start`` and ``end`` are epoch seconds; ``size`` counts body bytes,
    ``hsize`` the bytes of the status line and headers, ``headers`` the application's headers;
    ``total_requests`` is the whole instance's count, ``app_requests`` the app's in this worker.
    """

    __slots__ = ("vars", "pid", "wid", "core", "app_id", "app_requests", "total_requests", "modifier1",
                 "modifier2", "start", "end", "status", "size", "hsize", "headers", "switches", "sendfile",
                 "logvars")

    def __init__(self, vars: dict, pid: int, wid: int, core: int, app_id: int, app_requests: int,
                 total_requests: int, modifier1: int, modifier2: int, start: float, end: float,
                 status: int, size: int, hsize: int, headers: int, switches: int, sendfile: bool = False,
                 logvars: dict | None = None):
        self.logvars = logvars
        self.vars = vars
        self.pid = pid
        self.wid = wid
        self.core = core
        self.app_id = app_id
        self.app_requests = app_requests
        self.total_requests = total_requests
        self.modifier1 = modifier1
        self.modifier2 = modifier2
        self.start = start
        self.end = end
        self.status = status
        self.size = size
        self.hsize = hsize
        self.headers = headers
        self.switches = switches
        self.sendfile = sendfile

    @property
    def var_count(self) -> int:
        """uWSGI's var count: keys and values each count, so a request with 16 variables has 32."""
        return 2 * len(self.vars)

    @property
    def packet_size(self) -> int:
        """Bytes the variables take in a uwsgi packet (2-byte lengths before every key and value)."""
        return 4 * len(self.vars) + sum(map(len, self.vars)) + sum(map(len, self.vars.values()))

    @property
    def micros(self) -> int:
        """The request's duration in microseconds (0 if the clock went backwards)."""
        return max(0, int((self.end - self.start) * 1_000_000))


_ctime_cache: tuple[int, str] = (0, "")


def _ctime(seconds: float) -> str:
    """``time.ctime(seconds)``, cached for the current second (one request line per request)."""
    global _ctime_cache
    whole = int(seconds)
    cached_second, text = _ctime_cache
    if cached_second != whole:
        text = time.ctime(whole)
        _ctime_cache = (whole, text)
    return text


_DEFAULT_LINE = ("[pid: %d|app: %d|req: %d/%d] %s (%s) {%d vars in %d bytes} [%s] %s %s => generated %d bytes "
                 "in %d msecs%s(%s %d) %d headers in %d bytes (%d switches on core %d)")


def default_request_line(r: RequestRecord) -> str:
    """uWSGI's default request log line for ``r``, without its newline."""
    get = r.vars.get
    return _DEFAULT_LINE % (
        r.pid, r.app_id, r.app_requests, r.total_requests, get("REMOTE_ADDR", ""), get("REMOTE_USER", ""),
        r.var_count, r.packet_size, _ctime(r.start), get("REQUEST_METHOD", ""), get("REQUEST_URI", ""), r.size,
        r.micros // 1000, " via sendfile() " if r.sendfile else " ", get("SERVER_PROTOCOL", ""), r.status,
        r.headers, r.hsize, r.switches, r.core)


def _memory() -> tuple[int, int]:
    """This process's (vsz, rss) in bytes, from /proc/self/statm; zeros where it cannot be read."""
    try:
        with open("/proc/self/statm") as f:
            size, resident = f.read().split()[:2]
    except (OSError, ValueError):
        return 0, 0
    page = os.sysconf("SC_PAGE_SIZE")
    return int(size) * page, int(resident) * page


def _host(r: RequestRecord) -> str:
    return r.vars.get("HTTP_HOST") or r.vars.get("SERVER_NAME", "")


def _content_length(r: RequestRecord) -> int:
    value = r.vars.get("CONTENT_LENGTH", "")
    return int(value) if value.isdecimal() else 0


#: ``log-format`` variables (uWSGI's names) and how each is rendered from a record.
LOG_FORMAT_VARS = {
    "uri": lambda r: r.vars.get("REQUEST_URI", ""),
    "method": lambda r: r.vars.get("REQUEST_METHOD", ""),
    "user": lambda r: r.vars.get("REMOTE_USER", ""),
    "addr": lambda r: r.vars.get("REMOTE_ADDR", ""),
    "host": _host,
    "proto": lambda r: r.vars.get("SERVER_PROTOCOL", ""),
    "uagent": lambda r: r.vars.get("HTTP_USER_AGENT", ""),
    "referer": lambda r: r.vars.get("HTTP_REFERER", ""),
    "status": lambda r: str(r.status),
    "rsize": lambda r: str(r.size),
    "hsize": lambda r: str(r.hsize),
    "size": lambda r: str(r.size + r.hsize),
    "cl": lambda r: str(_content_length(r)),
    "micros": lambda r: str(r.micros),
    "msecs": lambda r: str(r.micros // 1000),
    "secs": lambda r: f"{r.micros / 1_000_000:f}",
    "tmsecs": lambda r: str(int(r.start * 1000)),
    "tmicros": lambda r: str(int(r.start * 1_000_000)),
    "time": lambda r: str(int(r.start)),
    "ltime": lambda r: time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(r.start)),
    "ftime": lambda r: time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(r.start)),
    "ctime": lambda r: _ctime(r.start),
    "epoch": lambda r: str(int(time.time())),
    "pid": lambda r: str(r.pid),
    "wid": lambda r: str(r.wid),
    "switches": lambda r: str(r.switches),
    "vars": lambda r: str(r.var_count),
    "core": lambda r: str(r.core),
    "vsz": lambda r: str(_memory()[0]),
    "rss": lambda r: str(_memory()[1]),
    "vszM": lambda r: str(_memory()[0] // 1024 // 1024),
    "rssM": lambda r: str(_memory()[1] // 1024 // 1024),
    "pktsize": lambda r: str(r.packet_size),
    "modifier1": lambda r: str(r.modifier1),
    "modifier2": lambda r: str(r.modifier2),
    "headers": lambda r: str(r.headers),
    "werr": lambda r: "0",
    "rerr": lambda r: "0",
    "ioerr": lambda r: "0",
}


def _request_var(name: str):
    return lambda r: r.vars.get(name, "")


def _logvar(name: str):
    return lambda r: r.logvars.get(name, "") if r.logvars else ""


def compile_log_format(fmt: str) -> list:
    """Split a ``log-format`` into literal strings and renderers (callables taking a record).

    ``%(name)`` is one of :data:`LOG_FORMAT_VARS`, ``%(var.NAME)`` the request variable NAME; any other
    name is a logvar the app set with ``uwsgi.set_logvar`` (uWSGI's metrics are not there); a missing or
    empty value renders as ``-``. A ``%`` not followed by ``(`` is literal text.
    """
    parts: list = []
    pos = 0
    while True:
        start = fmt.find("%(", pos)
        end = fmt.find(")", start + 2) if start >= 0 else -1
        if end < 0:
            if fmt[pos:]:
                parts.append(fmt[pos:])
            return parts
        if start > pos:
            parts.append(fmt[pos:start])
        name = fmt[start + 2:end]
        if name.startswith("var."):
            parts.append(_request_var(name[4:]))
        else:
            parts.append(LOG_FORMAT_VARS.get(name) or _logvar(name))
        pos = end + 1


class RequestLog:
    """Writes request log lines: uWSGI's default line, or the compiled ``log_format`` when given."""

    def __init__(self, log_format: str | None = None):
        self.parts = compile_log_format(log_format) if log_format else None

    def format(self, record: RequestRecord) -> str:
        """The log line for ``record``, without its newline."""
        if self.parts is None:
            return default_request_line(record)
        out = []
        for part in self.parts:
            if type(part) is str:
                out.append(part)
            else:
                out.append(part(record) or "-")
        return "".join(out)

    def write(self, record: RequestRecord) -> None:
        """Write the line for ``record`` to the log (request lines carry no ``log-date`` prefix).

        A log that cannot be written to (a full disk, a closed pipe) does not fail the request.
        """
        try:
            write((self.format(record) + "\n").encode("utf-8", "backslashreplace"))
        except OSError:
            pass
