"""Fixtures shared by the kernel's tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from support import FakeDists


@pytest.fixture
def fake_dists(tmp_path: Path) -> FakeDists:
    """A directory for fake plugin distributions; pass ``path=[fake_dists.root]`` to run_uwkernel."""
    root = tmp_path / "site"
    root.mkdir()
    return FakeDists(root)
