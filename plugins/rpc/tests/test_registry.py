"""The per-process registry: names, types, rpc-max, results."""
from __future__ import annotations

import pytest

from uwkernel_rpc.registry import Registry, encode_result


def test_register_and_call_with_str_or_bytes():
    registry = Registry()
    seen = []

    def echo(*args):
        seen.append(args)
        return b"-".join(args)

    assert registry.register("echo", echo) is True
    assert registry.call(b"echo", ["a", b"b"]) == b"a-b"
    assert seen == [(b"a", b"b")]  # functions always get bytes
    assert registry.names() == (b"echo",)


def test_unknown_function_is_no_result():
    assert Registry().call("missing", []) is None


@pytest.mark.parametrize("value, expected", [
    (None, None), (b"", None), ("", None), (b"x", b"x"), ("h\u00e9", "h\u00e9".encode()), (42, b"42"),
    (bytearray(b"ab"), b"ab"),
])
def test_results_are_bytes(value, expected):
    assert encode_result(value) == expected


def test_names_must_be_shorter_than_256_bytes():
    registry = Registry()
    registry.register("n" * 255, lambda: b"ok")
    with pytest.raises(ValueError):
        registry.register("n" * 256, lambda: b"no")
    with pytest.raises(ValueError):
        registry.register("", lambda: b"no")
    with pytest.raises(TypeError):
        registry.register(12, lambda: b"no")
    with pytest.raises(TypeError):
        registry.register("f", "not callable")


def test_rpc_max_bounds_names_but_not_replacements():
    registry = Registry(max_functions=2)
    registry.register("a", lambda: b"1")
    registry.register("b", lambda: b"2")
    registry.register("a", lambda: b"3")
    assert registry.call("a", []) == b"3"
    with pytest.raises(ValueError, match="rpc-max"):
        registry.register("c", lambda: b"4")


def test_exceptions_propagate_to_local_callers():
    registry = Registry()
    registry.register("boom", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        registry.call("boom", [])
