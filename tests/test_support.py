"""The test helpers' own rules: how the tests that run uWSGI find it."""
from __future__ import annotations

import pytest

from support import UWSGI_ENV, uwsgi_binary


def test_a_missing_uwsgi_named_by_make_test_fails_the_test(monkeypatch, tmp_path):
    monkeypatch.setenv(UWSGI_ENV, str(tmp_path / "no-uwsgi"))
    with pytest.raises(pytest.fail.Exception, match="not an executable"):
        uwsgi_binary()


def test_the_uwsgi_named_by_make_test_is_used(monkeypatch, tmp_path):
    binary = tmp_path / "uwsgi"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv(UWSGI_ENV, str(binary))
    assert uwsgi_binary() == str(binary)
