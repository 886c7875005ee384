"""Handlers that act on the process itself: cd/chdir, putenv, exit, print/log, pycall."""
from __future__ import annotations

import importlib
import os
from typing import Any

from uwkernel import log


def chdir(path: str) -> None:
    """``cd:DIR`` / ``chdir:DIR``: change the current directory."""
    os.chdir(path)


def putenv(assignment: str) -> None:
    """``putenv:NAME=VALUE``: set an environment variable of this process and the commands it runs."""
    name, sep, value = assignment.partition("=")
    if not sep or not name:
        raise ValueError(f"expected 'NAME=VALUE', got {assignment!r}")
    os.environ[name] = value


def exit_process(code: str) -> None:
    """``exit:[CODE]``: end the process now with status CODE (default 0)."""
    try:
        status = int(code) if code.strip() else 0
    except ValueError:
        raise ValueError(f"exit status {code!r} is not an integer") from None
    raise SystemExit(status)


def print_line(text: str) -> None:
    """``print:TEXT`` / ``log:TEXT``: write TEXT as one line of the instance log."""
    log.log(text)


def _resolve(dotted: str) -> Any:
    """The object named ``package.module.attr[.attr...]``: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            target = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name and split > 1:
                continue  # that prefix is an attribute, not a module: try a shorter one
            raise
        for attr in parts[split:]:
            target = getattr(target, attr)
        return target
    raise ValueError(f"expected 'module.function', got {dotted!r}")


def pycall(args: str) -> int | None:
    """``pycall:MODULE.FUNC [TEXT]``: call a Python function, with TEXT as its one argument if given.

    A falsy result (``None``, ``0``, ``False``) is success; a non-zero int is returned as the
    failure status, any other true result or an exception is a failure.
    """
    dotted, has_arg, text = args.partition(" ")
    func = _resolve(dotted)
    result = func(text) if has_arg else func()
    if not result:
        return None
    if isinstance(result, int) and not isinstance(result, bool):
        return result
    raise RuntimeError(f"{dotted} returned {result!r}")
