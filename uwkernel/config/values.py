"""Reading option values as uWSGI does: flags, integers."""
from __future__ import annotations

import re

FALSE_WORDS = frozenset({"false", "off", "no", "0"})
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")


def parse_bool(value: str | None) -> bool:
    """A flag's value: true unless it is false, off, no or 0 (any case); no value is true."""
    return value is None or value.strip().lower() not in FALSE_WORDS


def parse_int(value: str | None) -> int | None:
    """The integer ``value`` writes (decimal, optional sign and surrounding blanks), or None."""
    return int(value) if value is not None and _INTEGER.fullmatch(value) else None
