"""uwkernel plugin ``exec``: uWSGI's base hook handlers and the ``exec-PHASE`` / ``call-PHASE`` options.

Handlers (``hook-PHASE = NAME:ARGS``): exec, safeexec, call, callret, callint, callintret, cd/chdir,
mkdir, putenv, chmod, chown/chown2, sticky, create/creat, write, writen, append, appendn, writefifo,
unlink, exit, print/log, wait_for_fs, wait_for_file, wait_for_dir, wait_for_socket, pycall.

Options: ``exec-PHASE`` (a shell command) and ``call-PHASE`` (a C function) for every phase,
``dlopen`` (libraries whose functions ``call`` can reach), ``binsh`` (the shell ``exec`` uses),
``wait-for-fs-timeout`` and ``wait-for-socket-timeout``.

The handlers' modules (:mod:`.files`, :mod:`.process`, :mod:`.shell`, :mod:`.symbols`, :mod:`.waits`)
are imported when a handler first runs, or when an option configures them: most instances run no hook.
"""
from __future__ import annotations

import sys
from importlib import import_module
from typing import Any, Callable

from uwkernel import hookimpl
from uwkernel.phases import Phase
from uwkernel.types import HookHandler, Option, PhaseHook

#: Seconds the wait_for_* hooks wait by default.
DEFAULT_WAIT_TIMEOUT = 60

#: The per-phase options, ``KIND-PHASE``: each kind with what it does; the hook handler has the kind's name.
_PHASE_KINDS = (("exec", "run a shell command"), ("call", "call a C function (void f(void))"))

OPTIONS: list[Option] = [
    *(
        Option(f"{kind}-{phase.value}", kind="list", help=f"{does} in the {phase.value} phase",
               phase_hook=PhaseHook(kind=kind, phase=phase.value, handler=kind))
        for kind, does in _PHASE_KINDS for phase in Phase
    ),
    Option("dlopen", kind="list", help="load a shared library (RTLD_GLOBAL) whose functions call hooks can reach"),
    Option("binsh", kind="list", help="shell for exec hooks: the first that is executable wins (default /bin/sh)"),
    Option("wait-for-fs-timeout", kind="int", default=DEFAULT_WAIT_TIMEOUT,
           help="seconds wait_for_fs/file/dir hooks wait before failing"),
    Option("wait-for-socket-timeout", kind="int", default=DEFAULT_WAIT_TIMEOUT,
           help="seconds wait_for_socket hooks wait before failing"),
]


def _module(name: str) -> Any:
    """This plugin's module ``name`` (``shell``, ``waits``...), imported now if it was not yet."""
    return import_module(f"{__name__}.{name}")


def _handler(module: str, function: str) -> Callable[[str], Any]:
    """The handler ``module.function``, its module imported at the first call."""

    def handler(args: str) -> Any:
        return getattr(_module(module), function)(args)

    handler.__name__ = handler.__qualname__ = function
    handler.__doc__ = f"``{__name__}.{module}.{function}``, imported at the first call."
    return handler


HANDLERS: list[HookHandler] = [
    HookHandler("exec", _handler("shell", "exec_command"), help="run a shell command; a non-zero exit status fails"),
    HookHandler("safeexec", _handler("shell", "safeexec"), help="run a shell command; never fails"),
    HookHandler("call", _handler("symbols", "call"), help="call a C function: 'symbol [string argument]'"),
    HookHandler("callret", _handler("symbols", "callret"), help="call an int-returning C function; non-zero fails"),
    HookHandler("callint", _handler("symbols", "callint"), help="call a C function: 'symbol [int argument]'"),
    HookHandler("callintret", _handler("symbols", "callintret"),
                help="call an int-returning C function with an int; non-zero fails"),
    HookHandler("cd", _handler("process", "chdir"), help="change the current directory", aliases=("chdir",)),
    HookHandler("putenv", _handler("process", "putenv"), help="set an environment variable: NAME=VALUE"),
    HookHandler("exit", _handler("process", "exit_process"), help="exit the process with the given status (default 0)"),
    HookHandler("print", _handler("process", "print_line"), help="write the text to the log", aliases=("log",)),
    HookHandler("pycall", _handler("process", "pycall"),
                help="call a Python function: 'module.func [string argument]'"),
    HookHandler("mkdir", _handler("files", "mkdir"), help="create a directory"),
    HookHandler("chmod", _handler("files", "chmod"), help="set a file's mode: 'file octal-mode'"),
    HookHandler("chown", _handler("files", "chown"), help="set a file's owner: 'file user group'", aliases=("chown2",)),
    HookHandler("sticky", _handler("files", "sticky"), help="add the sticky bit to a file's mode"),
    HookHandler("create", _handler("files", "create"), help="create an empty file (truncating)", aliases=("creat",)),
    HookHandler("write", _handler("files", "write"), help="write text to a file, truncating it: 'file text'"),
    HookHandler("writen", _handler("files", "writen"), help="write text and a newline to a file, truncating it"),
    HookHandler("append", _handler("files", "append"), help="append text to a file: 'file text'"),
    HookHandler("appendn", _handler("files", "appendn"), help="append text and a newline to a file"),
    HookHandler("writefifo", _handler("files", "writefifo"),
                help="write text to a fifo without blocking (no reader: success)"),
    HookHandler("unlink", _handler("files", "unlink"), help="remove a file"),
    HookHandler("wait_for_fs", _handler("waits", "wait_for_fs"), help="wait for a path to exist"),
    HookHandler("wait_for_file", _handler("waits", "wait_for_file"), help="wait for a regular file to exist"),
    HookHandler("wait_for_dir", _handler("waits", "wait_for_dir"), help="wait for a directory to exist"),
    HookHandler("wait_for_socket", _handler("waits", "wait_for_socket"),
                help="wait for a unix or host:port socket to accept"),
]


@hookimpl
def uwkernel_add_options() -> list[Option]:
    """The exec-PHASE and call-PHASE options, dlopen, binsh and the wait timeouts."""
    return OPTIONS


@hookimpl
def uwkernel_add_hook_handlers() -> list[HookHandler]:
    """uWSGI's base hook handlers, but for mount/umount (plugin mount), rpc, alarm and hostname."""
    return HANDLERS


@hookimpl
def uwkernel_configure(config) -> None:
    """Load the dlopen libraries and keep binsh and the wait timeouts for the handlers.

    A module is imported for this only when its options are given, or when it is loaded already (an
    earlier configuration of this process set it): the others start with the defaults.
    """
    libraries = config.values("dlopen")
    if libraries or _loaded("symbols"):
        _module("symbols").load_libraries(libraries)
    if config["binsh"] or _loaded("shell"):
        _module("shell").set_binsh(config["binsh"])
    timeouts = {"fs": config["wait-for-fs-timeout"], "socket": config["wait-for-socket-timeout"]}
    if set(timeouts.values()) != {DEFAULT_WAIT_TIMEOUT} or _loaded("waits"):
        _module("waits").set_timeouts(**timeouts)


def _loaded(name: str) -> bool:
    return f"{__name__}.{name}" in sys.modules
