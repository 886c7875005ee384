"""The command line and the environment as entries.

Environment: ``UWSGI_FOO_BAR=v`` (then ``UWKERNEL_FOO_BAR=v``, so those win) is ``foo-bar = v``,
variables sorted by name; uWSGI's and uwkernel's own internal variables (:data:`INTERNAL_ENV`) are
skipped. A variable naming no option is kept only as a placeholder, never an error.

Command line, as uWSGI's getopt does it: ``--name value``, ``--name=value``, a flag without value
(``--master``); an option whose value is optional in uWSGI (``--chmod-socket``) takes one only as
``--name=value``. Short forms ``-s :3031``, ``-s:3031``, ``-p4`` and bundled flags ``-MT``. ``--``
ends the options. Other arguments are config files, loaded by extension (``app.ini``,
``app.ini:section``) after all the options, as uWSGI loads them.
"""
from __future__ import annotations

from typing import Callable, Iterator, Mapping

from ..errors import ConfigError, Origin
from .model import Entry

COMMAND_LINE = Origin("command line")
ENVIRONMENT = Origin("environment")
ENV_PREFIXES = ("UWSGI_", "UWKERNEL_")

#: Variables uWSGI and uwkernel use to talk to their own children, never options.
INTERNAL_ENV = frozenset({
    "UWSGI_RELOADS", "UWSGI_ORIGINAL_PROC_NAME", "UWSGI_VASSALS_DIR", "UWSGI_EMPEROR_PROXY",
    "UWSGI_BROODLORD_NUM", "UWSGI_JAIL_PID", "UWKERNEL_DISABLE_PLUGINS", "UWKERNEL_SOCKETS", "UWKERNEL_VASSAL",
})
INTERNAL_ENV_PREFIXES = ("UWSGI_VASSAL_", "UWSGI_FD", "UWSGI_EMPEROR_FD")


def environment_entries(environ: Mapping[str, str]) -> list[Entry]:
    """The ``UWSGI_*`` then ``UWKERNEL_*`` variables as entries (``from_env``)."""
    entries = []
    for prefix in ENV_PREFIXES:
        for variable in sorted(environ):
            if not variable.startswith(prefix) or variable in INTERNAL_ENV or variable.startswith(INTERNAL_ENV_PREFIXES):
                continue
            key = variable[len(prefix):].lower().replace("_", "-")
            if key:
                entries.append(Entry(key, environ[variable], ENVIRONMENT, from_env=True))
    return entries


def argv_entries(
    argv: list[str],
    argument_of: Callable[[str], str | None],
    long_name: Callable[[str], str | None],
    closest: Callable[[str], str | None],
) -> Iterator[Entry]:
    """The command line's entries, one at a time (so options declared on the way are known).

    ``argument_of(name)`` says whether an option takes a value (``none``, ``required``, ``optional``;
    None when no such option exists), ``long_name(letter)`` names the option of a short form,
    ``closest(name)`` suggests a known name for an unknown one.
    """
    files: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if arg == "--":
            files.extend(argv[index:])
            break
        if arg.startswith("--"):
            name, has_value, value = arg[2:].partition("=")
            argument = _argument(name, f"--{name}", argument_of, closest)
            if has_value:
                yield Entry(name, value, COMMAND_LINE)
            elif argument == "required":
                if index == len(argv):
                    raise ConfigError(f"'--{name}' needs a value", COMMAND_LINE, name)
                yield Entry(name, argv[index], COMMAND_LINE)
                index += 1
            else:
                yield Entry(name, None, COMMAND_LINE)
        elif arg.startswith("-") and len(arg) > 1:
            letters = arg[1:]
            while letters:
                letter, letters = letters[0], letters[1:]
                name = long_name(letter)
                if name is None:
                    raise ConfigError(f"unknown option '-{letter}'", COMMAND_LINE, f"-{letter}")
                argument = _argument(name, f"-{letter}", argument_of, closest)
                if argument == "none":
                    yield Entry(name, None, COMMAND_LINE)
                    continue
                value: str | None = letters or None
                if value is None and argument == "required":
                    if index == len(argv):
                        raise ConfigError(f"'-{letter}' ({name}) needs a value", COMMAND_LINE, name)
                    value = argv[index]
                    index += 1
                yield Entry(name, value, COMMAND_LINE)
                break
        else:
            files.append(arg)
    for path in files:
        yield Entry("config", path, COMMAND_LINE)


def _argument(name: str, shown: str, argument_of: Callable[[str], str | None], closest: Callable[[str], str | None]) -> str:
    argument = argument_of(name)
    if argument is None:
        suggestion = closest(name)
        hint = f" (did you mean '--{suggestion}'?)" if suggestion else ""
        raise ConfigError(f"unknown option '{shown}'{hint}", COMMAND_LINE, name)
    return argument
