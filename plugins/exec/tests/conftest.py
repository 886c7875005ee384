"""Fixtures for the exec plugin's tests: a stand-in Config, a compiled C library, the real CLI."""
from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import textwrap

import pytest

import uwkernel_exec
from uwkernel.errors import Origin
from uwkernel.testing import run_bounded, subprocess_env

C_SOURCE = r"""
#include <string.h>

char hooktest_last_str[256];
int hooktest_last_int = -1;
int hooktest_calls = 0;

void hooktest_touch(void) { hooktest_calls++; }
void hooktest_take_str(const char *s) { strncpy(hooktest_last_str, s, sizeof hooktest_last_str - 1); }
void hooktest_take_int(int n) { hooktest_last_int = n; }
int hooktest_is_ok(const char *s) { return strcmp(s, "ok") != 0; }
int hooktest_minus_one(int n) { return n - 1; }
int hooktest_zero(void) { return 0; }
int hooktest_seven(void) { return 7; }
"""

class FakeConfig:
    """The part of uwkernel's Config that plugins use, over ``{option name: [raw values]}``.

    ``config[name]`` is typed by the option's kind (a list for list options, the last value or the
    default otherwise); ``config.values(name)`` gives ``(value, origin)`` pairs, origin ``test.ini:N``.
    """

    def __init__(self, values: dict[str, list] | None = None, options=uwkernel_exec.OPTIONS):
        self._values = values or {}
        self._options = {option.name: option for option in options}

    def __getitem__(self, name: str):
        """The typed value of ``name``."""
        option = self._options[name]
        values = self._values.get(name, [])
        if option.kind == "list":
            return list(values)
        return values[-1] if values else option.default

    def values(self, name: str):
        """The ``(value, origin)`` pairs given for ``name``."""
        return [(value, Origin("test.ini", line)) for line, value in enumerate(self._values.get(name, []), 1)]


@pytest.fixture
def make_config():
    """Build a FakeConfig: ``make_config({"binsh": ["/bin/bash"]})``."""
    return FakeConfig


@pytest.fixture(autouse=True)
def _reset_plugin_state():
    """Each test starts and ends with the plugin as configure() leaves it for an empty configuration."""
    uwkernel_exec.uwkernel_configure(FakeConfig())
    yield
    uwkernel_exec.uwkernel_configure(FakeConfig())


@pytest.fixture(scope="session")
def clib(tmp_path_factory):
    """Path of a shared library compiled from :data:`C_SOURCE` (skips without gcc)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed: cannot build the test library for call/callint hooks")
    directory = tmp_path_factory.mktemp("clib")
    source, library = directory / "hooktest.c", directory / "libhooktest.so"
    source.write_text(C_SOURCE)
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(library), str(source)], check=True, timeout=60)
    return library


def _cli_available() -> str | None:
    """Why the end-to-end tests cannot run, or None when they can."""
    probe = subprocess.run([sys.executable, "-c", "import uwkernel.cli"], env=subprocess_env(),
                           capture_output=True, timeout=60)
    if probe.returncode != 0:
        return "uwkernel.cli does not import yet"
    names = {ep.name for ep in importlib.metadata.entry_points(group="uwkernel.plugins")}
    if "exec" not in names:
        return "the exec plugin's entry point is not installed (pip install plugins/exec)"
    return None


@pytest.fixture(scope="session")
def run_uwkernel():
    """Run ``python -m uwkernel --ini FILE`` on an ini text in a directory; skip when not installed."""
    reason = _cli_available()
    if reason:
        pytest.skip(reason)

    def run(ini: str, cwd, timeout: float = 60) -> subprocess.CompletedProcess:
        path = cwd / "test.ini"
        path.write_text("[uwsgi]\n" + textwrap.dedent(ini))
        return run_bounded([sys.executable, "-m", "uwkernel", "--ini", str(path)], cwd, timeout)

    return run
