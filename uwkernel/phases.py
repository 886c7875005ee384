"""The lifecycle phases, in the order an instance runs them, and how a phase runs its hook chains.

Running a phase runs, in this order:

1. its advanced chain, ``hook-PHASE = handler:args`` lines in configuration order (a ``!`` before
   the handler hides the arguments from the log);
2. its hardcoded options, grouped by kind: ``mount-PHASE``, ``umount-PHASE``, ``exec-PHASE``,
   ``call-PHASE`` (any option whose :class:`~uwkernel.types.PhaseHook` names the phase);
3. the ``uwkernel_phase`` hook of every plugin.

A failing hook in a fatal phase raises :class:`~uwkernel.errors.HookFailed` (the instance stops with
status 1); in a non-fatal phase the failure is logged and the chain goes on.
"""
from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from . import log
from .errors import ConfigError, HookFailed
from .types import PHASE_HOOK_KINDS

if TYPE_CHECKING:  # pragma: no cover - types only
    from .config import Config
    from .plugins import PluginManager


class Phase(enum.Enum):
    """A lifecycle phase; its value is the name used in option names (``hook-VALUE``)."""

    ASAP = "asap"
    PRE_JAIL = "pre-jail"
    POST_JAIL = "post-jail"
    IN_JAIL = "in-jail"
    AS_ROOT = "as-root"
    AS_USER = "as-user"
    PRE_APP = "pre-app"
    POST_APP = "post-app"
    ACCEPTING = "accepting"
    ACCEPTING1 = "accepting1"
    ACCEPTING_ONCE = "accepting-once"
    ACCEPTING1_ONCE = "accepting1-once"
    AS_USER_ATEXIT = "as-user-atexit"
    AS_EMPEROR = "as-emperor"
    AS_VASSAL = "as-vassal"

    @property
    def fatal(self) -> bool:
        """Whether a failing hook in this phase stops the instance."""
        return self not in (Phase.AS_USER_ATEXIT, Phase.AS_EMPEROR)

    @property
    def hook_option(self) -> str:
        """The name of this phase's advanced chain option, ``hook-PHASE``."""
        return f"hook-{self.value}"


def parse_hook_line(value: str) -> tuple[str, str, bool]:
    """Split ``[!]handler:args`` into ``(handler, args, hidden)``; raise ValueError without ':'."""
    action, sep, args = value.partition(":")
    if not sep:
        raise ValueError(f"'{value}' is not of the form handler:arguments")
    hidden = action.startswith("!")
    return action[1:] if hidden else action, args, hidden


def check_hook_chains(config: Config, plugins: PluginManager) -> None:
    """Check every ``hook-PHASE`` line before anything runs: a ':' and a known handler.

    Raises :class:`~uwkernel.errors.ConfigError` naming the file, line and option.
    """
    for phase in Phase:
        for value, origin in config.values(phase.hook_option):
            try:
                handler, _, _ = parse_hook_line(value)
            except ValueError as exc:
                raise ConfigError(str(exc), origin, phase.hook_option) from None
            if handler not in plugins.handlers:
                raise ConfigError(
                    f"unknown hook handler '{handler}' (known: {', '.join(sorted(plugins.handlers))})",
                    origin,
                    phase.hook_option,
                )


def run_phase(phase: Phase, config: Config, plugins: PluginManager) -> None:
    """Run ``phase``: its ``hook-PHASE`` chain, its hardcoded options by kind, then ``uwkernel_phase``."""
    for value, _origin in config.values(phase.hook_option):
        handler, args, hidden = parse_hook_line(value)
        _run_hook(phase, handler, args, hidden, plugins)
    hardcoded = [o for o in plugins.options if o.phase_hook and o.phase_hook.phase == phase.value]
    hardcoded.sort(key=lambda o: PHASE_HOOK_KINDS.index(o.phase_hook.kind))
    for option in hardcoded:
        for value, _origin in config.values(option.name):
            _run_hook(phase, option.phase_hook.handler, value, False, plugins)
    plugins.hook.uwkernel_phase(phase=phase, config=config)


def _run_hook(phase: Phase, name: str, args: str, hidden: bool, plugins: PluginManager) -> None:
    shown = f"{name}:{'<hidden>' if hidden else args}"
    log.log(f'running "{shown}" ({phase.value})...')
    handler = plugins.handlers.get(name)
    if handler is None:
        failure = f"no hook handler named '{name}'"
    else:
        try:
            result = handler.func(args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a handler's failure is reported, whatever it raised
            failure = f"{type(exc).__name__}: {exc}"
        else:
            if not result:
                return
            failure = f"returned {result}"
    if phase.fatal:
        raise HookFailed(f'FATAL hook failed in phase {phase.value}: "{shown}": {failure}')
    log.log(f'hook failed in phase {phase.value} (not fatal): "{shown}": {failure}')
