"""Micro-benchmark of the wire codecs' hot path (not a test).

Times, in microseconds per call: parsing the vars of a typical nginx ``uwsgi_pass`` packet, parsing a
typical browser GET head, building a response head, and reading a packet or a head from a socket
pair (system calls included). Run: ``python bench/proto_micro.py``.
"""
from __future__ import annotations

import socket
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uwkernel.proto import http, uwsgi  # noqa: E402

# What nginx sends with the stock uwsgi_params for a browser GET: the params, then the headers.
NGINX_VARS = {
    "QUERY_STRING": "page=2&sort=name",
    "REQUEST_METHOD": "GET",
    "CONTENT_TYPE": "",
    "CONTENT_LENGTH": "",
    "REQUEST_URI": "/products/list?page=2&sort=name",
    "PATH_INFO": "/products/list",
    "DOCUMENT_ROOT": "/usr/share/nginx/html",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REQUEST_SCHEME": "http",
    "REMOTE_ADDR": "192.168.1.20",
    "REMOTE_PORT": "53422",
    "SERVER_PORT": "80",
    "SERVER_NAME": "shop.example.com",
    "HTTP_HOST": "shop.example.com",
    "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.5",
    "HTTP_ACCEPT_ENCODING": "gzip, deflate, br",
    "HTTP_CONNECTION": "keep-alive",
    "HTTP_COOKIE": "sessionid=8f2a9c1e7b3d4f60a5e1c2b3d4e5f607; csrftoken=Zx81kLmN0pQrStUv",
}
PACKET = uwsgi.build_packet(0, uwsgi.encode_vars(NGINX_VARS))

GET_HEAD = (
    b"GET /products/list?page=2&sort=name HTTP/1.1\r\n"
    b"Host: shop.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: sessionid=8f2a9c1e7b3d4f60a5e1c2b3d4e5f607; csrftoken=Zx81kLmN0pQrStUv\r\n"
    b"\r\n"
)
RESPONSE_HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "1234")]


def per_call_us(func, number: int) -> float:
    """Best of five runs of ``number`` calls, in microseconds per call."""
    return min(timeit.repeat(func, number=number, repeat=5)) / number * 1e6


def main() -> None:
    """Run every measurement and print one line each."""
    a, b = socket.socketpair()
    a.settimeout(5)
    b.settimeout(5)

    def packet_over_socket():
        a.sendall(PACKET)
        uwsgi.read_packet(b)

    def head_over_socket():
        a.sendall(GET_HEAD)
        http.read_head(b)

    payload = PACKET[4:]
    rows = [
        (f"uwsgi parse_vars, nginx packet ({len(payload)} B, {len(NGINX_VARS)} vars)",
         lambda: uwsgi.parse_vars(payload), 100_000),
        ("uwsgi parse_header + parse_vars", lambda: (uwsgi.parse_header(PACKET), uwsgi.parse_vars(PACKET[4:])),
         100_000),
        (f"http parse_head, browser GET ({len(GET_HEAD)} B, 7 headers)", lambda: http.parse_head(GET_HEAD),
         100_000),
        ("http response_head (2 headers, length known)",
         lambda: http.response_head("HTTP/1.1", "200 OK", RESPONSE_HEADERS, 13, True, True, False), 100_000),
        ("uwsgi read_packet over a socketpair (send + recv)", packet_over_socket, 20_000),
        ("http read_head over a socketpair (send + recv)", head_over_socket, 20_000),
    ]
    print(f"Python {sys.version.split()[0]}")
    for name, func, number in rows:
        print(f"{per_call_us(func, number):8.2f} us  {name}")
    a.close()
    b.close()


if __name__ == "__main__":
    main()
