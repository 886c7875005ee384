"""Property tests: parsers fed random or mutated bytes fail only with ProtocolError; codecs round-trip."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uwkernel.proto import ProtocolError
from uwkernel.proto.body import ChunkedBody, ContentLengthBody
from uwkernel.proto import http
from uwkernel.proto.http import ResponseError, parse_head, parse_head_py, read_head, response_head_py
from uwkernel.proto.uwsgi import (
    build_packet,
    decode_array,
    encode_array,
    encode_packet,
    encode_vars,
    encode_vars_py,
    parse_header,
    parse_vars,
    parse_vars_py,
    read_packet,
)

settings.register_profile("proto", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("proto")

latin1 = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=40)
var_dicts = st.dictionaries(latin1.filter(bool), latin1, max_size=20)

VALID_PACKET = build_packet(0, encode_vars({
    "REQUEST_METHOD": "POST", "PATH_INFO": "/x", "QUERY_STRING": "", "CONTENT_LENGTH": "4",
    "HTTP_HOST": "example.com",
})) + b"body"
VALID_HEAD = (
    b"POST /a%20b?c=d HTTP/1.1\r\nHost: example.com\r\nContent-Type: text/plain\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n"
    b"Cookie: a=1\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n"
)
HEAD_ALPHABET = b"GETPOST /?%:;,-_ \t\r\n\x00\x7f\x85HTTP/1.01chunked" + bytes(range(256))


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets (taken modulo its length, sorted)."""
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


@st.composite
def mutated(draw, valid: bytes, alphabet: bytes = bytes(range(256))):
    """``valid`` with a few random bytes replaced, inserted or deleted, or cut short."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        byte = draw(st.sampled_from(alphabet))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        if op == "insert" or pos == len(data):
            data.insert(pos, byte)
        elif op == "replace":
            data[pos] = byte
        else:
            del data[pos]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


# --- uwsgi ----------------------------------------------------------------------------------------------


@given(st.binary(max_size=600) | mutated(VALID_PACKET[4:]), st.integers(0, 30), st.booleans())
def test_parse_vars_c_and_python_agree(buf, max_vars, raw):
    """The C parse_vars returns what the Python reference returns, or fails with the same error."""
    outcomes = []
    for parse in (parse_vars, parse_vars_py):
        try:
            outcomes.append(parse(buf, max_vars, raw))
        except ProtocolError as exc:
            outcomes.append(exc.message)
    assert outcomes[0] == outcomes[1]
    if isinstance(outcomes[0], dict):
        assert all(type(k) is type(v) is (bytes if raw else str) for k, v in outcomes[0].items())


#: Keys and values the C encoder takes (bytes, latin-1 str) and some it leaves to the Python (other types,
#: other str, empty keys, items too long).
keys = st.binary(max_size=30) | latin1 | st.text(max_size=5) | st.integers() | st.sampled_from([b"x" * 65536, "y" * 65535])
values = keys | st.builds(bytearray, st.binary(max_size=30))


@given(st.dictionaries(keys, values, max_size=8), st.booleans(), st.integers(-1, 256) | st.none())
def test_encode_c_and_python_agree(variables, raw, modifier1):
    """encode_vars and encode_packet (C first) give what the Python reference gives, or the same error."""
    outcomes = []
    for encode in (encode_vars, encode_vars_py):
        try:
            block = encode(variables, raw)
            outcomes.append(block if modifier1 is None else build_packet(modifier1, block))
        except (TypeError, ValueError) as exc:
            outcomes.append((type(exc), str(exc)))
    try:
        outcomes.append(encode_vars(variables, raw) if modifier1 is None else encode_packet(modifier1, variables, 0, raw))
    except (TypeError, ValueError) as exc:
        outcomes.append((type(exc), str(exc)))
    assert outcomes[0] == outcomes[1] == outcomes[2]


@given(st.dictionaries(st.binary(min_size=1, max_size=40), st.binary(max_size=40), max_size=20))
def test_raw_vars_round_trip(variables):
    assert parse_vars(encode_vars(variables, raw=True), 64, raw=True) == variables
    assert parse_vars_py(encode_vars_py(variables, raw=True), 64, raw=True) == variables


@given(st.binary(max_size=600) | mutated(VALID_PACKET[4:]))
def test_parse_vars_only_raises_protocol_error(buf):
    try:
        environ = parse_vars(buf)
    except ProtocolError:
        return
    assert all(type(k) is str and k and type(v) is str for k, v in environ.items())
    assert parse_vars(encode_vars(environ)) == environ


@given(var_dicts)
def test_vars_round_trip(variables):
    assert parse_vars(encode_vars(variables), max_vars=64) == variables


@given(st.lists(st.binary(max_size=50), max_size=30))
def test_array_round_trip(items):
    assert decode_array(encode_array(items)) == items


@given(st.binary(max_size=200))
def test_decode_array_only_raises_protocol_error(buf):
    try:
        items = decode_array(buf)
    except ProtocolError:
        return
    assert encode_array(items) == buf


@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=300))
def test_packet_round_trip(modifier1, modifier2, payload):
    packet = build_packet(modifier1, payload, modifier2)
    assert parse_header(packet) == (modifier1, len(payload), modifier2)
    assert packet[4:] == payload


@given(data=st.binary(max_size=300) | mutated(VALID_PACKET), cuts=st.lists(st.integers(0, 400), max_size=5))
def test_read_packet_only_raises_protocol_error(scripted, data, cuts):
    sock = scripted(*split_at(data, cuts))
    try:
        modifier1, modifier2, payload, leftover = read_packet(sock, buffer_size=256)
    except ProtocolError:  # ConnectionClosed included
        return
    assert build_packet(modifier1, payload, modifier2) + leftover + sock.unread == data


@given(cuts=st.lists(st.integers(0, len(VALID_PACKET)), max_size=8))
def test_read_packet_any_split(scripted, cuts):
    sock = scripted(*split_at(VALID_PACKET, cuts))
    modifier1, modifier2, payload, leftover = read_packet(sock)
    assert payload == VALID_PACKET[4:-4]
    assert leftover + sock.unread == b"body"


# --- HTTP -----------------------------------------------------------------------------------------------


@given(st.binary(max_size=300) | mutated(VALID_HEAD, HEAD_ALPHABET))
def test_parse_head_only_raises_protocol_error(head):
    try:
        environ, keep_alive, expect_continue, chunked = parse_head(head)
    except ProtocolError as error:
        assert error.status in (400, 501, 505)
        return
    assert all(type(k) is str and type(v) is str for k, v in environ.items())
    assert {"REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "SERVER_PROTOCOL"} <= environ.keys()
    assert not any(c in v for v in environ.values() for c in "\r\n\x00")
    assert not (chunked and "CONTENT_LENGTH" in environ)


@given(data=st.binary(max_size=300) | mutated(VALID_HEAD + b"rest", HEAD_ALPHABET),
       cuts=st.lists(st.integers(0, 400), max_size=5))
def test_read_head_only_raises_protocol_error(scripted, data, cuts):
    try:
        head, leftover = read_head(scripted(*split_at(data, cuts)), buffer_size=64, max_head=200)
    except ProtocolError:
        return
    assert head.endswith((b"\n\n", b"\n\r\n"))
    assert data.lstrip(b"\r\n").startswith(head + leftover)


@given(cuts=st.lists(st.integers(0, len(VALID_HEAD)), max_size=10), crlf=st.booleans())
def test_read_head_any_split(scripted, cuts, crlf):
    request = VALID_HEAD if crlf else VALID_HEAD.replace(b"\r\n", b"\n")
    sock = scripted(*split_at(request + b"BODY", cuts))
    head, leftover = read_head(sock, buffer_size=32)
    assert head == request
    assert leftover + sock.unread == b"BODY"
    assert parse_head(head)[0] == parse_head(VALID_HEAD)[0]


# --- bodies ---------------------------------------------------------------------------------------------


@st.composite
def chunk_framing(draw, data: bytes) -> bytes:
    """``data`` framed as a chunked body with random chunk sizes, hex case, extensions and trailers."""
    out = []
    pos = 0
    while pos < len(data):
        size = draw(st.integers(1, len(data) - pos))
        digits = f"{size:x}"
        if draw(st.booleans()):
            digits = digits.upper()
        ext = draw(st.sampled_from([b"", b";a=b", b" ;x", b';q="1;2"']))
        eol = draw(st.sampled_from([b"\r\n", b"\n"]))
        out.append(digits.encode() + ext + eol + data[pos : pos + size] + eol)
        pos += size
    out.append(b"0" + draw(st.sampled_from([b"", b";end"])) + b"\r\n")
    out.append(draw(st.sampled_from([b"", b"Trailer: 1\r\n", b"A: b\r\nC: d\n"])) + b"\r\n")
    return b"".join(out)


@given(data=st.data(), body=st.binary(max_size=500), tail=st.binary(max_size=40),
       cuts=st.lists(st.integers(0, 2000), max_size=8), sizes=st.lists(st.integers(-1, 70), max_size=20))
def test_chunked_round_trip(scripted, data, body, tail, cuts, sizes):
    framed = data.draw(chunk_framing(body))
    wire = framed + tail
    leftover_cut = data.draw(st.integers(0, len(wire)))
    sock = scripted(*split_at(wire[leftover_cut:], cuts))
    reader = ChunkedBody(sock, wire[:leftover_cut])
    got = b"".join(reader.read(size) if size != 0 else reader.readline() for size in sizes) + reader.read()
    assert got == body
    assert reader.drain() + sock.unread == tail


@given(data=st.data(), body=st.binary(max_size=500), tail=st.binary(max_size=40),
       cuts=st.lists(st.integers(0, 600), max_size=8), sizes=st.lists(st.integers(-1, 70), max_size=20))
def test_content_length_round_trip(scripted, data, body, tail, cuts, sizes):
    wire = body + tail
    leftover_cut = data.draw(st.integers(0, len(wire)))
    sock = scripted(*split_at(wire[leftover_cut:], cuts))
    reader = ContentLengthBody(sock, wire[:leftover_cut], len(body))
    got = b"".join(reader.read(size) if size != 0 else reader.readline() for size in sizes) + reader.read()
    assert got == body
    assert reader.drain() + sock.unread == tail


@given(data=st.binary(max_size=300) | mutated(b"5;x\r\nhello\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\nNEXT"),
       cuts=st.lists(st.integers(0, 400), max_size=5))
def test_chunked_only_raises_protocol_error(scripted, data, cuts):
    reader = ChunkedBody(scripted(*split_at(data, cuts)), b"", max_size=1000)
    try:
        reader.read()
        reader.drain()
    except ProtocolError:  # ConnectionClosed included
        return


CLEAN_HEAD = (
    b"GET /shop/list?page=2&q=a%20b HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n"
    b"Cookie: a=1\r\ncookie: b=2\r\nX-Forwarded-For: 1.2.3.4\r\nx-forwarded-for: 5.6.7.8\r\nX_Skip: 1\r\n"
    b"Content-Length: 0042\r\nContent-Type: text/plain\r\nConnection: Keep-Alive\r\nExpect: 100-Continue\r\n\r\n"
)
heads = st.builds(
    lambda method, target, version, headers: b"\r\n".join(
        [b" ".join((method, target, version))] + [name + b":" + value for name, value in headers]) + b"\r\n\r\n",
    st.sampled_from([b"GET", b"HEAD", b"POST", b"OPTIONS", b"PROPFIND", b"get", b""]),
    st.sampled_from([b"/", b"/a?b=c", b"/a%2f?x=%41", b"*", b"http://h/x", b"/a#f", b"/\xe9?\xff", b""]),
    st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"http/1.1"]),
    st.lists(st.tuples(
        st.sampled_from([b"Host", b"host", b"Content-Length", b"Connection", b"Expect", b"Cookie", b"X-A", b"X_A",
                         b"Transfer-Encoding", b"Content-Type", b"Bad Name", b""]),
        st.binary(max_size=12) | st.sampled_from([b" close", b"keep-alive ", b"\t12", b"0", b"1,1", b"100-continue"])),
        max_size=6),
)


@given(heads | mutated(CLEAN_HEAD, HEAD_ALPHABET) | mutated(VALID_HEAD, HEAD_ALPHABET))
def test_parse_head_c_agrees_with_python(head):
    """Where the C parse_head answers (not None), the Python reference gives the same result."""
    if http._parse_head_c is None:
        raise AssertionError("the C codec uwkernel.proto._speedups was not built (needs a C compiler at install)")
    parsed = http._parse_head_c(None, head)
    if parsed is not None:
        assert parsed == parse_head_py(head)


def test_the_c_parse_head_answers_the_common_heads():
    assert http._parse_head_c(None, CLEAN_HEAD) == parse_head_py(CLEAN_HEAD)
    assert http._parse_head_c(None, b"GET / HTTP/1.0\r\n\r\n") == parse_head_py(b"GET / HTTP/1.0\r\n\r\n")


header_texts = st.sampled_from(["Content-Length", "content-length", "Connection", "Transfer-Encoding", "X-A",
                                "Set-Cookie", "", "X\r\nY", "\xe9", "\u20ac"]) | st.text(max_size=8)
response_values = st.sampled_from(["13", "0", " 7", "-1", "1_0", "close", "Close", "keep-alive", "chunked",
                                   "a\nb", "\xff", "99999999999999999999"]) | st.text(max_size=8)


@given(protocol=st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/1.1\r\n"]),
       status=st.sampled_from(["200 OK", "204 No Content", "304 Not Modified", "100 Continue", "404", "20 OK",
                               "200OK", "2x0 OK", "\u0662\u0660\u0660 OK", None, b"200 OK"]) | st.text(max_size=8),
       headers=st.lists(st.tuples(header_texts, response_values) | st.just(("X", 1)) | st.just(("a", "b", "c")),
                        max_size=5) | st.just(("X", "y")),
       length=st.none() | st.integers(0, 1 << 40), reusable=st.booleans(), http_socket=st.booleans(),
       head_only=st.booleans())
def test_response_head_c_agrees_with_python(protocol, status, headers, length, reusable, http_socket, head_only):
    """Where the C response_head answers (not None), the Python reference gives the same result."""
    if http._response_head_c is None:
        raise AssertionError("the C codec uwkernel.proto._speedups was not built (needs a C compiler at install)")
    args = (protocol, status, headers, length, reusable, http_socket, head_only)
    built = http._response_head_c(None, *args)
    if built is not None:
        assert built == response_head_py(*args)
    else:
        try:
            response_head_py(*args)
        except ResponseError:
            pass


def test_the_c_response_head_answers_the_common_responses():
    for args in [("HTTP/1.1", "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")], 13, True, True,
                  False),
                 ("HTTP/1.0", "404 Not Found", [], None, False, False, False),
                 ("HTTP/1.1", "200 OK", [("X", "y")], None, True, True, False)]:
        assert http._response_head_c(None, *args) == response_head_py(*args)
