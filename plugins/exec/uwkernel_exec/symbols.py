"""C functions called by name: the ``call``, ``callret``, ``callint`` and ``callintret`` handlers.

``call:SYM [TEXT]`` calls ``void SYM(char *)`` (``void SYM(void)`` without TEXT); ``callint:SYM [N]``
calls ``void SYM(int)``; the ``ret`` variants call functions returning ``int`` and fail on a non-zero
result. A symbol is looked up, in order, in:

1. :func:`python_symbols`, C-callable functions written in Python (``uwsgi_log``, so that uWSGI's
   documented ``call:uwsgi_log text`` works);
2. the process (what ``dlsym(RTLD_DEFAULT, ...)`` finds: libc, the Python runtime, and every library
   loaded with ``RTLD_GLOBAL``);
3. the libraries of the ``dlopen`` option, loaded by :func:`load_libraries` at configure time.

As in C, calling a function with the wrong signature is undefined behaviour; only the
Python-provided functions, whose signature is known, are checked.

ctypes is imported when a library is loaded or a function called, not with this module: most
instances do neither, and importing it costs milliseconds of start-up.
"""
from __future__ import annotations

import functools
from typing import Any, Iterable, NamedTuple

from uwkernel import log
from uwkernel.errors import ConfigError

_libraries: dict[str, Any] = {}  # dlopen path -> ctypes.CDLL


class PythonSymbol(NamedTuple):
    """A Python function exposed as a C function pointer (an entry of :func:`python_symbols`).

    ``argument`` is the kind of argument the function takes (``"str"`` or ``"int"``); ``cfunc``
    is the ctypes callback, kept here so it lives as long as the process.
    """

    argument: str
    cfunc: Any


def _uwsgi_log(text: bytes | None) -> int:
    log.log((text or b"").decode("utf-8", "backslashreplace"))
    return 0


@functools.cache
def python_symbols() -> dict[str, PythonSymbol]:
    """The C symbols Python provides, consulted before the process's own symbols (made on first use)."""
    import ctypes

    return {"uwsgi_log": PythonSymbol("str", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p)(_uwsgi_log))}


@functools.cache
def _process() -> Any:
    """The process's own symbols, as ``dlsym(RTLD_DEFAULT, ...)`` finds them."""
    import ctypes

    return ctypes.CDLL(None)


def load_libraries(paths: Iterable[tuple[str, Any]]) -> None:
    """Load the ``dlopen`` libraries (``(path, origin)`` pairs) with ``RTLD_GLOBAL``, replacing earlier ones.

    A library that cannot be loaded is a :class:`~uwkernel.errors.ConfigError` naming it.
    """
    loaded = {}
    for path, origin in paths:
        import ctypes

        try:
            loaded[path] = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError as exc:
            raise ConfigError(f"cannot load library '{path}': {exc}", origin, "dlopen") from None
    _libraries.clear()
    _libraries.update(loaded)


def _address(name: str) -> tuple[int, str | None]:
    """The address of the function ``name`` and, for Python-provided ones, the argument kind it takes."""
    import ctypes

    provided = python_symbols().get(name)
    if provided is not None:
        return ctypes.cast(provided.cfunc, ctypes.c_void_p).value, provided.argument
    for library in (_process(), *_libraries.values()):
        try:
            return ctypes.cast(library[name], ctypes.c_void_p).value, None
        except AttributeError:
            continue
    searched = ", ".join(_libraries)
    raise LookupError(
        f"symbol '{name}' not found in the process"
        + (f" nor in the dlopen'ed libraries ({searched})" if searched else " (no dlopen'ed libraries)")
    )


def _call(args: str, argument: str, returns_int: bool) -> Any:
    """Call the function ``SYM [ARG]`` names with ARG as ``argument`` ("str" or "int"); its int result if asked."""
    import ctypes

    name, has_arg, raw = args.partition(" ")
    if not name:
        raise ValueError(f"expected 'symbol [argument]', got {args!r}")
    if not has_arg:
        argtypes, values = [], []
    elif argument == "int":
        try:
            argtypes, values = [ctypes.c_int], [int(raw)]
        except ValueError:
            raise ValueError(f"{name}: the argument {raw!r} is not an integer") from None
    else:
        argtypes, values = [ctypes.c_char_p], [raw.encode()]
    address, takes = _address(name)
    if takes is not None and (not has_arg or takes != argument):
        raise TypeError(f"{name} takes one {'string' if takes == 'str' else 'integer'} argument")
    return ctypes.CFUNCTYPE(ctypes.c_int if returns_int else None, *argtypes)(address)(*values)


def call(args: str) -> None:
    """``call:SYM [TEXT]``: call ``SYM(TEXT)`` (or ``SYM()``); only a missing symbol fails."""
    _call(args, "str", False)


def callret(args: str) -> int:
    """``callret:SYM [TEXT]``: call ``int SYM(TEXT)`` (or ``SYM()``); a non-zero result fails."""
    return _call(args, "str", True)


def callint(args: str) -> None:
    """``callint:SYM [N]``: call ``SYM(N)`` with an int (or ``SYM()``); only a missing symbol fails."""
    _call(args, "int", False)


def callintret(args: str) -> int:
    """``callintret:SYM [N]``: call ``int SYM(N)`` (or ``SYM()``); a non-zero result fails."""
    return _call(args, "int", True)
