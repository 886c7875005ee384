"""call, callret, callint, callintret: a compiled library loaded with dlopen, libc, and uwsgi_log."""
from __future__ import annotations

import ctypes

import pytest

import uwkernel_exec
from uwkernel.errors import ConfigError
from uwkernel_exec import symbols


@pytest.fixture
def lib(clib, make_config):
    """The test library, loaded through the dlopen option; its globals readable with ctypes."""
    uwkernel_exec.uwkernel_configure(make_config({"dlopen": [str(clib)]}))
    return ctypes.CDLL(str(clib))


def test_call_without_argument(lib):
    before = ctypes.c_int.in_dll(lib, "hooktest_calls").value
    assert symbols.call("hooktest_touch") is None
    assert ctypes.c_int.in_dll(lib, "hooktest_calls").value == before + 1


def test_call_passes_the_rest_as_a_string(lib):
    assert symbols.call("hooktest_take_str hello world") is None
    assert (ctypes.c_char * 256).in_dll(lib, "hooktest_last_str").value == b"hello world"


def test_call_ignores_the_return_value(lib):
    assert symbols.call("hooktest_seven") is None


def test_callret_zero_is_success_and_non_zero_failure(lib):
    assert symbols.callret("hooktest_is_ok ok") == 0
    assert symbols.callret("hooktest_is_ok nope") == 1
    assert symbols.callret("hooktest_zero") == 0
    assert symbols.callret("hooktest_seven") == 7


def test_callint_passes_an_int(lib):
    assert symbols.callint("hooktest_take_int 42") is None
    assert ctypes.c_int.in_dll(lib, "hooktest_last_int").value == 42
    assert symbols.callint("hooktest_take_int -3") is None
    assert ctypes.c_int.in_dll(lib, "hooktest_last_int").value == -3


def test_callint_rejects_a_non_integer(lib):
    with pytest.raises(ValueError, match="not an integer"):
        symbols.callint("hooktest_take_int abc")


def test_callintret(lib):
    assert symbols.callintret("hooktest_minus_one 1") == 0
    assert symbols.callintret("hooktest_minus_one 5") == 4


def test_process_symbols_are_reachable_without_dlopen():
    assert symbols.callintret("abs 0") == 0
    assert symbols.callintret("abs -9") == 9


def test_missing_symbol_fails_naming_it(lib, clib):
    with pytest.raises(LookupError, match="'uwkernel_no_such_symbol'") as info:
        symbols.call("uwkernel_no_such_symbol")
    assert str(clib) in str(info.value)
    for handler in (symbols.callret, symbols.callint, symbols.callintret):
        with pytest.raises(LookupError, match="uwkernel_no_such_symbol"):
            handler("uwkernel_no_such_symbol 1")


def test_empty_symbol_is_a_syntax_error():
    with pytest.raises(ValueError, match="symbol"):
        symbols.call("")


def test_dlopen_failure_is_a_config_error_naming_the_library(tmp_path, make_config):
    missing = tmp_path / "libnothere.so"
    with pytest.raises(ConfigError) as info:
        uwkernel_exec.uwkernel_configure(make_config({"dlopen": [str(missing)]}))
    message = str(info.value)
    assert str(missing) in message and "dlopen" in message and "test.ini:1" in message


def test_call_uwsgi_log_writes_to_the_log(capfd):
    assert symbols.call("uwsgi_log hello from C") is None
    assert "hello from C" in capfd.readouterr().err.splitlines()
    assert symbols.callret("uwsgi_log returns zero") == 0


def test_uwsgi_log_wrong_signature_fails_instead_of_crashing():
    with pytest.raises(TypeError, match="uwsgi_log takes one string argument"):
        symbols.call("uwsgi_log")
    with pytest.raises(TypeError, match="uwsgi_log takes one string argument"):
        symbols.callint("uwsgi_log 3")
