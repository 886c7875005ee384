"""The RPC registry of one process: function names (bytes) to Python callables.

It is a plain per-process table: functions registered in the master before the workers fork are
inherited by every worker (uWSGI's "shared/inherited" functions); a function registered in a worker
exists in that worker only. ``rpc-max`` bounds the number of names.

Python 3 types: names and arguments may be ``str`` (UTF-8) or bytes; functions always receive bytes,
as under uWSGI. Whatever a function returns comes back as bytes (``str`` encoded UTF-8, other values
through ``str()``); ``None`` or an empty result is "no result" (``None`` for a local caller, a closed
connection for a remote one), as in uWSGI.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable

from uwkernel import log, runtime

#: Function names are shorter than this many bytes (uWSGI's limit).
MAX_NAME = 256
#: At most this many arguments travel with a call (the request array counts the name too).
MAX_ARGS = 255
DEFAULT_MAX = 64


def as_bytes(value: Any, what: str) -> bytes:
    """``value`` (str, bytes, bytearray or memoryview) as bytes; a ``str`` is encoded UTF-8."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"rpc {what} must be str or bytes, not {type(value).__name__}")


def function_name(name: Any) -> bytes:
    """A function name as bytes; ``ValueError`` when it is empty or 256 bytes or longer."""
    key = as_bytes(name, "function name")
    if not key or len(key) >= MAX_NAME:
        raise ValueError(f"rpc function names are 1 to {MAX_NAME - 1} bytes, not {len(key)}")
    return key


def encode_result(value: Any) -> bytes | None:
    """What a function returned, as the bytes a caller gets; None for no (or an empty) result."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogateescape")
    else:
        data = str(value).encode("utf-8")
    return data or None


class Registry:
    """The functions this process can serve, at most ``max_functions`` names."""

    def __init__(self, max_functions: int = DEFAULT_MAX):
        self.max_functions = max_functions
        self.functions: dict[bytes, Callable[..., Any]] = {}

    def register(self, name: Any, func: Callable[..., Any], argc: int = 0) -> bool:
        """Register ``func`` under ``name`` (replacing a function of that name); True.

        ``argc`` is accepted for compatibility: Python functions get every argument sent.
        Raises ``ValueError`` for a bad name or when ``rpc-max`` names are taken, ``TypeError`` for a
        non-callable.
        """
        key = function_name(name)
        if not callable(func):
            raise TypeError("rpc functions must be callable")
        if not 0 <= int(argc) <= MAX_ARGS:
            raise ValueError(f"argc must be 0-{MAX_ARGS}")
        if key not in self.functions and len(self.functions) >= self.max_functions:
            raise ValueError(f"unable to register rpc function: rpc-max ({self.max_functions}) reached")
        self.functions[key] = func
        shown = key.decode("utf-8", "replace")
        worker = runtime.worker_id()
        if runtime.process is None:
            log.log(f'registered shared/inherited RPC function "{shown}"')
        elif worker:
            log.log(f'registered RPC function "{shown}" on worker {worker}')
        else:
            log.log(f'registered RPC function "{shown}" in process {os.getpid()}')
        return True

    def call(self, name: Any, args: Iterable[Any]) -> bytes | None:
        """Call the function ``name`` with ``args`` as bytes; its result as bytes, None for no result.

        An unknown name is "no result" (None). Exceptions of the function propagate.
        """
        func = self.functions.get(function_name(name))
        if func is None:
            return None
        return encode_result(func(*(as_bytes(arg, "argument") for arg in args)))

    def names(self) -> tuple[bytes, ...]:
        """Every registered name, in registration order."""
        return tuple(self.functions)


#: This process's registry (sized by ``rpc-max`` in ``uwkernel_configure``).
REGISTRY = Registry()
