"""The pure parts of the benchmark harness (bench/run.py): wrk's output and the table. No servers, no timing."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import run as bench  # noqa: E402

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:40000/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms    1.41ms  12.54ms   89.39%
    Req/Sec     7.74k     1.95k   11.34k    58.33%
  Latency Distribution
     50%  724.00us
     75%    1.29ms
     90%    2.79ms
     99%    1.02s
  46392 requests in 10.02s, 3.45MB read
  Socket errors: connect 0, read 46389, write 2, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  15350.18
Transfer/sec:      1.14MB
"""


def test_parse_wrk_reads_rate_percentiles_in_ms_and_errors():
    run = bench.parse_wrk(WRK_OUTPUT)
    assert run.rps == 15350.18
    assert run.p50_ms == pytest.approx(0.724)
    assert run.p99_ms == pytest.approx(1020)
    assert run.requests == 46392
    assert run.socket_errors == 46392
    assert run.non_2xx == 7


def test_parse_wrk_without_errors_lines():
    clean = "\n".join(line for line in WRK_OUTPUT.splitlines() if "errors" not in line and "Non-2xx" not in line)
    run = bench.parse_wrk(clean)
    assert (run.socket_errors, run.non_2xx) == (0, 0)


def test_parse_wrk_refuses_output_without_a_rate():
    with pytest.raises(ValueError, match="Requests/sec"):
        bench.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def _row(table: str, key: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(f"| ({key})"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_table_ratios_and_verdicts():
    M = bench.Measure
    results = {
        ("b", "uwkernel"): M(9000, "p50 1.00 ms · p99 2.00 ms"), ("b", "uWSGI"): M(10000),
        ("b", "gunicorn"): M(5000), ("b", "granian"): M(None, note="failed (exited with status 1)"),
        ("d", "uwkernel"): M(75.0), ("d", "uWSGI"): M(25.0),
        ("e", "uwkernel"): M(4.0), ("e", "uWSGI"): M(3.0),
    }
    table = bench.render_table(results)
    header, *_ = table.splitlines()
    assert header.split("|")[1:-1][1:5] == [" uwkernel ", " uWSGI ", " gunicorn ", " granian "]

    b = _row(table, "b")
    assert b[1] == "9,000 req/s<br>p50 1.00 ms · p99 2.00 ms"
    assert b[4] == "n/a: failed (exited with status 1)"
    assert b[5:7] == ["0.90×", "1.80×"]
    assert b[7] == "≥ 0.8× uWSGI: **PASS**<br>≥ 2× gunicorn: **FAIL**"

    d = _row(table, "d")  # an absolute bound, lower is better
    assert d[5] == "3.00×" and d[7] == "≤ 60 ms: **FAIL**"
    e = _row(table, "e")  # a ratio bound, lower is better
    assert e[5] == "1.33×" and e[7] == "≤ 1.5× uWSGI: **PASS**"

    a = _row(table, "a")  # nothing measured: no ratio, no verdict
    assert a[1] == "–" and a[5] == "–" and a[7] == "≥ 0.9× uWSGI: n/a"


def test_document_has_facts_table_and_notes():
    doc = bench.render_doc({}, {"machine": "2 × test CPU"}, ["(b) uwkernel closed the connection."])
    assert "- **machine**: 2 × test CPU" in doc
    assert "| case | uwkernel | uWSGI | gunicorn | granian |" in doc
    assert "- (b) uwkernel closed the connection." in doc
