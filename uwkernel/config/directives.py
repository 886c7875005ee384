"""The options the configuration package handles itself, as uWSGI does while it reads its sources.

* config files, loaded where their option appears: ``ini``, ``json``, ``yaml``, ``toml``, ``config``
  and ``include`` (by extension); ``inherit`` files load after everything else;
* placeholders and custom options: ``set``, ``set-placeholder``, ``declare-option``, ``strict``;
* blocks: ``for``/``for-glob``/``for-times``/``for-readline`` ... ``endfor``, the ``if-*`` family ...
  ``endif``, and ``end`` closing either.
"""
from __future__ import annotations

from ..types import Option

#: Config-file options and the format each reads; ``None`` means "by the file's extension".
FILE_OPTIONS: dict[str, str | None] = {
    "ini": "ini", "json": "json", "yaml": "yaml", "toml": "toml",
    "config": None, "include": None, "inherit": None,
}

#: Loop blocks: each body entry is repeated once per item, with ``%(_)`` the item.
FOR_BLOCKS = ("for", "for-glob", "for-times", "for-readline")

#: Conditional blocks: the body is read only when the condition holds.
IF_BLOCKS = (
    "if-env", "if-not-env", "if-opt", "if-not-opt", "if-exists", "if-not-exists", "if-file", "if-not-file",
    "if-dir", "if-not-dir", "if-hostname", "if-not-hostname", "if-hostname-match", "if-not-hostname-match",
    "if-reload", "if-not-reload",
)

#: Block ends, and the blocks each may close.
BLOCK_ENDS: dict[str, tuple[str, ...]] = {"endfor": FOR_BLOCKS, "endif": IF_BLOCKS, "end": FOR_BLOCKS + IF_BLOCKS}

#: uWSGI config options uwkernel cannot honour; using one is a configuration error (never ignored).
UNSUPPORTED: dict[str, str] = {
    **dict.fromkeys(("xml", "xmlconfig"), "XML configuration files are not supported; use ini, json, yaml or toml"),
    **dict.fromkeys(("sqlite", "sqlite3", "ldap"), "this configuration source is not supported"),
    **dict.fromkeys(("if-plugin", "if-not-plugin", "ifplugin"),
                    "plugin conditions are not supported (uwkernel loads plugins after reading the configuration)"),
}

#: Options whose values hold run-time ``%(var)`` variables (request log lines): an unknown
#: placeholder there is left as it is, as uWSGI does, instead of being an error.
RUNTIME_TEMPLATE_OPTIONS = frozenset({"log-format", "logformat"})

_FILE_HELP = {
    "ini": "load an ini file (FILE or FILE:SECTION, default section [uwsgi]) where the option appears",
    "json": "load a JSON file (FILE or FILE:SECTION) where the option appears",
    "yaml": "load a YAML file (FILE or FILE:SECTION) where the option appears",
    "toml": "load a TOML file (FILE or FILE:SECTION) where the option appears",
    "config": "load a config file by its extension (.ini, .json, .yaml, .yml, .toml)",
    "include": "load a config file by its extension, where the option appears",
    "inherit": "load a config file as a template after everything else, without expanding its placeholders",
}
_FILE_ALIASES = {"json": ("js",), "yaml": ("yml",)}
_FILE_SHORTS = {"json": "j", "yaml": "y"}
_IF_ALIASES = {"if-env": ("ifenv",), "if-exists": ("ifexists",), "if-dir": ("ifdir", "if-directory")}


_IF_TESTS = {
    "env": "the environment variable NAME is set (to VALUE, for NAME=VALUE)",
    "opt": "the option NAME was given before (first as VALUE, for NAME=VALUE)",
    "exists": "the path is readable",
    "file": "the path is a regular file",
    "dir": "the path is a directory",
    "hostname": "the host name is this one",
    "hostname-match": "the host name matches this regular expression",
    "reload": "the instance is reloading",
}


def _if_help(name: str) -> str:
    negated = name.startswith("if-not-")
    test = _IF_TESTS[name.removeprefix("if-not-" if negated else "if-")]
    return f"(block) skip the lines up to endif {'if' if negated else 'unless'} {test}"


CONFIG_OPTIONS: list[Option] = [
    *(Option(name, kind="list", help=_FILE_HELP[name], short=_FILE_SHORTS.get(name),
             aliases=_FILE_ALIASES.get(name, ())) for name in FILE_OPTIONS),
    Option("set", kind="list", short="S", help="set NAME=VALUE: an option, or a placeholder usable as %(NAME)"),
    Option("set-placeholder", kind="list", aliases=("set-ph",), help="set NAME=VALUE as a placeholder only"),
    Option("declare-option", kind="list", aliases=("declare-option2",),
           help="declare NAME=OPT1=VALUE1;OPT2=VALUE2: using NAME sets the options, with $1.. its words"),
    Option("strict", kind="bool", help="every key must be an option, even one used as a placeholder"),
    Option("for", kind="list", help="(block) repeat the lines up to endfor for each word, as %(_)"),
    Option("for-glob", kind="list", help="(block) repeat the lines up to endfor for each path matching a glob"),
    Option("for-times", kind="list", help="(block) repeat the lines up to endfor N times, %(_) from 1 to N"),
    Option("for-readline", kind="list", help="(block) repeat the lines up to endfor for each line of a file"),
    *(Option(name, kind="bool" if name.endswith("reload") else "list", help=_if_help(name),
             aliases=_IF_ALIASES.get(name, ())) for name in IF_BLOCKS),
    Option("endfor", kind="bool", aliases=("end-for",), help="(block) end a for block"),
    Option("endif", kind="bool", aliases=("end-if",), help="(block) end an if block"),
    Option("end", kind="bool", help="(block) end a for or if block"),
]

#: The options above by name and alias.
DIRECTIVES: dict[str, Option] = {name: option for option in CONFIG_OPTIONS for name in option.names}
