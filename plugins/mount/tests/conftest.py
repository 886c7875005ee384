"""Fixtures for the mount plugin's tests: a stand-in Config, a private mount namespace, the real CLI."""
from __future__ import annotations

import functools
import importlib.metadata
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from uwkernel.errors import Origin
from uwkernel.testing import run_bounded, subprocess_env

class FakeConfig:
    """The ``values(name)`` part of uwkernel's Config over ``{option: [values]}``; origins ``test.ini:N``."""

    def __init__(self, values: dict[str, list] | None = None):
        self._values = values or {}

    def values(self, name: str):
        """The ``(value, origin)`` pairs given for ``name``."""
        return [(value, Origin("test.ini", line)) for line, value in enumerate(self._values.get(name, []), 1)]


@pytest.fixture
def make_config():
    """Build a FakeConfig: ``make_config({"mount-asap": ["tmpfs none /mnt"]})``."""
    return FakeConfig


@functools.cache
def _unshare_reason() -> str | None:
    """Why a private mount namespace cannot be made here, or None when it can."""
    if os.geteuid() != 0:
        return "mount tests need root"
    if shutil.which("unshare") is None:
        return "unshare(1) is not installed"
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        return f"unshare -m does not work here: {probe.stderr.decode().strip()}"
    return None


def _run(command, cwd=None, namespace: bool = False, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``command`` (inside ``unshare -m --propagation private`` when ``namespace``), bounded in time."""
    if namespace and _unshare_reason():
        pytest.skip(_unshare_reason())
    prefix = ["unshare", "-m", "--propagation", "private"] if namespace else []
    return run_bounded([*prefix, *command], cwd, timeout)


@pytest.fixture
def in_namespace():
    """Run a command in a private mount namespace (its mounts vanish with it); skips where impossible."""
    return lambda *command, cwd=None: _run(command, cwd, namespace=True)


@pytest.fixture(scope="session")
def run_uwkernel():
    """Run ``python -m uwkernel --ini FILE`` on an ini text: ``run_uwkernel(ini, directory, namespace=False)``.

    Skips until ``uwkernel.cli`` imports and the mount plugin's entry point is installed.
    """
    probe = subprocess.run([sys.executable, "-c", "import uwkernel.cli"], env=subprocess_env(),
                           capture_output=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip("uwkernel.cli does not import yet")
    if "mount" not in {ep.name for ep in importlib.metadata.entry_points(group="uwkernel.plugins")}:
        pytest.skip("the mount plugin's entry point is not installed (pip install plugins/mount)")

    def run(ini: str, directory, namespace: bool = False) -> subprocess.CompletedProcess:
        path = directory / "test.ini"
        path.write_text("[uwsgi]\n" + textwrap.dedent(ini))
        return _run([sys.executable, "-m", "uwkernel", "--ini", str(path)], directory, namespace)

    return run
