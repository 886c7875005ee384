"""uwkernel plugin ``exec``: uWSGI's base hook handlers and the ``exec-PHASE`` / ``call-PHASE`` options.

Handlers (``hook-PHASE = NAME:ARGS``): exec, safeexec, call, callret, callint, callintret, cd/chdir,
mkdir, putenv, chmod, chown/chown2, sticky, create/creat, write, writen, append, appendn, writefifo,
unlink, exit, print/log, wait_for_fs, wait_for_file, wait_for_dir, wait_for_socket, pycall.

Options: ``exec-PHASE`` (a shell command) and ``call-PHASE`` (a C function) for every phase,
``dlopen`` (libraries whose functions ``call`` can reach), ``binsh`` (the shell ``exec`` uses),
``wait-for-fs-timeout`` and ``wait-for-socket-timeout``.
"""
from __future__ import annotations

from uwkernel import hookimpl
from uwkernel.phases import Phase
from uwkernel.types import HookHandler, Option, PhaseHook

from . import files, process, shell, symbols, waits

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
    Option("wait-for-fs-timeout", kind="int", default=waits.DEFAULT_TIMEOUT,
           help="seconds wait_for_fs/file/dir hooks wait before failing"),
    Option("wait-for-socket-timeout", kind="int", default=waits.DEFAULT_TIMEOUT,
           help="seconds wait_for_socket hooks wait before failing"),
]

HANDLERS: list[HookHandler] = [
    HookHandler("exec", shell.exec_command, help="run a shell command; a non-zero exit status fails"),
    HookHandler("safeexec", shell.safeexec, help="run a shell command; never fails"),
    HookHandler("call", symbols.call, help="call a C function: 'symbol [string argument]'"),
    HookHandler("callret", symbols.callret, help="call an int-returning C function; non-zero fails"),
    HookHandler("callint", symbols.callint, help="call a C function: 'symbol [int argument]'"),
    HookHandler("callintret", symbols.callintret, help="call an int-returning C function with an int; non-zero fails"),
    HookHandler("cd", process.chdir, help="change the current directory", aliases=("chdir",)),
    HookHandler("putenv", process.putenv, help="set an environment variable: NAME=VALUE"),
    HookHandler("exit", process.exit_process, help="exit the process with the given status (default 0)"),
    HookHandler("print", process.print_line, help="write the text to the log", aliases=("log",)),
    HookHandler("pycall", process.pycall, help="call a Python function: 'module.func [string argument]'"),
    HookHandler("mkdir", files.mkdir, help="create a directory"),
    HookHandler("chmod", files.chmod, help="set a file's mode: 'file octal-mode'"),
    HookHandler("chown", files.chown, help="set a file's owner: 'file user group'", aliases=("chown2",)),
    HookHandler("sticky", files.sticky, help="add the sticky bit to a file's mode"),
    HookHandler("create", files.create, help="create an empty file (truncating)", aliases=("creat",)),
    HookHandler("write", files.write, help="write text to a file, truncating it: 'file text'"),
    HookHandler("writen", files.writen, help="write text and a newline to a file, truncating it"),
    HookHandler("append", files.append, help="append text to a file: 'file text'"),
    HookHandler("appendn", files.appendn, help="append text and a newline to a file"),
    HookHandler("writefifo", files.writefifo, help="write text to a fifo without blocking (no reader: success)"),
    HookHandler("unlink", files.unlink, help="remove a file"),
    HookHandler("wait_for_fs", waits.wait_for_fs, help="wait for a path to exist"),
    HookHandler("wait_for_file", waits.wait_for_file, help="wait for a regular file to exist"),
    HookHandler("wait_for_dir", waits.wait_for_dir, help="wait for a directory to exist"),
    HookHandler("wait_for_socket", waits.wait_for_socket, help="wait for a unix or host:port socket to accept"),
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
    """Load the dlopen libraries and keep binsh and the wait timeouts for the handlers."""
    symbols.load_libraries(config.values("dlopen"))
    shell.set_binsh(config["binsh"])
    waits.set_timeouts(fs=config["wait-for-fs-timeout"], socket=config["wait-for-socket-timeout"])
