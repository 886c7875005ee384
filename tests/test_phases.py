"""The exact order in which phases, their hook chains and their hardcoded options fire; fatal flags."""
from __future__ import annotations

import os

import pytest

from support import run_uwkernel
from uwkernel.phases import Phase, parse_hook_line

# A plugin that records every hook call in $ORDER_FILE: a handler, one hardcoded option per kind and
# phase (rec<kind>-<phase>), and the uwkernel_phase lifecycle hook.
RECORDER = """
import os
from uwkernel import hookimpl
from uwkernel.phases import Phase
from uwkernel.types import HookHandler, Option, PhaseHook

def record(text):
    with open(os.environ["ORDER_FILE"], "a") as f:
        f.write(text + "\\n")

@hookimpl
def uwkernel_add_options():
    return [Option(f"rec{kind}-{p.value}", kind="list", phase_hook=PhaseHook(kind, p.value, "record"))
            for p in Phase for kind in ("call", "exec", "umount", "mount")]

@hookimpl
def uwkernel_add_hook_handlers():
    return [HookHandler("record", record), HookHandler("fail", lambda args: 1),
            HookHandler("explode", lambda args: 1 / 0)]

@hookimpl
def uwkernel_phase(phase, config):
    record(f"plugin {phase.value}")
"""

START_UP = ["asap", "pre-jail", "post-jail", "in-jail", "as-root", "as-user", "pre-app", "post-app",
            "as-user-atexit"]


@pytest.fixture
def recorder(fake_dists, tmp_path):
    fake_dists.add("fake-recorder", "recorder", "fake_recorder_mod", RECORDER)
    order = tmp_path / "order.txt"

    def run(ini_text: str):
        ini = tmp_path / "app.ini"
        ini.write_text("[uwsgi]\n" + ini_text)
        result = run_uwkernel("--ini", str(ini), path=[fake_dists.root], env={"ORDER_FILE": str(order)})
        lines = order.read_text().splitlines() if order.exists() else []
        return result, lines

    return run


def test_phases_chains_and_hardcoded_kinds_fire_in_order(recorder):
    # Written in a scrambled order: call before exec before umount before mount, hooks last.
    ini = "".join(
        f"reccall-{p} = call {p}\nrecexec-{p} = exec {p}\nrecumount-{p} = umount {p}\n"
        f"recmount-{p} = mount {p}\nhook-{p} = record:hook {p} 1\nhook-{p} = record:hook {p} 2\n"
        for p in reversed(START_UP)
    )
    result, lines = recorder(ini)
    assert result.returncode == 0, result.stderr
    phases = [p for p in START_UP if p != "as-root" or os.geteuid() == 0]
    expected = []
    for p in phases:
        expected += [f"hook {p} 1", f"hook {p} 2", f"mount {p}", f"umount {p}", f"exec {p}", f"call {p}",
                     f"plugin {p}"]
    assert lines == expected


def test_fatal_phase_failure_stops_with_status_1_naming_phase_handler_and_argument(recorder):
    result, lines = recorder("hook-pre-app = fail:the argument\nhook-post-app = record:never\n")
    assert result.returncode == 1
    assert 'FATAL hook failed in phase pre-app: "fail:the argument": returned 1' in result.stderr
    assert "never" not in lines
    assert "Traceback" not in result.stderr


def test_fatal_phase_exception_names_the_exception(recorder):
    result, _ = recorder("hook-asap = explode:now\n")
    assert result.returncode == 1
    assert 'FATAL hook failed in phase asap: "explode:now": ZeroDivisionError' in result.stderr


def test_non_fatal_phase_failure_is_logged_and_ignored(recorder):
    result, lines = recorder("hook-as-user-atexit = fail:x\nhook-as-user-atexit = record:after the failure\n")
    assert result.returncode == 0, result.stderr
    assert 'hook failed in phase as-user-atexit (not fatal): "fail:x"' in result.stderr
    assert "after the failure" in lines


def test_bang_hides_the_arguments_from_the_log(recorder):
    result, lines = recorder("hook-asap = !record:secret-token\n")
    assert result.returncode == 0, result.stderr
    assert "secret-token" in lines
    assert "secret-token" not in result.stderr and "record:<hidden>" in result.stderr


@pytest.mark.parametrize("line, message", [
    ("hook-asap = record", "is not of the form handler:arguments"),
    ("hook-asap = nosuchhandler:x", "unknown hook handler 'nosuchhandler'"),
])
def test_bad_hook_lines_are_config_errors_naming_file_line_and_option(recorder, tmp_path, line, message):
    result, lines = recorder("hook-asap = record:first\n" + line + "\n")
    assert result.returncode == 1
    assert f"{tmp_path / 'app.ini'}:3" in result.stderr
    assert "hook-asap" in result.stderr and message in result.stderr
    assert lines == []  # nothing ran
    assert "Traceback" not in result.stderr


def test_phase_list_and_fatal_flags():
    assert [p.value for p in Phase] == [
        "asap", "pre-jail", "post-jail", "in-jail", "as-root", "as-user", "pre-app", "post-app", "accepting",
        "accepting1", "accepting-once", "accepting1-once", "as-user-atexit", "as-emperor", "as-vassal"]
    assert [p.value for p in Phase if not p.fatal] == ["as-user-atexit", "as-emperor"]


def test_parse_hook_line():
    assert parse_hook_line("exec:echo a:b") == ("exec", "echo a:b", False)
    assert parse_hook_line("!write:/f x") == ("write", "/f x", True)
    with pytest.raises(ValueError):
        parse_hook_line("exec")
