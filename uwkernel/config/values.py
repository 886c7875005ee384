"""Reading option values as uWSGI does: flags, integers."""
from __future__ import annotations

FALSE_WORDS = frozenset({"false", "off", "no", "0"})


def parse_bool(value: str | None) -> bool:
    """A flag's value: true unless it is false, off, no or 0 (any case); no value is true."""
    return value is None or value.strip().lower() not in FALSE_WORDS


def parse_int(value: str | None) -> int | None:
    """The integer ``value`` writes (decimal, optional sign and surrounding blanks), or None."""
    if value is None:
        return None
    digits = value.strip()
    if digits[:1] in ("+", "-"):
        digits = digits[1:]
    return int(value) if digits.isascii() and digits.isdigit() else None
