"""The uwsgi packet codec: headers, vars, arrays, and reading packets from a socket."""
from __future__ import annotations

import pytest

from uwkernel.proto import ConnectionClosed, ProtocolError
from uwkernel.proto.uwsgi import (
    build_packet,
    decode_array,
    encode_array,
    encode_packet,
    encode_vars,
    parse_header,
    parse_vars,
    read_packet,
)

# A GET as nginx's uwsgi_pass sends it with the stock uwsgi_params (params first, then the request
# headers as HTTP_*), written out byte by byte: u16le key length, key, u16le value length, value.
NGINX_VARS = (
    b"\x0c\x00QUERY_STRING" b"\x03\x00a=1"
    b"\x0e\x00REQUEST_METHOD" b"\x03\x00GET"
    b"\x0c\x00CONTENT_TYPE" b"\x00\x00"
    b"\x0e\x00CONTENT_LENGTH" b"\x00\x00"
    b"\x0b\x00REQUEST_URI" b"\x0a\x00/hello?a=1"
    b"\x09\x00PATH_INFO" b"\x06\x00/hello"
    b"\x0d\x00DOCUMENT_ROOT" b"\x15\x00/usr/share/nginx/html"
    b"\x0f\x00SERVER_PROTOCOL" b"\x08\x00HTTP/1.1"
    b"\x0e\x00REQUEST_SCHEME" b"\x04\x00http"
    b"\x0b\x00REMOTE_ADDR" b"\x09\x00127.0.0.1"
    b"\x0b\x00REMOTE_PORT" b"\x05\x0053422"
    b"\x0b\x00SERVER_PORT" b"\x02\x0080"
    b"\x0b\x00SERVER_NAME" b"\x09\x00localhost"
    b"\x09\x00HTTP_HOST" b"\x09\x00localhost"
    b"\x0f\x00HTTP_USER_AGENT" b"\x0a\x00curl/8.5.0"
    b"\x0b\x00HTTP_ACCEPT" b"\x03\x00*/*"
)
NGINX_ENVIRON = {
    "QUERY_STRING": "a=1",
    "REQUEST_METHOD": "GET",
    "CONTENT_TYPE": "",
    "CONTENT_LENGTH": "",
    "REQUEST_URI": "/hello?a=1",
    "PATH_INFO": "/hello",
    "DOCUMENT_ROOT": "/usr/share/nginx/html",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REQUEST_SCHEME": "http",
    "REMOTE_ADDR": "127.0.0.1",
    "REMOTE_PORT": "53422",
    "SERVER_PORT": "80",
    "SERVER_NAME": "localhost",
    "HTTP_HOST": "localhost",
    "HTTP_USER_AGENT": "curl/8.5.0",
    "HTTP_ACCEPT": "*/*",
}
# Header: modifier1 0, datasize 359 = 0x0167 as u16le, modifier2 0.
NGINX_PACKET = b"\x00\x67\x01\x00" + NGINX_VARS


def test_nginx_packet_header_and_vars(vars_codec):
    assert len(NGINX_VARS) == 359  # counted by hand: the header above describes the block
    assert parse_header(NGINX_PACKET) == (0, 359, 0)
    environ = parse_vars(NGINX_PACKET[4:])
    assert environ == NGINX_ENVIRON
    assert list(environ) == list(NGINX_ENVIRON)  # order kept
    assert all(type(k) is str and type(v) is str for k, v in environ.items())


def test_parse_vars_accepts_memoryview_and_bytearray(vars_codec):
    view = memoryview(NGINX_PACKET)[4:]
    assert parse_vars(view) == NGINX_ENVIRON
    assert parse_vars(bytearray(NGINX_VARS)) == NGINX_ENVIRON


def test_parse_header_fields_and_endianness():
    assert parse_header(b"\xad\x34\x12\x05") == (173, 0x1234, 5)
    assert parse_header(b"\x6e\x00\x00\x0f" + b"ignored") == (110, 0, 15)


def test_parse_header_too_short():
    with pytest.raises(ProtocolError, match="truncated"):
        parse_header(b"\x00\x01\x00")


def test_vars_are_latin1_strings(vars_codec):
    buf = b"\x04\x00HTTP\x03\x00\xff\x00\xe9"
    assert parse_vars(buf) == {"HTTP": "\xff\x00\xe9"}


def test_empty_value_at_end_is_valid(vars_codec):
    assert parse_vars(b"\x01\x00K\x00\x00") == {"K": ""}
    assert parse_vars(b"") == {}


def test_repeated_key_keeps_last_value(vars_codec):
    assert parse_vars(b"\x01\x00A\x01\x001\x01\x00A\x01\x002") == {"A": "2"}


@pytest.mark.parametrize(
    "buf, message",
    [
        (b"\x00\x00\x01\x00v", "empty uwsgi var key"),
        (b"\x05\x00KEY", "truncated"),  # key longer than the block
        (b"\x03\x00KEY", "truncated"),  # no value length
        (b"\x03\x00KEY\x01", "truncated"),  # half a value length
        (b"\x03\x00KEY\x05\x00val", "truncated"),  # value longer than the block
        (b"\x01\x00A\x00\x00\x01", "truncated"),  # trailing byte
        (b"\x01", "truncated"),
    ],
)
def test_invalid_vars(buf, message, vars_codec):
    with pytest.raises(ProtocolError, match=message) as info:
        parse_vars(buf)
    assert info.value.status == 400


def test_max_vars(vars_codec):
    block = encode_vars({f"K{i}": "v" for i in range(64)})
    assert len(parse_vars(block)) == 64
    with pytest.raises(ProtocolError, match="too many uwsgi vars"):
        parse_vars(block + encode_vars({"ONE_MORE": "v"}))
    assert len(parse_vars(block, max_vars=100)) == 64
    with pytest.raises(ProtocolError, match="max-vars is 3"):
        parse_vars(block, max_vars=3)


def test_raw_vars_are_bytes(vars_codec):
    buf = b"\x04\x00HTTP\x03\x00\xff\x00\xe9\x01\x00K\x00\x00\x01\x00K\x01\x00v"
    parsed = parse_vars(buf, raw=True)
    assert parsed == {b"HTTP": b"\xff\x00\xe9", b"K": b"v"}
    assert all(type(k) is bytes and type(v) is bytes for k, v in parsed.items())
    assert parse_vars(memoryview(buf), 2, True) == parsed
    with pytest.raises(ProtocolError, match="too many uwsgi vars"):
        parse_vars(buf, 1, raw=True)
    with pytest.raises(ProtocolError, match="empty uwsgi var key"):
        parse_vars(b"\x00\x00\x01\x00v", raw=True)
    with pytest.raises(ProtocolError, match="truncated"):
        parse_vars(buf[:-1], raw=True)


def test_raw_encoding_takes_bytes_only(vars_codec):
    pairs = {b"a": b"1", b"at": b"\x00\xff"}
    assert encode_vars(pairs, raw=True) == b"\x01\x00a\x01\x001\x02\x00at\x02\x00\x00\xff"
    assert encode_vars(pairs, raw=True) == encode_vars(pairs)
    for wrong in ({"a": b"1"}, {b"a": "1"}, {b"a": 1}, {b"a": bytearray(b"1")}):
        with pytest.raises(TypeError, match="must be bytes"):
            encode_vars(wrong, raw=True)
        with pytest.raises(TypeError, match="must be bytes"):
            encode_packet(17, wrong, raw=True)
    with pytest.raises(ValueError, match="empty"):
        encode_vars({b"": b"x"}, raw=True)
    with pytest.raises(ValueError, match="65535"):
        encode_vars({b"K": b"x" * 65536}, raw=True)


def test_encode_packet(vars_codec):
    pairs = {"PATH_INFO": "/x", b"K": b"\xe9"}
    assert encode_packet(0, pairs) == build_packet(0, encode_vars(pairs))
    assert encode_packet(173, pairs, 5) == build_packet(173, encode_vars(pairs), 5)
    assert encode_packet(17, {b"a": b"1", b"at": b"0"}, raw=True) == b"\x11\x0d\x00\x00\x01\x00a\x01\x001\x02\x00at\x01\x000"
    assert encode_packet(17, {}) == b"\x11\x00\x00\x00"
    assert len(encode_packet(0, {b"K": b"x" * 65530})) == 4 + 65535  # the largest payload fits
    with pytest.raises(ValueError, match="payload of 65536 bytes is longer than 65535"):
        encode_packet(0, {b"K": b"x" * 65531})
    with pytest.raises(ValueError, match="0-255"):
        encode_packet(256, pairs)
    with pytest.raises(ValueError, match="0-255"):
        encode_packet(0, pairs, -1)


def test_encoding_other_mappings_and_buffers(vars_codec):
    class Mapping(dict):
        pass

    assert encode_vars(Mapping(K="v")) == b"\x01\x00K\x01\x00v"
    assert encode_vars({"K": bytearray(b"v")}) == b"\x01\x00K\x01\x00v"
    assert encode_packet(0, {"K": memoryview(b"v")}) == b"\x00\x06\x00\x00\x01\x00K\x01\x00v"


def test_encode_vars_exact_bytes(vars_codec):
    assert encode_vars({"QUERY_STRING": "", "A": b"\x00\xff"}) == (
        b"\x0c\x00QUERY_STRING\x00\x00" b"\x01\x00A\x02\x00\x00\xff"
    )
    assert encode_vars({b"K": "\xe9"}) == b"\x01\x00K\x01\x00\xe9"
    assert encode_vars(NGINX_ENVIRON) == NGINX_VARS


def test_encode_vars_refuses_bad_input(vars_codec):
    with pytest.raises(ValueError, match="empty"):
        encode_vars({"": "x"})
    with pytest.raises(ValueError, match="65535"):
        encode_vars({"K": "x" * 65536})
    encode_vars({"K": "x" * 65535})  # the largest value fits
    with pytest.raises(UnicodeEncodeError):
        encode_vars({"K": "\u20ac"})


def test_build_packet():
    assert build_packet(0, b"abc") == b"\x00\x03\x00\x00abc"
    assert build_packet(110, modifier2=15) == b"\x6e\x00\x00\x0f"
    assert build_packet(255, b"", 1) == b"\xff\x00\x00\x01"
    with pytest.raises(ValueError, match="65535"):
        build_packet(0, b"x" * 65536)
    with pytest.raises(ValueError, match="0-255"):
        build_packet(256, b"")


def test_rpc_array_request():
    # RPC: header(173, len, 0) + array [func, arg1, arg2], written out by hand.
    array = b"\x05\x00hello" b"\x04\x00arg1" b"\x00\x00"
    packet = b"\xad" + b"\x0f\x00" + b"\x00" + array
    assert encode_array([b"hello", "arg1", b""]) == array
    assert build_packet(173, encode_array([b"hello", b"arg1", b""])) == packet
    modifier1, size, modifier2 = parse_header(packet)
    assert (modifier1, size, modifier2) == (173, 15, 0)
    assert decode_array(packet[4 : 4 + size]) == [b"hello", b"arg1", b""]
    assert decode_array(memoryview(array)) == [b"hello", b"arg1", b""]
    assert decode_array(b"") == []


@pytest.mark.parametrize("buf", [b"\x05\x00abc", b"\x01", b"\x01\x00a\x02"])
def test_decode_array_truncated(buf):
    with pytest.raises(ProtocolError, match="truncated"):
        decode_array(buf)


def test_encode_array_item_too_long():
    with pytest.raises(ValueError, match="65535"):
        encode_array([b"x" * 65536])


# --- read_packet ----------------------------------------------------------------------------------


def test_read_packet_from_socket_with_body(sockpair, vars_codec):
    client, server = sockpair
    client.sendall(NGINX_PACKET + b"BODY")
    modifier1, modifier2, payload, leftover = read_packet(server)
    assert (modifier1, modifier2) == (0, 0)
    assert parse_vars(payload) == NGINX_ENVIRON
    assert leftover == b"BODY"


def test_read_packet_split_across_sends(sockpair, send_pieces, vars_codec):
    client, server = sockpair
    packet = build_packet(0, encode_vars({"PATH_INFO": "/x", "REQUEST_METHOD": "POST"}), 3)
    send_pieces(client, [packet[:1], packet[1:3], packet[3:10], packet[10:]])
    modifier1, modifier2, payload, leftover = read_packet(server)
    assert (modifier1, modifier2, leftover) == (0, 3, b"")
    assert parse_vars(payload) == {"PATH_INFO": "/x", "REQUEST_METHOD": "POST"}


def test_read_packet_one_byte_reads(scripted, vars_codec):
    packet = build_packet(0, encode_vars(NGINX_ENVIRON))
    sock = scripted(*[packet[i : i + 1] for i in range(len(packet))], b"tail")
    modifier1, modifier2, payload, leftover = read_packet(sock)
    assert parse_vars(payload) == NGINX_ENVIRON
    assert leftover == b""
    assert sock.unread == b"tail"  # never asked for more than the packet once its size was known


def test_read_packet_sets_timeout(sockpair):
    client, server = sockpair
    client.sendall(build_packet(100))
    assert read_packet(server, timeout=1.5)[:3] == (100, 0, b"")
    assert server.gettimeout() == 1.5


def test_read_packet_times_out(sockpair):
    _, server = sockpair
    with pytest.raises(TimeoutError):
        read_packet(server, timeout=0.05)


def test_read_packet_block_size_limit(scripted):
    vars_ = encode_vars({"K": "x" * 5000})
    with pytest.raises(ProtocolError, match="invalid request block size"):
        read_packet(scripted(build_packet(0, vars_)))
    assert read_packet(scripted(build_packet(0, vars_)), buffer_size=8192)[2] == vars_
    exactly = b"\x00" * 4096
    assert read_packet(scripted(build_packet(0, exactly)))[2] == exactly


def test_read_packet_eof_before_anything(scripted):
    with pytest.raises(ConnectionClosed) as info:
        read_packet(scripted())
    assert info.value.clean


@pytest.mark.parametrize("cut", [1, 3, 4, 10])
def test_read_packet_eof_inside_packet(scripted, cut):
    with pytest.raises(ConnectionClosed) as info:
        read_packet(scripted(NGINX_PACKET[:cut]))
    assert not info.value.clean
    assert isinstance(info.value, ProtocolError) and isinstance(info.value, OSError)
