"""HTTP/1.0 and HTTP/1.1 requests: heads in, CGI/WSGI variables out; response heads out as bytes.

:func:`read_head` reads up to the blank line that ends a request head, :func:`parse_head` turns the
head into the CGI variables of PEP 3333 plus the three facts the worker needs to frame the exchange
(keep-alive, ``Expect: 100-continue``, chunked body), and :func:`response_head` builds the status
line and headers of the reply as one ``bytes`` object and decides how its body is framed.

Header names are validated and mapped to their environ key once per distinct spelling and cached, so
a request costs one dict lookup per header. Headers whose name contains ``_`` are dropped: they would
otherwise be indistinguishable from (and could spoof) a header spelled with ``-``.
"""
from __future__ import annotations

import re
import socket
from functools import partial

from . import ConnectionClosed, ProtocolError

try:  # the optional C versions of parse_head and response_head, for common clean heads
    from ._speedups import parse_head as _parse_head_c, response_head as _response_head_c
except ImportError:  # no compiler at install time: the Python versions serve
    _parse_head_c = _response_head_c = None

__all__ = [
    "CONTINUE_100",
    "read_head",
    "parse_head",
    "response_head",
    "ResponseError",
]

#: The interim response sent before reading a body announced with ``Expect: 100-continue``.
CONTINUE_100 = b"HTTP/1.1 100 Continue\r\n\r\n"

# Controls other than tab and LF (CR included: one left once CRLF became LF was bare): never valid.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROLS = bytes(c for c in range(32) if c != 9) + b"\x7f"  # every control but tab
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(r"HTTP/[0-9]\.[0-9]")
_KNOWN_VERSIONS = frozenset(("HTTP/1.1", "HTTP/1.0"))

# Header name as sent -> environ key ("" = dropped); method -> True. Bounded so junk cannot grow them.
_CACHE_LIMIT = 1024
_header_keys: dict[str, str] = {}
_methods: dict[str, bool] = dict.fromkeys(("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"), True)


def _header_key(name: str) -> str:
    """The environ key for header ``name`` ("" to drop it), validating the name; cached."""
    if not _TOKEN.fullmatch(name):
        raise ProtocolError(f"invalid header name {name!r}")
    if "_" in name:
        key = ""
    else:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            key = "HTTP_" + key
    if len(_header_keys) < _CACHE_LIMIT:
        _header_keys[name] = key
    return key


def _check_method(method: str) -> None:
    """Refuse a method that is not an HTTP token; valid ones are cached."""
    if not _TOKEN.fullmatch(method):
        raise ProtocolError(f"invalid request method {method!r}")
    if len(_methods) < _CACHE_LIMIT:
        _methods[method] = True


def _find_end(buf, start: int, crlf: bool) -> int:
    """Index just past the blank line ending a head in ``buf`` (searching from ``start``), or -1.

    ``crlf`` tells how the request line ended. After a CRLF only ``\r\n\r\n`` ends the head (a
    stray ``\n\n`` inside it is then refused by :func:`parse_head`); after a bare LF, the first
    empty line does, whether it ends in LF or CRLF.
    """
    if crlf:
        end = buf.find(b"\r\n\r\n", start)
        return end + 4 if end >= 0 else -1
    cr_lf = buf.find(b"\n\r\n", start)
    lf = buf.find(b"\n\n", start, cr_lf + 2 if cr_lf >= 0 else len(buf))
    if lf >= 0:
        return lf + 2
    return cr_lf + 3 if cr_lf >= 0 else -1


def read_head(
    sock: socket.socket, buffer_size: int = 4096, max_head: int = 65536, *, data: bytes = b""
) -> tuple[bytes, bytes]:
    """Read a request head from ``sock``: ``(head, leftover)``.

    ``data`` is what was already read (a keep-alive connection's surplus); more is read from ``sock``
    ``buffer_size`` bytes at a time only while no head is complete. ``head`` runs through the blank
    line (``\r\n\r\n``, or a bare ``\n\n``) and ``leftover`` is whatever followed it. Empty lines
    before the request line are skipped (RFC 9112 §2.2). A head longer than ``max_head`` raises
    :class:`ProtocolError` with status 431; end of stream raises :class:`ConnectionClosed` (``clean``
    when no byte of a request had arrived).
    """
    buf = data
    if not buf:
        # The common case: one read holds a whole head whose request line ends in CRLF.
        buf = sock.recv(buffer_size)
        first = buf.find(b"\n")
        if first > 1 and buf[first - 1] == 13 and buf[0] != 13:
            end = buf.find(b"\r\n\r\n", first - 1)
            if 0 <= end <= max_head - 4:
                return buf[:end + 4], buf[end + 4:]
        if not buf:
            raise ConnectionClosed("connection closed before a request", clean=True)
    start = 0  # where the next search starts: earlier bytes were already searched
    crlf = None  # unknown until the request line's end arrived
    while True:
        if crlf is None:
            if buf[:1] in (b"\r", b"\n"):
                buf = buf.lstrip(b"\r\n")
                start = 0
            first = buf.find(b"\n", start)
            if first >= 0:
                crlf = first > 0 and buf[first - 1] == 13
                start = 0
        if crlf is not None:
            end = _find_end(buf, start, crlf)
            if end >= 0:
                if end > max_head:
                    break
                return bytes(buf[:end]), bytes(buf[end:])
        if len(buf) >= max_head:
            break
        more = sock.recv(buffer_size)
        if not more:
            raise ConnectionClosed(
                "connection closed inside a request head" if buf else "connection closed before a request",
                clean=not buf,
            )
        if buf:
            start = max(len(buf) - 3, 0)  # a terminator may straddle two reads
            if type(buf) is bytes:
                buf = bytearray(buf)  # growing a bytearray stays linear however small the reads
            buf += more
        else:
            buf = more
    raise ProtocolError(f"request head larger than {max_head} bytes", 431)


def parse_head_py(head: bytes) -> tuple[dict[str, str], bool, bool, bool]:
    """Parse a request head into ``(environ, keep_alive, expect_continue, chunked)``.

    ``environ`` holds ``REQUEST_METHOD``, ``REQUEST_URI`` (the target as sent), ``PATH_INFO``
    (percent-decoded, as a latin-1 ``str``), ``QUERY_STRING``, ``SERVER_PROTOCOL``, ``CONTENT_TYPE``
    and ``CONTENT_LENGTH`` (only when sent; the length normalised to plain digits), and ``HTTP_*``
    for every other header (repeats joined with ``", "``, cookies with ``"; "``). ``keep_alive``
    follows the version and the ``Connection`` header. The head may end with its blank line or not.

    Raises :class:`ProtocolError` with status 400 for a malformed request line or header, a repeated
    Host, a bad or conflicting Content-Length, Content-Length together with Transfer-Encoding, or Transfer-Encoding
    on HTTP/1.0; 501 for a transfer coding other than ``chunked``; 505 for an HTTP version other than
    1.0 and 1.1.
    """
    text = str(head, "latin-1").rstrip("\r\n")
    lines = text.split("\r\n")
    # Fast check: the controls in the head must be exactly the CRLFs just split on and the ones
    # stripped off the end. Anything else (bare LF line ends, stray controls) takes the slow path.
    if len(head) - len(head.translate(None, _CONTROLS)) != 2 * len(lines) - 2 + len(head) - len(text):
        text = text.replace("\r\n", "\n")
        if _BAD_CHARS.search(text):
            raise ProtocolError("control character in request head")
        lines = text.split("\n")

    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise ProtocolError(f"malformed request line {lines[0][:100]!r}") from None
    if "\t" in target:
        raise ProtocolError(f"tab in request target {target[:100]!r}")
    if method not in _methods:
        _check_method(method)
    if version not in _KNOWN_VERSIONS:
        if _VERSION.fullmatch(version):
            raise ProtocolError(f"HTTP version {version} not supported", 505)
        raise ProtocolError(f"malformed HTTP version {version[:20]!r}")

    environ = {"REQUEST_METHOD": method, "REQUEST_URI": target, "SERVER_PROTOCOL": version}
    keys = _header_keys
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise ProtocolError(f"header line without ':' {line[:100]!r}")
        key = keys.get(name)
        if key is None:
            key = _header_key(name)
        if not key:
            continue
        value = value.strip(" \t")
        if key in environ:
            if key == "HTTP_HOST":
                raise ProtocolError("repeated Host header")
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ", ") + value
        environ[key] = value

    _split_target(environ, target)

    length = environ.get("CONTENT_LENGTH")
    if length is not None:
        environ["CONTENT_LENGTH"] = _content_length(length)
    chunked = False
    coding = environ.get("HTTP_TRANSFER_ENCODING")
    if coding is not None:
        chunked = _is_chunked(coding, version, length is not None)

    connection = environ.get("HTTP_CONNECTION")
    if version == "HTTP/1.1":
        keep_alive = connection is None or not _has_token(connection, "close")
        expect = environ.get("HTTP_EXPECT")
        expect_continue = expect is not None and expect.lower() == "100-continue"
    else:
        keep_alive = connection is not None and _has_token(connection, "keep-alive")
        expect_continue = False
    return environ, keep_alive, expect_continue, chunked


def _split_target(environ: dict[str, str], target: str) -> None:
    """Set PATH_INFO and QUERY_STRING from a request target (origin, absolute or asterisk form)."""
    if "#" in target:
        target = target.partition("#")[0]
    path, _, query = target.partition("?")
    if path[:1] != "/":
        scheme, sep, rest = path.partition("://")
        if sep and scheme.lower() in ("http", "https"):
            authority, slash, path = rest.partition("/")
            if not authority:
                raise ProtocolError(f"request target without a host {target[:100]!r}")
            environ["HTTP_HOST"] = authority  # RFC 9112 §3.2.2: the target's authority wins
            path = slash + path or "/"
        elif path != "*" or query:
            raise ProtocolError(f"invalid request target {target[:100]!r}")
    if "%" in path:
        from urllib.parse import unquote_to_bytes  # here: urllib.parse costs ~2 ms at every start-up

        path = unquote_to_bytes(path.encode("latin-1")).decode("latin-1")
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = query


def _content_length(value: str) -> str:
    """Validate a Content-Length value (repeats must agree) and return it as plain digits."""
    if "," in value:
        values = {v.strip(" \t") for v in value.split(",")}
        if len(values) != 1:
            raise ProtocolError(f"conflicting Content-Length values {value[:100]!r}")
        value = values.pop()
    if not (value.isdigit() and value.isascii()):
        raise ProtocolError(f"invalid Content-Length {value[:100]!r}")
    value = value.lstrip("0") or "0"
    if len(value) > 18:
        raise ProtocolError(f"Content-Length {value[:30]}... out of range")
    return value


def _is_chunked(coding: str, version: str, has_length: bool) -> bool:
    """Validate a Transfer-Encoding value; true when the body is chunked (the only coding we decode)."""
    if has_length:
        raise ProtocolError("both Content-Length and Transfer-Encoding")
    if version != "HTTP/1.1":
        raise ProtocolError(f"Transfer-Encoding in an {version} request")
    codings = [c.strip(" \t") for c in coding.lower().split(",")]
    if codings == ["chunked"]:
        return True
    if codings[-1] == "chunked":
        raise ProtocolError(f"unsupported Transfer-Encoding {coding[:100]!r}", 501)
    raise ProtocolError(f"Transfer-Encoding {coding[:100]!r} does not end with chunked")


def _has_token(value: str, token: str) -> bool:
    """Whether the comma-separated header ``value`` lists ``token`` (lower case), ignoring case."""
    value = value.lower()
    return value == token or ("," in value and token in {t.strip(" \t") for t in value.split(",")})


class ResponseError(ValueError):
    """The application's response breaks WSGI (bad status, bad headers, non-bytes body)."""


#: Status lines already validated, with their code ("200 OK" -> 200); bounded.
_STATUS_CODES: dict[str, int] = {}
#: Response header names as applications spell them -> what framing needs to know of them:
#: 0 nothing, 1 Content-Length, 2 Connection, 3 Transfer-Encoding; bounded.
_NAME_KINDS: dict[str, int] = {}
_FRAMING_HEADERS = {"content-length": 1, "connection": 2, "transfer-encoding": 3}


def _status_code(status) -> int:
    """The code of a WSGI status ("404 Not Found" -> 404); ResponseError when it is not a valid status."""
    if type(status) is str and len(status) >= 3 and (len(status) == 3 or status[3] == " ") \
            and status[:3].isdigit() and status[:3].isascii():
        code = int(status[:3])
        if len(_STATUS_CODES) < _CACHE_LIMIT:
            _STATUS_CODES[status] = code
        return code
    if status is None:
        raise ResponseError("the application sent a body without calling start_response()")
    raise ResponseError(f"invalid response status {status!r:.100}")


def _name_kind(name, value) -> int:
    """What framing needs to know of response header ``name`` (see ``_NAME_KINDS``), validating the
    pair's types; ResponseError when either is not a str."""
    if type(name) is not str or type(value) is not str:
        raise ResponseError(f"response header {(name, value)!r:.200} is not a pair of str")
    kind = _FRAMING_HEADERS.get(name.lower(), 0)
    if len(_NAME_KINDS) < _CACHE_LIMIT:
        _NAME_KINDS[name] = kind
    return kind


def response_head_py(protocol: str, status, headers, length: int | None, reusable: bool, http: bool,
                     head_only: bool) -> tuple[bytes, int, int, int | None, bool, bool, bool]:
    """Build a response head and decide its framing: ``(head, code, header_count, declared, chunked,
    keep_alive, send_body)``.

    ``protocol`` starts the status line (the request's); ``status`` and ``headers`` are the WSGI
    application's; ``length`` is the whole body's size when known. ``reusable`` says whether the
    connection may stay open, ``http`` whether it is an HTTP socket (where a closing response says
    ``Connection: close``; a uwsgi-protocol peer such as nginx needs no such header), ``head_only``
    whether the request was HEAD. A response with its own Content-Length keeps it (``declared``); on a
    reusable connection one without gets ``Content-Length`` when ``length`` is known, else chunked
    framing on HTTP/1.1 (``chunked``), else the close ends it. ``keep_alive`` is false when the response
    ends the connection (it asked to, it has its own Transfer-Encoding, or its length is unreadable);
    ``send_body`` is false for HEAD and for the statuses without a body (1xx, 204, 304).

    Raises :class:`ResponseError` for a status or header that is not a str, a malformed status, a CR or
    LF inside the status or a header (which would split the response), or a character outside latin-1.
    """
    code = _STATUS_CODES.get(status) if type(status) is str else None
    if code is None:
        code = _status_code(status)
    if type(headers) is not list:
        raise ResponseError(f"response headers must be a list, not {type(headers).__name__}")
    parts = [protocol, " ", status]
    declared = connection = None
    coded = False
    kinds = _NAME_KINDS
    for item in headers:
        if type(item) is not tuple or len(item) != 2:
            raise ResponseError(f"response header {item!r:.200} is not a (name, value) tuple")
        name, value = item
        kind = kinds.get(name) if type(name) is str else None
        if kind is None:
            kind = _name_kind(name, value)
        if kind:
            if kind == 1:
                declared = value
            elif kind == 2:
                connection = value.lower() if type(value) is str else value
            else:
                coded = True
        parts += ("\r\n", name, ": ", value)
    count = lines = len(headers)
    bodiless = code < 200 or code == 204 or code == 304
    keep = reusable and connection != "close" and not coded
    chunked = False
    if declared is not None:
        try:
            declared = int(declared)
        except (ValueError, TypeError):
            declared = None
            keep = False  # a length nobody can trust: let the close delimit the body
    elif keep and not bodiless and not head_only:
        if length is not None:
            parts += ("\r\nContent-Length: ", str(length))
            declared = length
            lines += 1
        elif protocol == "HTTP/1.1":
            parts.append("\r\nTransfer-Encoding: chunked")
            chunked = True
            lines += 1
        else:
            keep = False
    if http and connection is None:
        if not keep:
            parts.append("\r\nConnection: close\r\n\r\n")
            lines += 1
        elif protocol == "HTTP/1.0":
            parts.append("\r\nConnection: keep-alive\r\n\r\n")
            lines += 1
        else:
            parts.append("\r\n\r\n")
    else:
        parts.append("\r\n\r\n")
    try:
        text = "".join(parts)
    except TypeError:
        raise ResponseError(f"response header value is not a str in {headers!r:.200}") from None
    if text.count("\n") != lines + 2 or text.count("\r") != lines + 2:
        raise ResponseError(f"CR or LF inside the response status or a header: {text[:200]!r}")
    try:
        head = text.encode("latin-1")
    except UnicodeEncodeError:
        raise ResponseError(f"response status or header is not latin-1: {text[:200]!r}") from None
    return head, code, count, declared, chunked, keep, not head_only and not bodiless


# The entry points. With the optional ``_speedups`` extension built, its C functions take the common,
# clean heads and responses and hand every other to the Python reference themselves: one call either way.
if _parse_head_c is not None:
    #: Parse a request head: :func:`parse_head_py`'s result (C for common clean heads).
    parse_head = partial(_parse_head_c, parse_head_py)
    #: Build a response head and its framing: :func:`response_head_py`'s result (C for common clean responses).
    response_head = partial(_response_head_c, response_head_py)
else:
    parse_head = parse_head_py
    response_head = response_head_py
