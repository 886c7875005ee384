"""uWSGI's ini dialect.

Lines are split on newlines and stripped of spaces, tabs and carriage returns; ``[name]`` starts a
section; a line starting with ``;`` or ``#`` is a comment (there are no inline comments); the first
``=`` splits key and value, a line without one is a key whose value is ``""``. Only the requested
section is read. There is no quoting and no line continuation.
"""
from __future__ import annotations

_BLANKS = " \t\r"


def parse_ini(text: str, section: str) -> tuple[list[tuple[int, str, str]], bool]:
    """The ``(line, key, value)`` items of ``section``, and whether the section appeared at all."""
    items: list[tuple[int, str, str]] = []
    current = ""
    found = False
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip(_BLANKS)
        if not line or line[0] in ";#":
            continue
        if line[0] == "[":
            current = line[1:-1] if line.endswith("]") else line[1:]
            found = found or current == section
            continue
        if current == section:
            key, _, value = line.partition("=")
            items.append((number, key.rstrip(_BLANKS), value.strip(_BLANKS)))
    return items, found
