"""The documentation keeps up with the code: every hook documented, the option reference current."""
from __future__ import annotations

import re

from support import REPO, run_uwkernel
from uwkernel import hookspecs


def test_every_hook_is_documented_in_docs_plugins_md():
    text = (REPO / "docs" / "plugins.md").read_text()
    documented = set(re.findall(r"^#### (uwkernel_\w+)$", text, re.M))
    hooks = {name for name in dir(hookspecs) if name.startswith("uwkernel_")}
    assert hooks, "no hookspecs found"
    assert hooks - documented == set(), "hooks missing from docs/plugins.md"
    assert documented - hooks == set(), "docs/plugins.md documents hooks that do not exist"


def test_every_hookspec_has_a_docstring_with_an_example():
    for name in dir(hookspecs):
        if name.startswith("uwkernel_"):
            doc = getattr(hookspecs, name).__doc__ or ""
            assert "Example" in doc and "@hookimpl" in doc, name


def test_docs_options_md_is_current():
    result = run_uwkernel("options", "--markdown")
    assert result.returncode == 0, result.stderr
    assert (REPO / "docs" / "options.md").read_text() == result.stdout, "run `make docs` to regenerate it"
