"""HTTP/1.x request heads and response heads."""
from __future__ import annotations

import pytest

from uwkernel.proto import ConnectionClosed, ProtocolError
from uwkernel.proto import http
from uwkernel.proto.http import CONTINUE_100, ResponseError, read_head

CURL_GET = (
    b"GET /hello/w%C3%B6rld?x=1&y=%20 HTTP/1.1\r\n"
    b"Host: example.com:8080\r\n"
    b"User-Agent: curl/8.5.0\r\n"
    b"Accept: */*\r\n"
    b"\r\n"
)

#: Every test runs with the C parse_head and with the Python reference alone.
pytestmark = pytest.mark.usefixtures("head_codec")


def parse(head: bytes) -> dict[str, str]:
    """Just the environ of ``head``."""
    return http.parse_head(head)[0]


def status_of(head: bytes) -> int:
    """The status of the ProtocolError ``head`` raises."""
    with pytest.raises(ProtocolError) as info:
        http.parse_head(head)
    return info.value.status


# --- parse_head: the environ ---------------------------------------------------------------------


def test_curl_get():
    environ, keep_alive, expect_continue, chunked = http.parse_head(CURL_GET)
    assert environ == {
        "REQUEST_METHOD": "GET",
        "REQUEST_URI": "/hello/w%C3%B6rld?x=1&y=%20",
        "PATH_INFO": "/hello/w\xc3\xb6rld",  # percent-decoded bytes as latin-1, per PEP 3333
        "QUERY_STRING": "x=1&y=%20",  # left encoded
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "example.com:8080",
        "HTTP_USER_AGENT": "curl/8.5.0",
        "HTTP_ACCEPT": "*/*",
    }
    assert (keep_alive, expect_continue, chunked) == (True, False, False)
    assert environ["PATH_INFO"].encode("latin-1").decode("utf-8") == "/hello/w\xf6rld"


def test_head_without_blank_line_parses_the_same():
    assert parse(CURL_GET[:-2]) == parse(CURL_GET)
    assert parse(CURL_GET[:-4]) == parse(CURL_GET)


def test_bare_lf_line_endings():
    head = CURL_GET.replace(b"\r\n", b"\n")
    assert parse(head) == parse(CURL_GET)
    mixed = b"GET / HTTP/1.0\nHost: a\r\nAccept: b\n\n"
    assert parse(mixed)["HTTP_ACCEPT"] == "b"


def test_content_headers_have_no_http_prefix():
    environ = parse(b"POST /f HTTP/1.1\r\nContent-Type: text/plain\r\ncontent-length: 0012\r\n\r\n")
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "12"  # normalised
    assert "HTTP_CONTENT_TYPE" not in environ and "HTTP_CONTENT_LENGTH" not in environ


def test_content_length_and_type_only_when_sent():
    environ = parse(b"GET / HTTP/1.1\r\n\r\n")
    assert "CONTENT_LENGTH" not in environ and "CONTENT_TYPE" not in environ
    assert parse(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")["CONTENT_LENGTH"] == "0"


def test_header_names_case_and_dashes():
    environ = parse(b"GET / HTTP/1.1\r\nx-forwarded-FOR: 1.2.3.4\r\nDNT:1\r\nX-Empty:\r\n\r\n")
    assert environ["HTTP_X_FORWARDED_FOR"] == "1.2.3.4"
    assert environ["HTTP_DNT"] == "1"
    assert environ["HTTP_X_EMPTY"] == ""


def test_value_whitespace_trimmed_but_inner_kept():
    environ = parse(b"GET / HTTP/1.1\r\nX-A: \t a  b \t\r\n\r\n")
    assert environ["HTTP_X_A"] == "a  b"


def test_non_ascii_header_value_is_latin1():
    environ = parse(b"GET / HTTP/1.1\r\nX-Name: caf\xc3\xa9 \x85\xa0\r\n\r\n")
    assert environ["HTTP_X_NAME"] == "caf\xc3\xa9 \x85\xa0"


def test_repeated_headers_are_joined():
    environ = parse(
        b"GET / HTTP/1.1\r\nAccept: a\r\nX-Y: 1\r\naccept: b\r\nCookie: s=1\r\nCookie: t=2\r\n\r\n"
    )
    assert environ["HTTP_ACCEPT"] == "a, b"
    assert environ["HTTP_COOKIE"] == "s=1; t=2"
    single_char = parse(b"GET / HTTP/1.1\r\nX: a\r\nX: a\r\n\r\n")
    assert single_char["HTTP_X"] == "a, a"


def test_headers_with_underscores_are_dropped():
    environ = parse(b"GET / HTTP/1.1\r\nX_Forwarded_For: evil\r\nX-Forwarded-For: good\r\nCONTENT_LENGTH: 5\r\n\r\n")
    assert environ["HTTP_X_FORWARDED_FOR"] == "good"
    assert "CONTENT_LENGTH" not in environ


def test_header_cannot_override_request_line_vars():
    environ = parse(b"GET /a HTTP/1.1\r\nPath-Info: /b\r\nRequest-Method: POST\r\n\r\n")
    assert environ["PATH_INFO"] == "/a" and environ["REQUEST_METHOD"] == "GET"
    assert environ["HTTP_PATH_INFO"] == "/b"


@pytest.mark.parametrize(
    "target, path, query",
    [
        ("/", "/", ""),
        ("/a/b/", "/a/b/", ""),
        ("/a?", "/a", ""),
        ("/a?b?c=d", "/a", "b?c=d"),
        ("/a%2Fb%3F", "/a/b?", ""),
        ("/%ff%FE%zz%", "/\xff\xfe%zz%", ""),
        ("/a#frag", "/a", ""),
        ("/a?q=1#frag", "/a", "q=1"),
        ("//double", "//double", ""),
        ("/caf\xe9", "/caf\xe9", ""),  # a raw non-ASCII byte in the target
        ("/caf\xe9%20%e9", "/caf\xe9 \xe9", ""),
        ("*", "*", ""),
    ],
)
def test_targets(target, path, query):
    method = "OPTIONS" if target == "*" else "GET"
    environ = parse(f"{method} {target} HTTP/1.1\r\nHost: h\r\n\r\n".encode("latin-1"))
    assert (environ["PATH_INFO"], environ["QUERY_STRING"]) == (path, query)
    assert environ["REQUEST_URI"] == target


def test_absolute_form_target_overrides_host():
    environ = parse(b"GET http://real.example:81/p%20q?z HTTP/1.1\r\nHost: other\r\n\r\n")
    assert environ["PATH_INFO"] == "/p q"
    assert environ["QUERY_STRING"] == "z"
    assert environ["HTTP_HOST"] == "real.example:81"
    assert environ["REQUEST_URI"] == "http://real.example:81/p%20q?z"
    assert parse(b"GET HTTPS://h HTTP/1.1\r\n\r\n")["PATH_INFO"] == "/"


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "M-SEARCH"])
def test_methods(method):
    assert parse(f"{method} / HTTP/1.1\r\n\r\n".encode())["REQUEST_METHOD"] == method


# --- parse_head: framing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version, connection, expected",
    [
        ("HTTP/1.1", None, True),
        ("HTTP/1.1", "close", False),
        ("HTTP/1.1", "Close", False),
        ("HTTP/1.1", "keep-alive", True),
        ("HTTP/1.1", "Upgrade, close", False),
        ("HTTP/1.1", "closed", True),
        ("HTTP/1.0", None, False),
        ("HTTP/1.0", "Keep-Alive", True),
        ("HTTP/1.0", "foo,  keep-alive ", True),
        ("HTTP/1.0", "close", False),
    ],
)
def test_keep_alive(version, connection, expected):
    head = f"GET / {version}\r\n" + (f"Connection: {connection}\r\n" if connection else "") + "\r\n"
    environ, keep_alive, _, _ = http.parse_head(head.encode())
    assert keep_alive is expected
    assert environ["SERVER_PROTOCOL"] == version


@pytest.mark.parametrize(
    "version, expect, expected",
    [("HTTP/1.1", "100-continue", True), ("HTTP/1.1", "100-Continue", True), ("HTTP/1.1", "nope", False),
     ("HTTP/1.0", "100-continue", False)],
)
def test_expect_continue(version, expect, expected):
    head = f"POST / {version}\r\nContent-Length: 3\r\nExpect: {expect}\r\n\r\n".encode()
    assert http.parse_head(head)[2] is expected


def test_chunked():
    environ, _, _, chunked = http.parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n")
    assert chunked is True
    assert environ["HTTP_TRANSFER_ENCODING"] == "Chunked"
    assert "CONTENT_LENGTH" not in environ


def test_repeated_equal_content_lengths_accepted():
    assert parse(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")["CONTENT_LENGTH"] == "5"
    assert parse(b"POST / HTTP/1.1\r\nContent-Length: 5,5\r\n\r\n")["CONTENT_LENGTH"] == "5"


@pytest.mark.parametrize(
    "head, status",
    [
        (b"", 400),
        (b"GET /\r\n\r\n", 400),  # HTTP/0.9
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
        (b"GET  / HTTP/1.1\r\n\r\n", 400),
        (b"GET / http/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET / HTTP/0.9\r\n\r\n", 505),
        (b"G(T / HTTP/1.1\r\n\r\n", 400),
        (b"GET\t/ HTTP/1.1\r\n\r\n", 400),
        (b"GET /a\tb HTTP/1.1\r\n\r\n", 400),
        (b"GET noslash HTTP/1.1\r\n\r\n", 400),
        (b"GET ftp://h/ HTTP/1.1\r\n\r\n", 400),
        (b"GET http:/// HTTP/1.1\r\n\r\n", 400),
        (b"GET *?x HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost\r\n\r\n", 400),  # a cached header name still needs its colon
        (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX\xe9: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400),  # bare CR
        (b"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX: a\r\n\r\nY: b\r\n\r\n", 400),  # blank line inside
        (b"GET / HTTP/1.1\r\nX: a\n\nY: b\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 1.0\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n", 400),  # superscript two: isdigit()
        (b"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
    ],
)
def test_malformed_heads(head, status):
    assert status_of(head) == status


def test_long_content_length_with_leading_zeros_is_fine():
    head = b"POST / HTTP/1.1\r\nContent-Length: " + b"0" * 40 + b"7\r\n\r\n"
    assert parse(head)["CONTENT_LENGTH"] == "7"


# --- read_head ---------------------------------------------------------------------------------------


def test_read_head_from_socket(sockpair):
    client, server = sockpair
    client.sendall(CURL_GET + b"next")
    assert read_head(server) == (CURL_GET, b"next")


def test_read_head_across_sends(sockpair, send_pieces):
    client, server = sockpair
    send_pieces(client, [CURL_GET[:5], CURL_GET[5:40], CURL_GET[40:-3], CURL_GET[-3:-1], CURL_GET[-1:] + b"BODY"])
    head, leftover = read_head(server)
    assert head == CURL_GET
    assert leftover in (b"BODY", b"")  # the body may or may not have come with the last piece


@pytest.mark.parametrize("crlf", [True, False])
def test_read_head_one_byte_reads(scripted, crlf):
    request = CURL_GET if crlf else CURL_GET.replace(b"\r\n", b"\n")
    sock = scripted(*[request[i : i + 1] for i in range(len(request))], b"after")
    assert read_head(sock) == (request, b"")
    assert sock.unread == b"after"


def test_read_head_uses_pending_data_first(scripted):
    sock = scripted(b"never read")
    pipelined = CURL_GET + b"GET /second HTTP/1.1\r\n\r\n"
    head, leftover = read_head(sock, data=pipelined)
    assert head == CURL_GET and sock.recv_sizes == []
    assert read_head(sock, data=leftover) == (b"GET /second HTTP/1.1\r\n\r\n", b"")


def test_read_head_pending_data_completed_from_socket(scripted):
    sock = scripted(CURL_GET[20:])
    assert read_head(sock, data=CURL_GET[:20]) == (CURL_GET, b"")


def test_read_head_skips_leading_blank_lines(scripted):
    sock = scripted(b"\r\n", b"\r\n" + CURL_GET)
    assert read_head(sock) == (CURL_GET, b"")
    assert read_head(scripted(b"\n\r\nGET / HTTP/1.0\n\n")) == (b"GET / HTTP/1.0\n\n", b"")


def test_read_head_first_blank_line_wins_for_lf_clients(scripted):
    head = b"GET / HTTP/1.0\nA: b\n\n"
    assert read_head(scripted(head + b"BODY\r\n\r\n")) == (head, b"BODY\r\n\r\n")
    assert read_head(scripted(b"GET / HTTP/1.0\nA: b\n\r\nX")) == (b"GET / HTTP/1.0\nA: b\n\r\n", b"X")


def test_read_head_buffer_size_is_the_read_size(scripted):
    sock = scripted(CURL_GET)
    read_head(sock, buffer_size=16)
    assert set(sock.recv_sizes) == {16}


def test_read_head_too_large(scripted):
    big = b"GET / HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 200 + b"\r\n\r\n"
    with pytest.raises(ProtocolError) as info:
        read_head(scripted(big), max_head=100)
    assert info.value.status == 431
    with pytest.raises(ProtocolError) as info:  # found, but past the limit
        read_head(scripted(), max_head=100, data=big)
    assert info.value.status == 431
    assert read_head(scripted(big), max_head=len(big)) == (big, b"")


def test_read_head_endless_line_hits_the_limit(scripted):
    with pytest.raises(ProtocolError) as info:
        read_head(scripted(*[b"A" * 10] * 20), max_head=64)
    assert info.value.status == 431


def test_read_head_clean_close(scripted):
    with pytest.raises(ConnectionClosed) as info:
        read_head(scripted())
    assert info.value.clean
    with pytest.raises(ConnectionClosed) as info:
        read_head(scripted(b"\r\n"))
    assert info.value.clean


def test_read_head_close_mid_head(scripted):
    with pytest.raises(ConnectionClosed) as info:
        read_head(scripted(CURL_GET[:-1]))
    assert not info.value.clean


def test_read_head_times_out(sockpair):
    client, server = sockpair
    server.settimeout(0.05)
    client.sendall(CURL_GET[:-2])
    with pytest.raises(TimeoutError):
        read_head(server)


# --- responses ---------------------------------------------------------------------------------------


def head(protocol="HTTP/1.1", status="200 OK", headers=(), length=None, reusable=True, http_socket=True,
         head_only=False):
    """response_head's result with keyword defaults: a keep-alive HTTP socket, length unknown."""
    return http.response_head(protocol, status, list(headers), length, reusable, http_socket, head_only)


def test_response_head_keeps_the_applications_length(response_codec):
    assert head(headers=[("Content-Type", "text/plain"), ("Content-Length", "2")], length=2) == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n", 200, 2, 2, False, True, True)


def test_response_head_adds_the_known_length(response_codec):
    assert head(headers=[("X", "y")], length=13) == (
        b"HTTP/1.1 200 OK\r\nX: y\r\nContent-Length: 13\r\n\r\n", 200, 1, 13, False, True, True)


def test_response_head_chunks_an_unknown_length_on_http11(response_codec):
    assert head(headers=[("X", "y")]) == (
        b"HTTP/1.1 200 OK\r\nX: y\r\nTransfer-Encoding: chunked\r\n\r\n", 200, 1, None, True, True, True)


def test_response_head_closes_an_unknown_length_on_http10(response_codec):
    assert head("HTTP/1.0", headers=[("A", "b")]) == (
        b"HTTP/1.0 200 OK\r\nA: b\r\nConnection: close\r\n\r\n", 200, 1, None, False, False, True)


def test_response_head_http10_keep_alive(response_codec):
    assert head("HTTP/1.0", headers=[("Content-Length", "0")], length=0) == (
        b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n", 200, 1, 0, False, True, True)


def test_response_head_on_a_connection_that_closes(response_codec):
    assert head(status="404 Not Found", reusable=False, length=0) == (
        b"HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n", 404, 0, None, False, False, True)
    # a uwsgi-protocol peer (nginx) needs no Connection header
    assert head(status="404 Not Found", reusable=False, http_socket=False, length=0)[0] == b"HTTP/1.1 404 Not Found\r\n\r\n"


def test_response_head_the_applications_connection_header_wins(response_codec):
    assert head(headers=[("Connection", "Close")], length=5) == (
        b"HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n", 200, 1, None, False, False, True)
    assert head(headers=[("connection", "keep-alive")], length=5)[0] == (
        b"HTTP/1.1 200 OK\r\nconnection: keep-alive\r\nContent-Length: 5\r\n\r\n")


def test_response_head_an_own_transfer_encoding_ends_the_connection(response_codec):
    assert head(headers=[("Transfer-Encoding", "chunked")], length=5) == (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", 200, 1, None, False,
        False, True)


def test_response_head_an_unreadable_length_ends_the_connection(response_codec):
    assert head(headers=[("Content-Length", "x1")], length=5) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: x1\r\nConnection: close\r\n\r\n", 200, 1, None, False, False, True)
    assert head(headers=[("Content-Length", " 7")], length=7)[3] == 7  # what int() reads is a length


@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified", "101 Switching Protocols"])
def test_response_head_bodiless_statuses(response_codec, status):
    built = head(status=status, length=0)
    assert built[0] == f"HTTP/1.1 {status}\r\n\r\n".encode()
    assert built[3:] == (None, False, True, False)


def test_response_head_for_head_requests(response_codec):
    assert head(head_only=True, length=0) == (b"HTTP/1.1 200 OK\r\n\r\n", 200, 0, None, False, True, False)


def test_response_head_latin1_and_repeats(response_codec):
    built = head(headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=\xe9")], length=0)
    assert built[0] == b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=\xe9\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize(
    "status, headers",
    [
        ("200 OK\r\nX-Injected: 1", []),
        ("200 OK", [("X", "a\r\nSet-Cookie: evil")]),
        ("200 OK", [("X", "a\nb")]),
        ("200 OK", [("X", "a\rb")]),
        ("200 OK", [("X\r\nY", "b")]),
    ],
)
def test_response_splitting_refused(response_codec, status, headers):
    with pytest.raises(ResponseError, match="CR or LF"):
        head(status=status, headers=headers)


@pytest.mark.parametrize(
    "status, headers, message",
    [
        (None, [], "without calling start_response"),
        ("OK", [], "invalid response status"),
        ("2000 OK", [], "invalid response status"),
        (b"200 OK", [], "invalid response status"),
        ("200 OK", ("X", "y"), "must be a list"),
        ("200 OK", [("X", "y", "z")], "not a \\(name, value\\) tuple"),
        ("200 OK", [("X", 1)], "not a (pair of )?str"),
        ("200 OK", [("X", "\u20ac")], "not latin-1"),
    ],
)
def test_response_head_refuses_what_breaks_wsgi(response_codec, status, headers, message):
    with pytest.raises(ResponseError, match=message):
        http.response_head("HTTP/1.1", status, headers, 0, True, True, False)


def test_continue_constant():
    assert CONTINUE_100 == b"HTTP/1.1 100 Continue\r\n\r\n"
