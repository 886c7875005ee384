"""Custom options (``declare-option``), as uWSGI defines them.

``declare-option = NAME=OPT1=VALUE1;OPT2=VALUE2`` makes ``NAME = WORDS`` set ``OPT1`` and ``OPT2``,
with ``$1``, ``$2``... in their names and values replaced by the words of ``WORDS`` (split on spaces):
``declare-option = redirect=route=$1 redirect:$2`` then ``redirect = ^/old /new``.
"""
from __future__ import annotations

import re

Template = list[tuple[str, str]]

#: ``$1``, ``$2``... (a pattern compiled at its first use: few configurations declare options).
_ARGUMENT = r"\$([0-9]+)"


def parse_declaration(value: str) -> tuple[str, Template]:
    """``NAME=OPT=VALUE;...`` as the name and its ``(OPT, VALUE)`` template; ValueError when malformed."""
    name, has_template, template = value.partition("=")
    if not has_template or not name:
        raise ValueError(f"'{value}' is not NAME=OPTION=VALUE[;OPTION=VALUE...]")
    parts: Template = []
    for part in filter(None, template.split(";")):
        key, has_value, default = part.partition("=")
        if not has_value or not key:
            raise ValueError(f"'{part}' in the declaration of '{name}' is not OPTION=VALUE")
        parts.append((key, default))
    return name, parts


def apply_template(template: Template, value: str | None) -> list[tuple[str, str]]:
    """The ``(option, value)`` pairs a use of the custom option with ``value`` stands for."""
    words = [word for word in (value or "").split(" ") if word] or [""]

    def fill(text: str) -> str:
        return re.sub(_ARGUMENT, lambda m: words[int(m[1]) - 1] if 0 < int(m[1]) <= len(words) else m[0], text)

    return [(fill(key), fill(default)) for key, default in template]
