"""Request bodies (``wsgi.input``) over real socket pairs and scripted sockets."""
from __future__ import annotations

import pytest

from uwkernel.proto import ConnectionClosed, ProtocolError
from uwkernel.proto.body import ChunkedBody, ContentLengthBody

TEXT = b"first line\nsecond line\n\nfourth, no newline"
NEXT_REQUEST = b"GET /next HTTP/1.1\r\n\r\n"


def split_every(data: bytes, size: int) -> list[bytes]:
    """``data`` cut into pieces of ``size`` bytes."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def chunked(*chunks: bytes, trailer: bytes = b"") -> bytes:
    """``chunks`` framed as a chunked body (each with its size in hex), then the last chunk."""
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n" + trailer + b"\r\n"


# --- Content-Length ----------------------------------------------------------------------------------


def test_body_entirely_in_leftover(scripted):
    sock = scripted(b"never read")
    body = ContentLengthBody(sock, TEXT + NEXT_REQUEST, len(TEXT))
    assert body.read() == TEXT
    assert body.read() == b""
    assert body.drain() == NEXT_REQUEST
    assert sock.recv_sizes == []


def test_body_from_leftover_then_socket(sockpair, send_pieces):
    client, server = sockpair
    send_pieces(client, split_every(TEXT[10:], 7))
    body = ContentLengthBody(server, TEXT[:10], len(TEXT))
    assert body.read() == TEXT


def test_one_byte_sends_never_read_past_the_body(sockpair, send_pieces):
    client, server = sockpair
    send_pieces(client, split_every(TEXT, 1) + [NEXT_REQUEST])
    body = ContentLengthBody(server, b"", len(TEXT))
    assert list(body) == [b"first line\n", b"second line\n", b"\n", b"fourth, no newline"]
    assert body.drain() == b""
    assert server.recv(100) == NEXT_REQUEST  # still in the socket for the next request


def test_read_sizes(scripted):
    body = ContentLengthBody(scripted(*split_every(TEXT[3:], 4)), TEXT[:3], len(TEXT))
    assert body.read(0) == b""
    assert body.read(2) == TEXT[:2]
    assert body.read(10) == TEXT[2:12]  # spans leftover and several reads
    assert body.read(None) == TEXT[12:]
    assert body.read(5) == b""


def test_read_size_larger_than_body(scripted):
    body = ContentLengthBody(scripted(TEXT[5:]), TEXT[:5], len(TEXT))
    assert body.read(1000) == TEXT
    assert body.read(1) == b""


def test_read_with_negative_size(scripted):
    body = ContentLengthBody(scripted(TEXT), b"", len(TEXT))
    assert body.read(4) == TEXT[:4]
    assert body.read(-1) == TEXT[4:]


def test_readline_and_sizes(scripted):
    body = ContentLengthBody(scripted(*split_every(TEXT, 3)), b"", len(TEXT))
    assert body.readline(5) == b"first"
    assert body.readline() == b" line\n"
    assert body.readline(None) == b"second line\n"
    assert body.readline(0) == b""
    assert body.readline(-1) == b"\n"
    assert body.readline(100) == b"fourth, no newline"
    assert body.readline() == b""


def test_readline_size_stops_at_newline_boundary(scripted):
    body = ContentLengthBody(scripted(b"ab\ncd"), b"", 5)
    assert body.readline(3) == b"ab\n"
    assert body.readline(2) == b"cd"


def test_readlines_and_hint(scripted):
    body = ContentLengthBody(scripted(TEXT), b"", len(TEXT))
    assert body.readlines(3) == [b"first line\n"]
    assert body.readlines(None) == [b"second line\n", b"\n", b"fourth, no newline"]
    body = ContentLengthBody(scripted(TEXT), b"", len(TEXT))
    assert body.readlines() == TEXT.splitlines(keepends=True)


def test_mixed_reads(scripted):
    body = ContentLengthBody(scripted(*split_every(TEXT, 5)), b"", len(TEXT))
    assert body.read(3) == b"fir"
    assert body.readline() == b"st line\n"
    assert next(iter(body)) == b"second line\n"
    assert body.read() == b"\nfourth, no newline"


def test_empty_body(scripted):
    sock = scripted(NEXT_REQUEST)
    body = ContentLengthBody(sock, b"", 0)
    assert body.read() == b"" and body.readline() == b"" and body.readlines() == []
    assert body.drain() == b""
    assert sock.recv_sizes == []


def test_drain_discards_the_unread_rest(sockpair, send_pieces):
    client, server = sockpair
    data = bytes(range(256)) * 1000
    send_pieces(client, [data[5000:100_000], data[100_000:] + NEXT_REQUEST])
    body = ContentLengthBody(server, data[:5000] + b"", len(data))
    assert body.read(10) == data[:10]
    assert body.drain() == b""
    assert server.recv(100) == NEXT_REQUEST


def test_large_body_read_whole(sockpair, send_pieces):
    client, server = sockpair
    data = bytes(range(256)) * 4000  # ~1 MB: many reads of at most 64 KiB
    send_pieces(client, split_every(data, 100_000))
    assert ContentLengthBody(server, b"", len(data)).read() == data


def test_early_end_raises(sockpair, send_pieces):
    client, server = sockpair
    send_pieces(client, [TEXT[:10]], close=True)
    body = ContentLengthBody(server, b"", len(TEXT))
    with pytest.raises(ConnectionClosed, match=f"10 of {len(TEXT)} bytes") as info:
        body.read()
    assert isinstance(info.value, OSError) and isinstance(info.value, ProtocolError)


def test_early_end_in_readline_and_drain(scripted):
    with pytest.raises(ConnectionClosed):
        ContentLengthBody(scripted(b"no newline"), b"", 100).readline()
    with pytest.raises(ConnectionClosed):
        ContentLengthBody(scripted(b"abc"), b"x", 100).drain()


def test_stalled_client_times_out(sockpair):
    client, server = sockpair
    server.settimeout(0.05)
    client.sendall(b"abc")
    body = ContentLengthBody(server, b"", 10)
    with pytest.raises(TimeoutError):
        body.read()


# --- chunked -------------------------------------------------------------------------------------------


def test_chunked_basic(scripted):
    sock = scripted(chunked(b"hello", b" ", b"world") + NEXT_REQUEST)
    body = ChunkedBody(sock, b"")
    assert body.read() == b"hello world"
    assert body.read() == b""
    assert body.drain() == NEXT_REQUEST


def test_chunked_from_leftover_only(scripted):
    sock = scripted()
    body = ChunkedBody(sock, chunked(b"abc") + NEXT_REQUEST)
    assert body.read() == b"abc"
    assert body.drain() == NEXT_REQUEST
    assert sock.recv_sizes == []


def test_chunked_extensions_trailers_and_case(scripted):
    framed = (
        b"5;name=value;x\r\nhello\r\n"
        b"A ; quoted=\"a;b\"\r\n0123456789\r\n"
        b"0;last\r\nExpires: never\r\nX-Checksum: 1\r\n\r\n"
    )
    body = ChunkedBody(scripted(framed), b"")
    assert body.read() == b"hello0123456789"
    assert body.drain() == b""


def test_chunked_bare_lf(scripted):
    body = ChunkedBody(scripted(b"3\nabc\n0\n\n" + NEXT_REQUEST), b"")
    assert body.read() == b"abc"
    assert body.drain() == NEXT_REQUEST


def test_chunked_one_byte_sends(sockpair, send_pieces):
    client, server = sockpair
    framed = chunked(b"line one\nline", b" two\n", b"x" * 300, trailer=b"T: 1\r\n")
    send_pieces(client, split_every(framed[2:], 1) + [NEXT_REQUEST])
    body = ChunkedBody(server, framed[:2])
    lines = list(body)
    assert lines == [b"line one\n", b"line two\n", b"x" * 300]
    surplus = body.drain()
    assert surplus + server.recv(100) == NEXT_REQUEST  # whatever was not read stays in the socket


def test_chunked_read_sizes(scripted):
    body = ChunkedBody(scripted(*split_every(chunked(b"abcdef", b"gh", b"ijklmnop"), 3)), b"")
    assert body.read(4) == b"abcd"
    assert body.read(5) == b"efghi"
    assert body.readline(3) == b"jkl"
    assert body.read() == b"mnop"


def test_chunked_big_chunk(sockpair, send_pieces):
    client, server = sockpair
    data = bytes(range(256)) * 1000
    send_pieces(client, split_every(chunked(data, data[:7]), 50_000))
    assert ChunkedBody(server, b"").read() == data + data[:7]


def test_chunked_empty_body(scripted):
    body = ChunkedBody(scripted(b"0\r\n\r\n" + NEXT_REQUEST), b"")
    assert body.read() == b""
    assert body.drain() == NEXT_REQUEST


def test_chunked_drain_without_reading(scripted):
    body = ChunkedBody(scripted(chunked(b"a" * 1000, b"b"), NEXT_REQUEST), b"")
    assert body.drain() == b""  # the next request came in a later read: still in the socket


@pytest.mark.parametrize(
    "framed",
    [
        b"x\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b"+5\r\nhello\r\n0\r\n\r\n",
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"5 5\r\nhello\r\n0\r\n\r\n",
        b"1_0\r\n",
        b"\r\nhello\r\n",
        b";ext\r\n",
        b"11111111111111111\r\n",  # 17 hex digits
        b"5\r\nhelloX\r\n0\r\n\r\n",  # data longer than its size
        b"5\r\nhello0\r\n\r\n",
        b"\xd9\r\n",
    ],
)
def test_chunked_malformed(scripted, framed):
    with pytest.raises(ProtocolError) as info:
        ChunkedBody(scripted(framed), b"").read()
    assert info.value.status == 400
    assert not isinstance(info.value, ConnectionClosed)


def test_chunked_size_line_too_long(scripted):
    with pytest.raises(ProtocolError, match="too long"):
        ChunkedBody(scripted(b"5;" + b"e" * 10_000 + b"\r\nhello\r\n0\r\n\r\n"), b"").read()


def test_chunked_trailers_too_large(scripted):
    trailer = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 100) for i in range(1000))
    with pytest.raises(ProtocolError, match="trailers"):
        ChunkedBody(scripted(chunked(b"a", trailer=trailer)), b"").read()


def test_chunked_max_size(scripted):
    framed = chunked(b"a" * 60, b"b" * 60)
    assert ChunkedBody(scripted(framed), b"", max_size=120).read() == b"a" * 60 + b"b" * 60
    body = ChunkedBody(scripted(framed), b"", max_size=100)
    assert body.read(60) == b"a" * 60
    with pytest.raises(ProtocolError) as info:
        body.read()
    assert info.value.status == 413


@pytest.mark.parametrize("cut", [1, 3, 5, 8, 10, 12, 14])
def test_chunked_early_end(scripted, cut):
    framed = chunked(b"hello") + b"X"  # cut anywhere before the final blank line
    with pytest.raises(ConnectionClosed, match="ended early"):
        ChunkedBody(scripted(framed[:cut]), b"").read()


def test_chunked_stalled_client_times_out(sockpair):
    client, server = sockpair
    server.settimeout(0.05)
    client.sendall(b"5\r\nhel")
    with pytest.raises(TimeoutError):
        ChunkedBody(server, b"").read()
