"""The uwsgi binary protocol.

A packet is a 4-byte header — ``modifier1`` (u8), ``datasize`` (u16 little-endian), ``modifier2`` (u8) —
followed by ``datasize`` bytes of payload. For a WSGI request (modifier1 0) the payload is a block of
vars, each ``u16le keylen, key, u16le vallen, value``; the request body (``CONTENT_LENGTH`` bytes)
follows the packet and is not counted in ``datasize``. RPC (modifier1 173) carries an array instead:
``u16le len, bytes`` repeated. The reply to a WSGI request is raw HTTP, with no uwsgi header.

Parsing takes ``bytes``, ``bytearray`` or ``memoryview``; keys and values come out as latin-1 ``str``
(the "native strings" PEP 3333 wants), so any byte survives the round trip — or, with ``raw=True``, as
``bytes`` (the spooler's dicts, which spool files carry in the same encoding).
"""
from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Mapping

from . import ConnectionClosed, ProtocolError

__all__ = [
    "HEADER_SIZE",
    "MAX_PAYLOAD",
    "parse_header",
    "parse_vars",
    "encode_vars",
    "encode_vars_py",
    "encode_packet",
    "parse_vars_py",
    "build_packet",
    "encode_array",
    "decode_array",
    "read_packet",
]

#: Size of a packet header: modifier1, datasize, modifier2.
HEADER_SIZE = 4
#: Largest payload a header can describe (datasize is 16 bits).
MAX_PAYLOAD = 0xFFFF

try:  # the optional C vars codec; it returns None for what it leaves to the Python (a malformed block...)
    from ._speedups import encode_vars as _encode_vars_c, parse_vars as _parse_vars_c
except ImportError:  # no compiler at install time: the Python versions serve
    _encode_vars_c = _parse_vars_c = None

_HEADER = struct.Struct("<BHB")
_LEN = struct.Struct("<H")


def parse_header(data) -> tuple[int, int, int]:
    """Decode a packet header from the first 4 bytes of ``data``: ``(modifier1, datasize, modifier2)``.

    >>> parse_header(b"\\x00\\x10\\x02\\x00")
    (0, 528, 0)

    Raises :class:`ProtocolError` when ``data`` is shorter than a header.
    """
    if len(data) < HEADER_SIZE:
        raise ProtocolError(f"truncated uwsgi header ({len(data)} of 4 bytes)")
    return _HEADER.unpack_from(data)


def parse_vars(buf, max_vars: int = 64, raw: bool = False) -> dict:
    """Decode a vars block into a dict of latin-1 ``str`` (of ``bytes`` when ``raw``); a repeated key keeps
    its last value.

    Raises :class:`ProtocolError` for an empty key, a var running past the end of ``buf``, or more
    than ``max_vars`` distinct vars (uWSGI's ``max-vars``). Empty values are valid (nginx sends
    ``CONTENT_LENGTH`` and ``CONTENT_TYPE`` empty on a GET).

    This is the hot path of every nginx request: the C version (``_speedups``, built at install when a
    compiler is there) does it in one pass; :func:`parse_vars_py` is the reference and the fallback.
    """
    if _parse_vars_c is None:
        return parse_vars_py(buf, max_vars, raw)
    environ = _parse_vars_c(buf, max_vars, raw)
    if environ is None:
        _check_vars(buf, max_vars)
    return environ


def parse_vars_py(buf, max_vars: int = 64, raw: bool = False) -> dict:
    """:func:`parse_vars` in Python: the reference the C version is tested against, and the fallback."""
    # Decode once; latin-1 maps byte offsets to character offsets, so the str is sliced directly.
    # The loop checks nothing per var: a block that does not end exactly at its end, or has an empty
    # key or too many vars, goes to _check_vars for the precise error.
    text = bytes(buf) if raw else str(buf, "latin-1")
    end = len(buf)
    environ: dict = {}
    pos = 0
    try:
        while pos < end:
            key = pos + 2
            pos = key + (buf[pos] | buf[pos + 1] << 8)
            name = text[key:pos]
            value = pos + 2
            pos = value + (buf[pos] | buf[pos + 1] << 8)
            environ[name] = text[value:pos]
    except IndexError:
        pos = -1
    if pos != end or text[:0] in environ or len(environ) > max_vars:
        _check_vars(buf, max_vars)
    return environ


def _check_vars(buf, max_vars: int) -> None:
    """Walk a vars block var by var and raise the :class:`ProtocolError` that describes what is wrong."""
    end = len(buf)
    pos = 0
    seen: set[bytes] = set()
    while pos < end:
        key = pos + 2
        if key > end:
            break
        key_end = key + (buf[pos] | buf[pos + 1] << 8)
        value = key_end + 2
        if key_end == key:
            raise ProtocolError(f"empty uwsgi var key at offset {pos}")
        if value > end:
            break
        value_end = value + (buf[key_end] | buf[key_end + 1] << 8)
        if value_end > end:
            break
        seen.add(bytes(buf[key:key_end]))
        if len(seen) > max_vars:
            raise ProtocolError(f"too many uwsgi vars (max-vars is {max_vars})")
        pos = value_end
    raise ProtocolError(f"truncated uwsgi var at offset {pos}")


def _as_bytes(item: str | bytes, what: str) -> bytes:
    """``item`` as bytes (a ``str`` is encoded latin-1), refusing one longer than a u16 length allows, or
    one that is neither ``str`` nor a bytes-like object (``bytes(5)`` would be five NULs)."""
    if isinstance(item, str):
        data = item.encode("latin-1")
    elif isinstance(item, (bytes, bytearray, memoryview)):
        data = bytes(item)
    else:
        raise TypeError(f"uwsgi {what} must be str or bytes, not {type(item).__name__}")
    if len(data) > MAX_PAYLOAD:
        raise ValueError(f"uwsgi {what} of {len(data)} bytes is longer than {MAX_PAYLOAD}")
    return data


def encode_vars(variables: Mapping[str | bytes, str | bytes], raw: bool = False) -> bytes:
    """Encode a mapping as a vars block; keys and values are ``bytes`` or latin-1 ``str`` (only ``bytes``
    when ``raw``: anything else raises ``TypeError``, and nothing is converted).

    Raises ``ValueError`` for an empty key or a key or value over 65535 bytes. The C version
    (``_speedups``) encodes a dict of ``bytes`` and latin-1 ``str``; :func:`encode_vars_py` the rest.
    """
    if _encode_vars_c is not None:
        block = _encode_vars_c(variables, raw, None, 0)
        if block is not None:
            return block
    return encode_vars_py(variables, raw)


def encode_packet(modifier1: int, variables: Mapping[str | bytes, str | bytes], modifier2: int = 0,
                  raw: bool = False) -> bytes:
    """``build_packet(modifier1, encode_vars(variables, raw), modifier2)``, in one step with the C codec.

    Raises what those two raise: ``ValueError`` for a bad item, a payload over 65535 bytes or a
    modifier that is not a byte, ``TypeError`` for an item that is not ``bytes`` when ``raw``.
    """
    if _encode_vars_c is not None:
        packet = _encode_vars_c(variables, raw, modifier1, modifier2)
        if packet is not None:
            return packet
    return build_packet(modifier1, encode_vars_py(variables, raw), modifier2)


def encode_vars_py(variables: Mapping[str | bytes, str | bytes], raw: bool = False) -> bytes:
    """:func:`encode_vars` in Python: the reference the C version is tested against, and the fallback."""
    pack = _LEN.pack
    parts = []
    for key, value in variables.items():
        if raw and not (isinstance(key, bytes) and isinstance(value, bytes)):
            raise TypeError(f"uwsgi vars must be bytes here, not {type(key).__name__}: {type(value).__name__}")
        k = _as_bytes(key, "key")
        if not k:
            raise ValueError("uwsgi var keys cannot be empty")
        v = _as_bytes(value, "value")
        parts += (pack(len(k)), k, pack(len(v)), v)
    return b"".join(parts)


def build_packet(modifier1: int, payload: bytes = b"", modifier2: int = 0) -> bytes:
    """A whole packet: the header for ``payload`` followed by ``payload``.

    Raises ``ValueError`` when a modifier is not a byte or ``payload`` exceeds 65535 bytes.
    """
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"uwsgi payload of {len(payload)} bytes is longer than {MAX_PAYLOAD}")
    try:
        return _HEADER.pack(modifier1, len(payload), modifier2) + payload
    except struct.error:
        raise ValueError(f"uwsgi modifiers must be 0-255, not {modifier1!r}, {modifier2!r}") from None


def encode_array(items: Iterable[str | bytes]) -> bytes:
    """Encode items as an array (``u16le len, bytes`` each), as RPC requests carry their arguments.

    Items are ``bytes`` or latin-1 ``str``; empty items are allowed. Raises ``ValueError`` for an
    item over 65535 bytes.
    """
    pack = _LEN.pack
    parts = []
    for item in items:
        data = _as_bytes(item, "array item")
        parts += (pack(len(data)), data)
    return b"".join(parts)


def decode_array(buf) -> list[bytes]:
    """Decode an array block into its items; raises :class:`ProtocolError` if one is truncated."""
    data = bytes(buf)
    end = len(data)
    items = []
    pos = 0
    while pos < end:
        start = pos + 2
        if start > end:
            raise ProtocolError(f"truncated uwsgi array length at offset {pos}")
        pos = start + (data[start - 2] | data[start - 1] << 8)
        if pos > end:
            raise ProtocolError(f"truncated uwsgi array item at offset {start - 2}")
        items.append(data[start:pos])
    return items


def read_packet(
    sock: socket.socket, buffer_size: int = 4096, timeout: float | None = None
) -> tuple[int, int, bytes, bytes]:
    """Read one packet from ``sock``: ``(modifier1, modifier2, payload, leftover)``.

    ``leftover`` holds bytes read past the packet (the start of the request body). A ``datasize``
    over ``buffer_size`` is refused with :class:`ProtocolError` ("invalid request block size"), as
    uWSGI's ``buffer-size`` does. End of stream before a whole packet raises
    :class:`ConnectionClosed` (``clean`` when nothing at all arrived). ``timeout``, when given, is set
    on the socket first; socket errors, timeouts included, propagate as ``OSError``.
    """
    if timeout is not None:
        sock.settimeout(timeout)
    read_size = buffer_size + HEADER_SIZE  # the largest valid packet in one system call
    data = sock.recv(read_size)
    if not data:
        raise ConnectionClosed("connection closed before a uwsgi packet", clean=True)
    while len(data) < HEADER_SIZE:
        more = sock.recv(read_size)
        if not more:
            raise ConnectionClosed("connection closed inside a uwsgi header")
        data += more
    modifier1, size, modifier2 = _HEADER.unpack_from(data)
    if size > buffer_size:
        raise ProtocolError(f"invalid request block size: {size} (buffer-size is {buffer_size})")
    end = HEADER_SIZE + size
    if len(data) < end:
        parts = [data]
        missing = end - len(data)
        while missing:
            more = sock.recv(missing)
            if not more:
                raise ConnectionClosed(f"connection closed inside a uwsgi packet ({missing} bytes missing)")
            parts.append(more)
            missing -= len(more)
        return modifier1, modifier2, b"".join(parts)[HEADER_SIZE:], b""
    return modifier1, modifier2, data[HEADER_SIZE:end], data[end:]
