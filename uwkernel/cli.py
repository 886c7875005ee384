"""The ``uwkernel`` command.

``uwkernel [--ini FILE] [--any-option VALUE ...]`` runs an instance (every option of the kernel and
the plugins is accepted, as with uWSGI); ``uwkernel plugins`` lists the plugins, ``uwkernel options
--markdown`` writes the option reference, ``uwkernel --help`` lists the options by plugin.

Running an instance, the command's usual work, goes straight to :class:`~uwkernel.master.Instance`:
the sub-commands and the help (:mod:`uwkernel.commands`) use click, which is imported only for them.
"""
from __future__ import annotations

import gc
import sys

from .errors import UwkernelError

#: The sub-commands of :mod:`uwkernel.commands` and the arguments its click group answers itself.
COMMANDS = ("plugins", "options", "--help", "-h", "--version")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``uwkernel`` command: errors become one line and an exit status.

    Arguments starting with a sub-command, ``--help`` or ``--version`` go to click; any others are the
    instance's options (``run`` in front of them is accepted and dropped).
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in COMMANDS:
        from .commands import run_click

        run_click(args)
        return
    if args[:1] == ["run"]:
        args = args[1:]
    try:
        status = _instance(args).run()
    except UwkernelError as exc:
        print(f"uwkernel: {exc}", file=sys.stderr, flush=True)
        sys.exit(exc.exit_status)
    except KeyboardInterrupt:  # before the signal handlers are installed: no traceback, status 1
        print(file=sys.stderr, flush=True)
        sys.exit(1)
    sys.exit(status)


def _instance(args: list[str]):
    """The instance of ``args``: the kernel and the plugins imported, the configuration read and checked.

    The cyclic garbage collector is off meanwhile: this makes many objects and frees few, so its passes
    would find nothing and cost milliseconds. What it made (modules, plugins, options) lives
    as long as the instance: it is then frozen, out of the collector's sight, instead of being scanned
    once more by its next pass (and, in forked workers, copied by it). The apps load later, with it on.
    """
    gc.disable()
    try:
        from .master import Instance

        instance = Instance(args)
        gc.freeze()
        return instance
    finally:
        gc.enable()
