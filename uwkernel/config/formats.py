"""Config file formats: which format a path has, and how JSON, YAML and TOML files become items.

A structured file holds a mapping whose ``section`` key (``uwsgi`` unless ``FILE:SECTION`` asked
for another) maps option names to values: a list repeats the option, a number or boolean becomes
its text (``true``/``false``), JSON/TOML ``null`` gives the option without a value. YAML scalars are
taken as written (so ``chmod-socket: 0660`` stays ``0660`` and ``master: yes`` is ``yes``), as
uWSGI's own YAML reader does; YAML items carry their line numbers.

The parsers (``json``, ``tomllib``, PyYAML) are imported when a file of their format is read: most
instances read none, and importing the three costs about 25 ms of start-up.
"""
from __future__ import annotations

import os
from typing import Any

#: Extensions recognised for ``config``, ``include``, ``inherit`` and positional arguments.
EXTENSIONS = {".ini": "ini", ".json": "json", ".js": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}

Item = tuple[int | None, str, str | None]


class FormatError(ValueError):
    """A file that does not parse, or has no such section; ``line`` when the parser knows it."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def format_of(path: str) -> str | None:
    """The format a path's extension names (``ini``, ``json``, ``yaml``, ``toml``), or None."""
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


def parse_structured(fmt: str, text: str, section: str) -> list[Item]:
    """The ``(line, key, value)`` items of ``section`` in a ``json``, ``yaml`` or ``toml`` text."""
    if fmt == "yaml":
        return _parse_yaml(text, section)
    if fmt == "json":
        import json

        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormatError(f"invalid JSON: {exc.msg}", exc.lineno) from None
    else:
        import tomllib

        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise FormatError(f"invalid TOML: {exc}") from None
    if not isinstance(document, dict) or section not in document:
        raise FormatError(f"no '{section}' section")
    options = document[section]
    if not isinstance(options, dict):
        raise FormatError(f"section '{section}' is not a mapping of options")
    return [(None, key, value) for key, raw in options.items() for value in _values(key, raw)]


def _values(key: str, raw: Any, in_list: bool = False) -> list[str | None]:
    if isinstance(raw, list) and not in_list:
        return [value for item in raw for value in _values(key, item, in_list=True)]
    if isinstance(raw, (list, dict)):
        raise FormatError(f"option '{key}': only text, a number, a boolean or a list of them is a value")
    if raw is None:
        return [None]
    if isinstance(raw, bool):
        return ["true" if raw else "false"]
    return [str(raw)]


def _parse_yaml(text: str, section: str) -> list[Item]:
    import yaml

    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FormatError(f"invalid YAML: {getattr(exc, 'problem', None) or exc}", mark.line + 1 if mark else None) from None
    options = None
    if isinstance(document, yaml.MappingNode):
        options = next((value for key, value in document.value if _scalar(key) == section), None)
    if options is None:
        raise FormatError(f"no '{section}' section")
    if not isinstance(options, yaml.MappingNode):
        raise FormatError(f"section '{section}' is not a mapping of options", options.start_mark.line + 1)
    items: list[Item] = []
    for key_node, value_node in options.value:
        key = _scalar(key_node)
        if key is None:
            raise FormatError("an option name must be text", key_node.start_mark.line + 1)
        nodes = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for node in nodes:
            if not isinstance(node, yaml.ScalarNode):
                raise FormatError(f"option '{key}': only text or a list of texts is a value", node.start_mark.line + 1)
            items.append((node.start_mark.line + 1, key, node.value))
    return items


def _scalar(node) -> str | None:
    import yaml

    return node.value if isinstance(node, yaml.ScalarNode) else None
