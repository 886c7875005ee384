"""Request log lines (uwkernel.log): uWSGI's default line, log-format variables, log-date."""
from __future__ import annotations

import re
import time

import pytest

from uwkernel import log
from uwkernel.log import RequestLog, RequestRecord, compile_log_format, default_request_line

VARS = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/path?x=1", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "example.org", "HTTP_USER_AGENT": "curl/8",
        "CONTENT_LENGTH": "12"}
START = time.mktime((2026, 11, 22, 2, 16, 45, 0, 0, -1))


def record(**changes) -> RequestRecord:
    fields = dict(vars=VARS, pid=123, wid=2, core=0, app_id=0, app_requests=1, total_requests=7, modifier1=0,
                  modifier2=0, start=START, end=START + 0.0123456, status=200, size=12, hsize=79, headers=2,
                  switches=1)
    fields.update(changes)
    return RequestRecord(**fields)


def test_default_line_is_uwsgis():
    size = 4 * len(VARS) + sum(map(len, VARS)) + sum(map(len, VARS.values()))
    assert default_request_line(record()) == (
        f"[pid: 123|app: 0|req: 1/7] 127.0.0.1 () {{14 vars in {size} bytes}} [Sun Nov 22 02:16:45 2026] "
        "GET /path?x=1 => generated 12 bytes in 12 msecs (HTTP/1.1 200) 2 headers in 79 bytes "
        "(1 switches on core 0)")


def test_default_line_without_an_app_and_via_sendfile():
    line = default_request_line(record(app_id=-1, app_requests=-1, sendfile=True, vars={}))
    assert line.startswith("[pid: 123|app: -1|req: -1/7]  () {0 vars in 0 bytes}")
    assert "in 12 msecs via sendfile() ( 200)" in line


@pytest.mark.parametrize("fmt, expected", [
    ("%(addr) - %(user) \"%(method) %(uri) %(proto)\" %(status) %(size)",
     '127.0.0.1 - - "GET /path?x=1 HTTP/1.1" 200 91'),
    ("%(host) %(uagent) %(referer)", "example.org curl/8 -"),
    ("%(msecs)/%(micros)/%(secs)", "12/12345/0.012345"),
    ("%(rsize) %(hsize) %(headers) %(cl) %(vars) %(pktsize)", "12 79 2 12 14 %d" % (
        4 * len(VARS) + sum(map(len, VARS)) + sum(map(len, VARS.values())))),
    ("%(pid) %(wid) %(core) %(switches) %(modifier1) %(modifier2)", "123 2 0 1 0 0"),
    ("%(time) %(tmsecs)", f"{int(START)} {int(START * 1000)}"),
    ("%(ctime)", "Sun Nov 22 02:16:45 2026"),
    ("%(var.HTTP_HOST) %(var.NOPE) %(logvar_unknown)", "example.org - -"),
    ("100% sure %(status)%", "100% sure 200%"),
    ("%(unclosed", "%(unclosed"),
])
def test_log_format_variables(fmt, expected):
    assert RequestLog(fmt).format(record()) == expected


def test_log_format_time_and_memory_variables():
    line = RequestLog("%(ltime)|%(epoch)|%(rss)|%(vszM)").format(record())
    ltime, epoch, rss, vsz_mb = line.split("|")
    assert re.fullmatch(r"22/Nov/2026:02:16:45 [+-]\d{4}", ltime)
    assert abs(int(epoch) - time.time()) < 5
    assert int(rss) > 0 and int(vsz_mb) > 0


def test_compiled_format_keeps_literals_and_renderers():
    parts = compile_log_format("[%(status)] %(var.X)!")
    assert parts[0] == "[" and callable(parts[1]) and parts[2] == "] " and callable(parts[3]) and parts[4] == "!"


def test_request_lines_have_no_date_prefix_but_log_lines_do(capfd):
    try:
        log.set_date_format("%Y")
        log.log("hello")
        RequestLog("%(status)").write(record())
        log.set_date_format("true")
        log.log("ctime")
        log.set_date_format("off")
        log.log("plain")
    finally:
        log.set_date_format(None)
    lines = capfd.readouterr().err.splitlines()
    assert lines[0] == f"{time.strftime('%Y')} - hello"
    assert lines[1] == "200"
    assert re.fullmatch(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} - ctime", lines[2])
    assert lines[3] == "plain"
