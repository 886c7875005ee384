"""Fixtures for the configuration tests: a fixed option registry, a file writer, a loader."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from uwkernel.config import build_config, read_sources
from uwkernel.config.directives import CONFIG_OPTIONS
from uwkernel.options import OptionRegistry
from uwkernel.types import Option

#: Stand-ins for the options plugins add, so these tests do not move when the kernel's list does.
TEST_OPTIONS = [
    Option("socket", kind="list", short="s", aliases=("uwsgi-socket",)),
    Option("processes", kind="int", short="p", default=1, aliases=("workers",)),
    Option("master", kind="bool", short="M"),
    Option("enable-threads", kind="bool", short="T"),
    Option("harakiri", kind="int", short="t"),
    Option("chmod-socket", short="C"),
    Option("chdir"),
    Option("module", short="w"),
    Option("env", kind="list"),
    Option("hook-asap", kind="list"),
    Option("log-format", aliases=("logformat",)),
    Option("plugin", kind="list", aliases=("plugins",)),
]


@pytest.fixture
def registry() -> OptionRegistry:
    """The configuration package's own options and the stand-ins."""
    return OptionRegistry(CONFIG_OPTIONS + TEST_OPTIONS)


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``write(name, text)``: a file under tmp_path (the working directory), dedented; returns its name."""
    monkeypatch.chdir(tmp_path)

    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return name

    return write


@pytest.fixture
def entries(registry):
    """``entries(*argv, environ=..., is_reload=...)``: the entries read_sources gives."""

    def entries(*argv: str, environ: dict[str, str] | None = None, is_reload: bool = False):
        return read_sources(argv, environ or {}, registry, is_reload=is_reload)

    return entries


@pytest.fixture
def load(registry, entries):
    """``load(*argv, environ=..., is_reload=..., check_unknown=...)``: the resolved Config."""

    def load(*argv: str, environ: dict[str, str] | None = None, is_reload: bool = False, check_unknown: bool = True):
        return build_config(entries(*argv, environ=environ, is_reload=is_reload), registry, check_unknown=check_unknown)

    return load
