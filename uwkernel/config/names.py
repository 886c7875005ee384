"""Which names are options: the registry's (plugins'), this package's directives, real uWSGI's."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .directives import CONFIG_OPTIONS, DIRECTIVES
from .uwsgi_table import uwsgi_option, uwsgi_table

if TYPE_CHECKING:  # pragma: no cover - types only
    from ..options import OptionRegistry
    from ..types import Option

_DIRECTIVE_SHORTS = {option.short: option for option in CONFIG_OPTIONS if option.short}


class OptionNames:
    """Looks option names up in ``registry``, then among the configuration directives, then in uWSGI's table."""

    def __init__(self, registry: OptionRegistry):
        self.registry = registry

    def option(self, name: str) -> Option | None:
        """The uwkernel option called ``name`` (a plugin's or a configuration directive), or None."""
        return self.registry.get(name) or DIRECTIVES.get(name)

    def canonical(self, name: str) -> str | None:
        """The name of the option ``name`` names (an alias gives its option's name), or None."""
        option = self.option(name)
        return option.name if option else None

    def is_uwsgi_option(self, name: str) -> bool:
        """Whether ``name`` is an option of real uWSGI (implemented here or not)."""
        return uwsgi_option(name) is not None

    def argument_of(self, name: str) -> str | None:
        """Whether ``--name`` takes a value: ``none``, ``required``, ``optional``; None if no option has that name.

        A uwkernel flag takes none; another uwkernel option a required one, unless uWSGI's own takes
        an optional one (``chmod-socket``); an option only uWSGI knows, what uWSGI's table says.
        """
        option, info = self.option(name), uwsgi_option(name)
        if option is not None:
            if option.kind == "bool":
                return "none"
            return "optional" if info is not None and info.argument == "optional" else "required"
        return info.argument if info else None

    def long_name(self, letter: str) -> str | None:
        """The option the short form ``-letter`` stands for, or None."""
        option = self.registry.by_short(letter) or _DIRECTIVE_SHORTS.get(letter)
        if option is not None:
            return option.name
        info = uwsgi_table().by_short.get(letter)
        return info.name if info else None

    def closest(self, name: str) -> str | None:
        """The known option name closest to ``name`` (uwkernel's first, then uWSGI's), for "did you mean"."""
        return self.registry.closest(name) or uwsgi_table().closest(name)
