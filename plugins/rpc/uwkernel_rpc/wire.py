"""RPC over the uwsgi protocol (modifier1 173): the server side of a worker and the client of ``uwsgi.rpc``.

Request: ``header(173, len, modifier2) + array [name, arg1, ...]`` (payload at most 65535 bytes).
Reply by ``modifier2`` (uWSGI's, facts §1):

* 0: ``header(173, len(result), 0) + result``; a result over 65535 bytes is sent as
  ``header(173, len(dict), 5) + dict {CONTENT_LENGTH: n} + result``;
* 2: HTTP mode: the payload is a vars block, ``PATH_INFO`` is ``/name/arg1/arg2``, the reply is HTTP
  (200 with the result, 404 when there is none, 500 without a function name);
* any other value (1: raw): the result alone.

No result (an unknown function, ``None`` or empty bytes, a function that raised): the connection is
closed without a reply, which callers read as ``None``.
"""
from __future__ import annotations

import socket
import struct

from uwkernel import log
from uwkernel.proto import ConnectionClosed, ProtocolError
from uwkernel.proto.uwsgi import (HEADER_SIZE, MAX_PAYLOAD, build_packet, decode_array, encode_array,
                                  encode_vars, parse_header, parse_vars)

from . import MODIFIER1
from .registry import MAX_ARGS, REGISTRY, as_bytes, function_name

#: modifier2 of a reply whose payload is a vars dict announcing a long raw result.
MODIFIER2_LONG = 5
MODIFIER2_HTTP = 2
_HEADER = struct.Struct("<BHB")


def _call_logged(name: bytes, args: list[bytes]) -> bytes | None:
    """Run a function for a remote caller: a raising function is logged and gives no result."""
    try:
        return REGISTRY.call(name, args)
    except Exception:
        import traceback  # here: only a failing function needs it

        log.log(f"rpc function {name!r} raised:\n{traceback.format_exc().rstrip()}")
        return None


def make_handler(config):
    """The request handler of modifier1 173 for a worker (the ``RequestHandler`` factory)."""

    def handle(conn: socket.socket, modifier1: int, modifier2: int, payload: bytes, leftover: bytes) -> int:
        """Serve one RPC request on ``conn``; return the number of bytes sent."""
        if not payload:
            log.log("Empty RPC request. skip.")
            return 0
        if modifier2 == MODIFIER2_HTTP:
            return _serve_http(conn, payload)
        try:
            items = decode_array(payload)
            name = function_name(items[0]) if items else b""
        except (ProtocolError, ValueError):
            log.log("Invalid RPC request. skip.")
            return 0
        if not name:
            log.log("Invalid RPC request. skip.")
            return 0
        result = _call_logged(name, items[1:])
        if result is None:
            return 0
        if modifier2 == 0:
            if len(result) > MAX_PAYLOAD:
                announce = encode_vars({"CONTENT_LENGTH": str(len(result))})
                head = build_packet(MODIFIER1, announce, MODIFIER2_LONG)
            else:
                head = _HEADER.pack(MODIFIER1, len(result), 0)
            conn.sendall(head)
            conn.sendall(result)
            return len(head) + len(result)
        conn.sendall(result)
        return len(result)

    return handle


def _serve_http(conn: socket.socket, payload: bytes) -> int:
    """HTTP mode (modifier2 2): ``PATH_INFO`` names the function and its arguments."""
    try:
        environ = parse_vars(payload)
    except ProtocolError:
        log.log("Invalid RPC request. skip.")
        return 0
    protocol = environ.get("SERVER_PROTOCOL") or "HTTP/1.0"
    parts = [part.encode("latin-1") for part in environ.get("PATH_INFO", "").split("/") if part]
    if not parts:
        return _send_http(conn, protocol, "500 Internal Server Error", b"Internal Server Error", "text/plain")
    result = _call_logged(parts[0], parts[1:])
    if result is None:
        return _send_http(conn, protocol, "404 Not Found", b"Not Found", "text/plain")
    accept = environ.get("HTTP_ACCEPT", "")
    ctype = "application/binary" if accept in ("", "*", "*/*") else accept
    return _send_http(conn, protocol, "200 OK", result, ctype)


def _send_http(conn: socket.socket, protocol: str, status: str, body: bytes, ctype: str) -> int:
    head = (f"{protocol} {status}\r\nContent-Length: {len(body)}\r\nContent-Type: {ctype}\r\n"
            "Connection: close\r\n\r\n").encode("latin-1")
    conn.sendall(head)
    conn.sendall(body)
    return len(head) + len(body)


# -- the client ------------------------------------------------------------------------------------


def _connect(node: str, timeout: float) -> socket.socket:
    """A connection to ``node``: ``host:port`` (an empty host is 127.0.0.1) or a unix socket path."""
    if ":" in node and not node.startswith(("/", ".")):
        host, _, port = node.rpartition(":")
        sock = socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect("\0" + node[1:] if node.startswith("@") else node)
    except OSError:
        sock.close()
        raise
    return sock


def _read_exact(sock: socket.socket, size: int, clean_ok: bool = False) -> bytes:
    """Exactly ``size`` bytes; ConnectionClosed when the stream ends first."""
    parts, missing = [], size
    while missing:
        chunk = sock.recv(min(missing, 1 << 20))
        if not chunk:
            raise ConnectionClosed("rpc connection closed early", clean=clean_ok and missing == size)
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)


def request_packet(name, args) -> bytes:
    """The request packet calling ``name(*args)`` (``ValueError`` when too long or too many arguments)."""
    if len(args) > MAX_ARGS:
        raise ValueError(f"an rpc call carries at most {MAX_ARGS} arguments")
    items = [function_name(name), *(as_bytes(arg, "argument") for arg in args)]
    payload = encode_array(items)
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"rpc request of {len(payload)} bytes is longer than {MAX_PAYLOAD}")
    return build_packet(MODIFIER1, payload, 0)


def remote_call(node: str, name, args, timeout: float) -> bytes | None:
    """Call ``name(*args)`` on the instance listening at ``node``; the result, or None.

    None means no result: an unknown function, an empty result, or a failed connection (logged),
    as uWSGI's ``uwsgi.rpc``. Each step waits at most ``timeout`` seconds (``socket-timeout``).
    """
    packet = request_packet(name, args)
    try:
        with _connect(node, timeout) as sock:
            sock.sendall(packet)
            modifier1, size, modifier2 = parse_header(_read_exact(sock, HEADER_SIZE, clean_ok=True))
            payload = _read_exact(sock, size)
            if modifier2 == MODIFIER2_LONG:
                length = int(parse_vars(payload).get("CONTENT_LENGTH", "0") or 0)
                payload = _read_exact(sock, length)
    except ConnectionClosed as exc:
        if not exc.clean:
            log.log(f"rpc {name!r} on {node}: {exc.message}")
        return None
    except (OSError, ValueError, ProtocolError) as exc:
        log.log(f"rpc {name!r} on {node} failed: {exc}")
        return None
    return payload or None
