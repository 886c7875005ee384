"""uwkernel plugin ``mount``: the ``mount`` / ``umount`` hook handlers and ``mount-PHASE`` / ``umount-PHASE``.

``mount-asap = tmpfs none /srv/tmp nosuid,nodev size=10m`` mounts a tmpfs as soon as possible;
``hook-as-root = umount:/srv/old detach`` detaches a mount before privileges drop. Every mount and
umount line of the configuration is checked (syntax, flag names) at configure time, before any
phase runs.
"""
from __future__ import annotations

from uwkernel import hookimpl
from uwkernel.errors import ConfigError
from uwkernel.phases import Phase, parse_hook_line
from uwkernel.types import HookHandler, Option, PhaseHook

#: The handlers of this plugin. Their module (:mod:`.mount`, with ctypes) is imported when a handler runs
#: or a configuration has a line for one: most instances have none, and it costs milliseconds.
HANDLERS = ("mount", "umount")

OPTIONS: list[Option] = [
    Option(f"{handler}-{phase.value}", kind="list",
           help=f"{handler} in the {phase.value} phase: " + (
               "'fs source target [flags [data]]'" if handler == "mount" else "'target [flags]'"),
           phase_hook=PhaseHook(kind=handler, phase=phase.value, handler=handler))
    for handler in HANDLERS
    for phase in Phase
]


@hookimpl
def uwkernel_add_options() -> list[Option]:
    """The mount-PHASE and umount-PHASE options of every phase."""
    return OPTIONS


@hookimpl
def uwkernel_add_hook_handlers() -> list[HookHandler]:
    """The mount and umount handlers."""
    return [
        HookHandler("mount", _mount, help="mount(2): 'fs source target [flags [data]]'"),
        HookHandler("umount", _umount, help="umount2(2): 'target [flags]' (detach, force, rec...)"),
    ]


def _mount(args: str) -> None:
    """The ``mount`` handler (:func:`.mount.mount`)."""
    from . import mount

    mount.mount(args)


def _umount(args: str) -> None:
    """The ``umount`` handler (:func:`.mount.umount`)."""
    from . import mount

    mount.umount(args)


def _mount_lines(config):
    """Every ``(option, handler, args, origin)`` of the configuration that runs mount or umount."""
    for option in OPTIONS:
        for value, origin in config.values(option.name):
            yield option.name, option.phase_hook.handler, value, origin
    for phase in Phase:
        for value, origin in config.values(phase.hook_option):
            try:
                handler, args, _hidden = parse_hook_line(value)
            except ValueError:
                continue  # the kernel reports a malformed hook line
            if handler in HANDLERS:
                yield phase.hook_option, handler, args, origin


@hookimpl
def uwkernel_configure(config) -> None:
    """Check every mount and umount line (options and hook chains) before any phase runs."""
    for option_name, handler, args, origin in _mount_lines(config):
        from . import mount

        try:
            mount.parse_mount(args) if handler == "mount" else mount.parse_umount(args)
        except ValueError as exc:
            raise ConfigError(f"{handler}: {exc}", origin, option_name) from None
