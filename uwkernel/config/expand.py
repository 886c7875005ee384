"""The expansion passes over option values, in uWSGI's order: ``$(ENV)``, ``@(file)``, ``%(name)``.

``$(NAME)`` is the environment variable (left as written when unset); ``@(PATH)`` the file's
contents less one trailing newline; both are applied while the sources are read.

``%(name)`` is the first value given for the option or placeholder ``name`` (itself expanded), applied
once every source is read, so a placeholder may be set after its use. With spaces inside, the words
form a pipeline: a number is itself, ``+ - * /`` apply integer arithmetic to the next word, ``++``
and ``--`` add or take one, any other word is looked up and concatenated (``%(processes * 2)``,
``%(host port)``). Naming nothing, a loop of placeholders, a non-integer operand or a division by
zero is a :class:`~uwkernel.errors.ConfigError`; only in request log formats (``log-format``) is an
unknown placeholder left as written, since it is a run-time log variable there.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

from ..errors import ConfigError, Origin
from .directives import RUNTIME_TEMPLATE_OPTIONS
from .model import Entry
from .values import parse_int

_OPERATORS = ("+", "-", "*", "/")
#: How deep placeholders may refer to placeholders that refer to placeholders.
MAX_DEPTH = 64


def replace_calls(text: str, symbol: str, replace: Callable[[str], str | None]) -> str:
    """Replace each ``SYMBOL(inner)`` (parentheses may nest) by ``replace(inner)``; None keeps it as written."""
    out: list[str] = []
    pos = 0
    while (start := text.find(symbol + "(", pos)) >= 0:
        depth, end = 0, start + 2
        while end < len(text) and (depth or text[end] != ")"):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        if end == len(text):
            break
        replacement = replace(text[start + 2:end]) if end > start + 2 else None
        out.append(text[pos:start] + (text[start:end + 1] if replacement is None else replacement))
        pos = end + 1
    out.append(text[pos:])
    return "".join(out)


def expand_environment_and_files(value: str, environ: Mapping[str, str], origin: Origin, key: str) -> str:
    """Apply the ``$(ENV)`` then the ``@(file)`` pass to one value."""
    value = replace_calls(value, "$", environ.get)

    def read(path: str) -> str:
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                contents = handle.read()
        except OSError as exc:
            raise ConfigError(f"cannot read @({path}): {exc.strerror}", origin, key) from None
        return contents[:-1] if contents.endswith("\n") else contents

    return replace_calls(value, "@", read)


class PlaceholderResolver:
    """Expands ``%(...)`` in entry values, looking names up among ``entries``.

    A name is the key of an entry (the first one counts) or, failing that, another name of the same
    option (``canonical`` maps any name to its option's name, or None). Entries from ``inherit``
    files are neither expanded nor found. ``referenced`` collects the keys used as placeholders.
    """

    def __init__(self, entries: Sequence[Entry], canonical: Callable[[str], str | None]):
        self.entries = entries
        self.referenced: set[str] = set()
        self._canonical = canonical
        self._by_key: dict[str, int] = {}
        self._by_option: dict[str, int] = {}
        for index, entry in enumerate(entries):
            if entry.inherited:
                continue
            self._by_key.setdefault(entry.key, index)
            option = canonical(entry.key)
            if option:
                self._by_option.setdefault(option, index)
        self._expanded: dict[int, str | None] = {}
        self._stack: list[int] = []

    def value(self, index: int) -> str | None:
        """The expanded value of ``entries[index]`` (None stays None: an option given without value)."""
        if index in self._expanded:
            return self._expanded[index]
        entry = self.entries[index]
        if entry.value is None or entry.inherited:
            return entry.value
        if index in self._stack:
            loop = [self.entries[i].key for i in self._stack[self._stack.index(index):]] + [entry.key]
            raise ConfigError(f"placeholders refer to each other in a loop: {' -> '.join(loop)}", entry.origin, entry.key)
        if len(self._stack) >= MAX_DEPTH:
            raise ConfigError(f"placeholders nested more than {MAX_DEPTH} deep", entry.origin, entry.key)
        self._stack.append(index)
        try:
            expanded = self.expand(entry.value, entry.origin, entry.key)
        finally:
            self._stack.pop()
        self._expanded[index] = expanded
        return expanded

    def expand(self, text: str, origin: Origin, key: str) -> str:
        """Expand every ``%(...)`` in ``text``, the value of option ``key`` given at ``origin``."""
        return replace_calls(text, "%", lambda inner: self._placeholder(inner, origin, key))

    def _lookup(self, name: str) -> int | None:
        index = self._by_key.get(name)
        if index is None and (option := self._canonical(name)):
            index = self._by_option.get(option)
        if index is not None:
            self.referenced.update((name, self.entries[index].key))
        return index

    def _word(self, name: str, inner: str, origin: Origin, key: str) -> str | None:
        index = self._lookup(name)
        if index is None:
            if key in RUNTIME_TEMPLATE_OPTIONS:
                return None
            raise ConfigError(f"placeholder %({inner}): no option or placeholder '{name}' is set", origin, key)
        value = self.value(index)
        return "true" if value is None else value

    def _placeholder(self, inner: str, origin: Origin, key: str) -> str | None:
        if " " not in inner:
            return self._word(inner, inner, origin, key)
        current: str | None = None
        operator: str | None = None
        for word in filter(None, inner.split(" ")):
            if word in _OPERATORS:
                operator = word
                continue
            if word in ("++", "--"):
                if current is not None:
                    current = str(_integer(current, inner, origin, key) + (1 if word == "++" else -1))
                operator = None
                continue
            value = word if word.isascii() and word.isdigit() else self._word(word, inner, origin, key)
            if value is None:
                return None
            if operator is None:
                current = (current or "") + value
            else:
                left = _integer(current or "0", inner, origin, key)
                current = str(_arithmetic(left, operator, _integer(value, inner, origin, key), inner, origin, key))
                operator = None
        return current or ""


def _integer(text: str, inner: str, origin: Origin, key: str) -> int:
    number = parse_int(text)
    if number is None:
        raise ConfigError(f"placeholder %({inner}): '{text}' is not an integer", origin, key)
    return number


def _arithmetic(left: int, operator: str, right: int, inner: str, origin: Origin, key: str) -> int:
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if right == 0:
        raise ConfigError(f"placeholder %({inner}): division by zero", origin, key)
    quotient = abs(left) // abs(right)
    return quotient if (left < 0) == (right < 0) else -quotient
