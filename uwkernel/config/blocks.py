"""What a block's opening line means: the items a ``for`` block repeats over, whether an ``if`` holds.

* ``for = a b c``: the space-separated words; ``for-glob = PATTERN``: the matching paths, sorted,
  directories with a trailing ``/`` (no match: the pattern itself); ``for-times = N``: 1 to N;
  ``for-readline = FILE``: each line of the file without its line end.
* ``if-env = NAME`` / ``NAME=VALUE``: the variable is set (to VALUE); ``%(_)`` is its value.
  ``if-opt = NAME`` / ``NAME=VALUE``: the option was given before this line (its first value is VALUE);
  ``%(_)`` is that value. ``if-exists`` (readable), ``if-file``, ``if-dir``, ``if-hostname`` (equal),
  ``if-hostname-match`` (a regular expression found in the host name): ``%(_)`` is the argument.
  ``if-reload``: the instance is reloading (``%(_)`` unchanged). ``if-not-*`` negates each.
"""
from __future__ import annotations

import os
import re
from typing import Callable, Mapping, NamedTuple

from ..errors import ConfigError, Origin
from .values import parse_int


class BlockContext(NamedTuple):
    """What conditions look at: the environment, reload state, host name, options given so far.

    A named tuple, not a dataclass: it is made at every start-up, where a dataclass costs a millisecond more.
    """

    environ: Mapping[str, str]
    is_reload: bool
    hostname: str
    option_value: Callable[[str], str | None]


def loop_items(kind: str, argument: str, origin: Origin) -> list[str]:
    """The items the ``kind`` loop (``for``, ``for-glob``, ``for-times``, ``for-readline``) repeats over."""
    if kind == "for":
        return [word for word in argument.split(" ") if word]
    if kind == "for-glob":
        import glob  # here: few configurations loop over files

        paths = sorted(glob.glob(argument))
        return [path + "/" if os.path.isdir(path) and not path.endswith("/") else path for path in paths] or [argument]
    if kind == "for-times":
        times = parse_int(argument)
        if times is None:
            raise ConfigError(f"'{argument}' is not a number of times", origin, kind)
        return [str(number) for number in range(1, times + 1)]
    try:
        with open(argument, encoding="utf-8", errors="surrogateescape") as handle:
            return [line.rstrip("\r\n") for line in handle]
    except OSError as exc:
        raise ConfigError(f"cannot read '{argument}': {exc.strerror}", origin, kind) from None


def condition(kind: str, argument: str, context: BlockContext, origin: Origin) -> tuple[bool, str | None]:
    """Whether the ``kind`` condition holds for ``argument``, and the value ``%(_)`` takes inside."""
    negated = kind.startswith("if-not-")
    test = kind.replace("if-not-", "if-", 1)
    item: str | None = argument
    if test in ("if-env", "if-opt"):
        name, has_expected, expected = argument.partition("=")
        item = context.environ.get(name) if test == "if-env" else context.option_value(name)
        holds = item is not None and (not has_expected or item == expected)
        item = item or ""
    elif test == "if-exists":
        holds = os.access(argument, os.R_OK)
    elif test == "if-file":
        holds = os.path.isfile(argument)
    elif test == "if-dir":
        holds = os.path.isdir(argument)
    elif test == "if-hostname":
        holds = context.hostname == argument
    elif test == "if-hostname-match":
        try:
            holds = re.search(argument, context.hostname) is not None
        except re.error as exc:
            raise ConfigError(f"'{argument}' is not a regular expression: {exc}", origin, kind) from None
    else:  # if-reload
        holds, item = context.is_reload, None
    return holds != negated, item
