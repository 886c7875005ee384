"""End to end through ``python -m uwkernel --ini``: run once uwkernel and this plugin are installed."""
from __future__ import annotations


def test_exec_and_write_hooks_run_and_the_instance_exits_0(run_uwkernel, tmp_path):
    result = run_uwkernel(f"""
        exec-asap = echo hi > {tmp_path}/from-exec
        hook-asap = write:{tmp_path}/from-hook some text
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-exec").read_text() == "hi\n"
    assert (tmp_path / "from-hook").read_text() == "some text"


def test_failing_exec_stops_with_status_1_naming_phase_handler_argument(run_uwkernel, tmp_path):
    result = run_uwkernel(f"""
        exec-asap = false
        exec-asap = touch {tmp_path}/not-reached
    """, tmp_path)
    assert result.returncode == 1
    line = next(line for line in result.stderr.splitlines() if "FATAL hook failed" in line)
    assert "asap" in line and "exec:false" in line
    assert not (tmp_path / "not-reached").exists()


def test_call_uwsgi_log_reaches_the_log(run_uwkernel, tmp_path):
    result = run_uwkernel("hook-asap = call:uwsgi_log hello from uwsgi_log\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hello from uwsgi_log" in result.stderr.splitlines()


def test_dlopen_and_call_asap(run_uwkernel, tmp_path, clib):
    result = run_uwkernel(f"""
        dlopen = {clib}
        call-asap = hooktest_touch
        hook-asap = callret:hooktest_is_ok ok
        hook-asap = callintret:hooktest_minus_one 1
    """, tmp_path)
    assert result.returncode == 0, result.stderr


def test_missing_dlopen_library_is_a_config_error(run_uwkernel, tmp_path):
    result = run_uwkernel(f"dlopen = {tmp_path}/libmissing.so\n", tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path}/libmissing.so" in result.stderr
