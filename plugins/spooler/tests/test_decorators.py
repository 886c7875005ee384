"""uwsgidecorators' @spool, @spoolforever and @spoolraw over a real instance's spoolers."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from uwkernel_spooler import spoolfile

REPO = Path(__file__).resolve().parents[3]

APP = '''
import json, os, time
import uwsgi
from uwsgidecorators import spool, spoolforever, spoolraw

RESULTS = os.environ["SPOOL_RESULTS"]


def show(value):
    if isinstance(value, bytes):
        return "bytes:" + value.hex()
    return type(value).__name__ + ":" + repr(value)


def record(kind, args):
    line = {"kind": kind, "cwd": os.getcwd(), "time": time.time(),
            "args": {str(k): show(v) for k, v in args.items()}}
    with open(RESULTS, "a") as f:
        f.write(json.dumps(line) + "\\n")


@spool
def plain(args):
    record("plain", args)
    return uwsgi.SPOOL_RETRY  # @spool removes the task whatever the function returns


@spool(pass_arguments=True)
def with_args(a, b, c=None):
    record("with_args", {"a": a, "b": b, "c": c})


@spoolforever
def forever(args):
    record("forever", args)


RAW_RUNS = []


@spoolraw
def raw(args):
    record("raw", args)
    return uwsgi.SPOOL_OK if os.path.exists(RESULTS + ".raw-ok") else uwsgi.SPOOL_RETRY


@spoolraw(pass_arguments=True)
def raw_args(*args, **kwargs):
    record("raw_args", {"args": args, "kwargs": kwargs})
    return uwsgi.SPOOL_OK


def application(environ, start_response):
    if environ["PATH_INFO"] == "/go":
        second = os.environ["SECOND_DIR"]
        plain.spool(name="kw", raw=b"\\xff\\xfe", utf=b"caf\\xc3\\xa9", num=5, body=b"\\x00BODY")
        plain.spool({"name": "dict-form"})
        plain({"name": "called"})
        with_args.spool(1, [2, 3], c={"x": b"y"}, spooler=second)
        with_args.spool("late", None, at=time.time() + 2)
        with_args.spool("prio", (1,), priority=3)
        forever.spool(name="f")
        raw.spool(name="r")
        raw_args.spool(b"\\xff", body="text body", k=1.5)
        with_args.spool("md", None, message_dict="a note")  # written in the task, never passed to the function
        try:
            with_args.spool("md-dict", None, message_dict={"k": "v"})
        except ValueError as exc:  # as uWSGI: uwsgi.spool refuses a dict value
            record("refused", {"error": str(exc)})
    start_response("200 OK", [])
    return [b"ok"]
'''


def test_decorators_end_to_end(instance, tmp_path):
    if not (REPO / "uwsgidecorators.py").exists():
        pytest.skip("uwsgidecorators.py is not there yet")
    second = tmp_path / "q2"
    server = instance("--spooler", "q", "--spooler", str(second), "--spooler-frequency", "1",
                      "--pythonpath", str(REPO), app=APP, env={"SECOND_DIR": str(second)})
    started = time.time()
    server.get("/go")

    def kinds():
        return [t["kind"] for t in server.tasks()]

    server.wait_for(lambda: kinds().count("with_args") == 4 and kinds().count("forever") >= 2
                    and kinds().count("raw") >= 2, timeout=20, what="every decorated task")
    (tmp_path / "results.jsonl.raw-ok").touch()
    server.wait_for(lambda: _remaining(tmp_path) == [b"forever"], timeout=10, what="only @spoolforever's task left")
    tasks = server.tasks()
    plain = {t["args"]["name"]: t for t in tasks if t["kind"] == "plain"}
    assert set(plain) == {"str:'kw'", "str:'dict-form'", "str:'called'"}
    kw = plain["str:'kw'"]["args"]
    assert kw["raw"] == "bytes:fffe"  # not UTF-8: stays bytes
    assert kw["utf"] == "str:'café'" and kw["num"] == "str:'5'" and kw["body"] == "bytes:00424f4459"
    assert kw["ud_spool_func"] == "str:'plain'"
    assert sum(t["kind"] == "plain" for t in tasks) == 3  # @spool: ran once each despite SPOOL_RETRY

    args = {t["args"]["a"]: t for t in tasks if t["kind"] == "with_args"}
    assert args["int:1"]["args"] == {"a": "int:1", "b": "list:[2, 3]", "c": "dict:{'x': b'y'}"}
    assert args["int:1"]["cwd"] == str(second)
    assert args["str:'late'"]["time"] >= int(started) + 2 - 1
    assert args["str:'prio'"]["cwd"] == str(tmp_path / "q" / "3")  # a priority task runs in its subdirectory
    assert args["str:'prio'"]["args"]["b"] == "tuple:(1,)"
    assert args["str:'md'"]["args"] == {"a": "str:'md'", "b": "NoneType:None", "c": "NoneType:None"}
    [refused] = [t["args"]["error"] for t in tasks if t["kind"] == "refused"]
    assert "'message_dict'" in refused and "dict" in refused

    raw_args = next(t for t in tasks if t["kind"] == "raw_args")["args"]
    assert raw_args == {"args": "tuple:(b'\\xff',)", "kwargs": "dict:{'k': 1.5}"}
    assert [t["args"]["name"] for t in tasks if t["kind"] == "forever"][:2] == ["str:'f'", "str:'f'"]


def _remaining(root: Path) -> list[bytes]:
    """The decorated function of every task file left in the spool dirs under ``root``."""
    names = []
    for path in root.rglob("uwsgi_spoolfile_on_*"):
        names.append(spoolfile.parse(path.read_bytes())[0][b"ud_spool_func"])
    return names
