#!/usr/bin/env python3
"""Extract the table of uWSGI option names from an unpacked uWSGI source tree.

uwkernel accepts existing uWSGI ini files, so it needs to know every option name
real uWSGI (2.0.x) understands, whether the option takes an argument, and its
short letter.  uWSGI declares its options as C arrays::

    static struct uwsgi_option uwsgi_base_options[] = {
        {"socket", required_argument, 's', "help text ...", callback, data, flags},
        ...
        {0, 0, 0, 0, 0, 0, 0},
    };

in ``core/uwsgi.c`` (the base options) and in each plugin that adds its own
(``plugins/<name>/*.c``, and two C++ plugins, ``*.cc``).  This script finds every
such array under ``core/`` and ``plugins/``, reads the first three fields of each
entry (name, argument kind, short letter) and writes them as a TSV file.  The
help texts (field four) are deliberately NOT copied: only names, argument kinds,
short letters and the file each came from end up in the table.

Preprocessor conditionals inside the arrays (``#ifdef UWSGI_SSL``,
``#ifdef __linux__`` ...) are ignored, i.e. the table is the union of the options
of every build configuration, since an ini file may have been written for any of
them.  Only blocks that can never be compiled (``#if 0``) are dropped.

Output format (``uwkernel/config/uwsgi_options.tsv``)::

    # name<TAB>argument<TAB>short<TAB>source
    socket<TAB>required<TAB>s<TAB>core/uwsgi.c

``argument`` is ``none``, ``required`` or ``optional`` (from ``no_argument``,
``required_argument``, ``optional_argument``); ``short`` is the short letter or
empty; ``source`` is the path of the declaring file relative to the source root.
Rows are sorted by name and each name appears once.  When a name is declared
more than once, the first declaration wins, with files scanned in this order:
``core/uwsgi.c`` first, then the plugins in alphabetical order of their path.
Conflicting duplicates (same name, different argument kind or short letter) are
reported on stderr.

Usage (offline; the source comes from the PyPI sdist)::

    pip download --no-deps --no-binary :all: uwsgi -d /tmp/uwsgi-sdist
    tar xzf /tmp/uwsgi-sdist/uwsgi-*.tar.gz -C /tmp
    python tools/extract_uwsgi_options.py /tmp/uwsgi-2.0.31 \
        [-o uwkernel/config/uwsgi_options.tsv]
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ARGUMENT_KINDS = {
    "no_argument": "none",
    "required_argument": "required",
    "optional_argument": "optional",
}

# Macros that expand to the {NULL, 0, ...} terminator (uwsgi.h).
END_MARKERS = {"UWSGI_END_OF_OPTIONS"}

HEADER = "# name\targument\tshort\tsource"

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "uwkernel" / "config" / "uwsgi_options.tsv"

# The opening of an option array definition (declarations with "extern" have no "= {").
ARRAY_START = re.compile(r"\bstruct\s+uwsgi_option\s+(\w+)\s*\[\s*\]\s*=\s*\{")


@dataclass(frozen=True)
class OptionRow:
    name: str
    argument: str  # none | required | optional
    short: str  # one letter or ""
    source: str  # path relative to the source root, e.g. core/uwsgi.c

    def tsv(self) -> str:
        return f"{self.name}\t{self.argument}\t{self.short}\t{self.source}"


class ExtractError(Exception):
    """The source does not look the way this script expects."""


def strip_comments_and_dead_code(text: str) -> str:
    """Blank out C comments and ``#if 0`` blocks; drop other preprocessor lines.

    String and character literals are kept intact (a "//" inside a help text is not
    a comment).  Newlines are preserved so positions stay meaningful for errors.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    lines = "".join(out).split("\n")

    # Preprocessor: keep every branch except "#if 0" ones (and their #else/#elif stay
    # live).  A stack entry is True when the current block is dead.
    kept: list[str] = []
    dead_stack: list[bool] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            directive = stripped[1:].strip()
            if re.match(r"if\s+0\b", directive):
                dead_stack.append(True)
            elif re.match(r"if(n?def)?\b", directive):
                dead_stack.append(False)
            elif re.match(r"(else|elif)\b", directive) and dead_stack:
                dead_stack[-1] = False
            elif directive.startswith("endif") and dead_stack:
                dead_stack.pop()
            kept.append("")
        elif any(dead_stack):
            kept.append("")
        else:
            kept.append(line)
    return "\n".join(kept)


def split_top_level(body: str, sep: str = ",") -> list[str]:
    """Split ``body`` on ``sep`` where it is outside strings, chars, braces and parens."""
    parts: list[str] = []
    depth, start, i, n = 0, 0, 0, len(body)
    while i < n:
        c = body[i]
        if c in "\"'":
            j = i + 1
            while j < n and body[j] != c:
                j += 2 if body[j] == "\\" else 1
            i = j + 1
            continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(body[start:i])
            start = i + 1
        i += 1
    parts.append(body[start:])
    return parts


def array_bodies(text: str) -> list[tuple[str, str]]:
    """Return (array name, text between the outer braces) for every option array."""
    found = []
    for match in ARRAY_START.finditer(text):
        depth, i = 1, match.end()
        while depth and i < len(text):
            c = text[i]
            if c in "\"'":
                j = i + 1
                while j < len(text) and text[j] != c:
                    j += 2 if text[j] == "\\" else 1
                i = j + 1
                continue
            depth += {"{": 1, "}": -1}.get(c, 0)
            i += 1
        if depth:
            raise ExtractError(f"unterminated option array {match.group(1)}")
        found.append((match.group(1), text[match.end():i - 1]))
    return found


def parse_c_string(token: str) -> str | None:
    """The value of a (possibly concatenated) C string literal, or None if it is not one.

    A leading cast, as the C++ plugins write it (``(char *)"gridfs-mount"``), is allowed.
    """
    token = re.sub(r"^\(\s*(?:const\s+)?char\s*\*\s*\)\s*", "", token.strip())
    pieces = re.findall(r'"((?:[^"\\]|\\.)*)"', token)
    if not pieces or re.sub(r'"(?:[^"\\]|\\.)*"', "", token).strip():
        return None
    return "".join(pieces)


def parse_short(token: str) -> str:
    token = token.strip()
    if token in ("0", "NULL"):
        return ""
    m = re.fullmatch(r"'(.)'", token)
    if not m:
        raise ExtractError(f"unexpected short-option field {token!r}")
    return m.group(1)


def parse_entries(body: str, source: str) -> list[OptionRow]:
    rows = []
    for entry in split_top_level(body):
        entry = entry.strip()
        if not entry or entry in END_MARKERS:
            continue
        if not (entry.startswith("{") and entry.endswith("}")):
            raise ExtractError(f"{source}: unexpected array element {entry[:60]!r}")
        fields = [f.strip() for f in split_top_level(entry[1:-1])]
        if fields[0] in ("0", "NULL"):  # the {0, 0, 0, ...} terminator
            continue
        name = parse_c_string(fields[0])
        if name is None:
            raise ExtractError(f"{source}: option name is not a string literal: {fields[0]!r}")
        if len(fields) < 3 or fields[1] not in ARGUMENT_KINDS:
            raise ExtractError(f"{source}: option {name!r} has unexpected argument kind {fields[1:2]!r}")
        rows.append(OptionRow(name, ARGUMENT_KINDS[fields[1]], parse_short(fields[2]), source))
    return rows


def source_files(root: Path) -> list[Path]:
    """Files declaring option arrays: core/uwsgi.c first, then the rest sorted by path."""
    candidates = sorted(
        p for pattern in ("core/*.c", "plugins/*/*.c", "plugins/*/*.cc")
        for p in root.glob(pattern)
    )
    files = [p for p in candidates if ARRAY_START.search(p.read_text(errors="replace"))]
    core = root / "core" / "uwsgi.c"
    if core not in files:
        raise ExtractError(f"{core} has no uwsgi_option array: is {root} a uWSGI source tree?")
    files.remove(core)
    return [core, *files]


def extract(root: Path) -> tuple[list[OptionRow], list[str], list[str]]:
    """Return (rows sorted by name, scanned files, warnings about conflicting duplicates)."""
    first: dict[str, OptionRow] = {}
    warnings: list[str] = []
    scanned: list[str] = []
    for path in source_files(root):
        source = path.relative_to(root).as_posix()
        scanned.append(source)
        text = strip_comments_and_dead_code(path.read_text(errors="replace"))
        for _array, body in array_bodies(text):
            for row in parse_entries(body, source):
                kept = first.setdefault(row.name, row)
                if kept is not row and (kept.argument, kept.short) != (row.argument, row.short):
                    warnings.append(
                        f"{row.name}: {kept.source} says {kept.argument}/{kept.short or '-'}, "
                        f"{row.source} says {row.argument}/{row.short or '-'} (kept {kept.source})"
                    )
    return sorted(first.values(), key=lambda r: r.name), scanned, warnings


def uwsgi_version(root: Path) -> str:
    pkg_info = root / "PKG-INFO"
    if pkg_info.exists():
        m = re.search(r"^Version:\s*(\S+)", pkg_info.read_text(errors="replace"), re.M)
        if m:
            return m.group(1)
    return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="unpacked uWSGI source directory (e.g. /tmp/uwsgi-2.0.31)")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"TSV file to write (default: {DEFAULT_OUTPUT})")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the scanned files")
    args = parser.parse_args(argv)

    try:
        rows, scanned, warnings = extract(args.source)
    except (ExtractError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join([HEADER, *(r.tsv() for r in rows)]) + "\n")

    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.verbose:
        for source in scanned:
            print(f"scanned {source}", file=sys.stderr)
    print(f"uWSGI {uwsgi_version(args.source)}: {len(rows)} options from {len(scanned)} files "
          f"-> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
