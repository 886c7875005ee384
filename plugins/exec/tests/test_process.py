"""cd, putenv, exit, print/log and pycall."""
from __future__ import annotations

import os
import textwrap

import pytest

from uwkernel_exec import process, shell


def test_cd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    process.chdir("sub")
    assert os.getcwd() == str(tmp_path / "sub")
    with pytest.raises(FileNotFoundError):
        process.chdir(str(tmp_path / "missing"))


def test_putenv_reaches_commands(monkeypatch, tmp_path):
    monkeypatch.setenv("UWK_HOOK_TEST", "before")
    process.putenv("UWK_HOOK_TEST=a=b c")
    assert os.environ["UWK_HOOK_TEST"] == "a=b c"
    assert shell.exec_command(f'printf %s "$UWK_HOOK_TEST" > {tmp_path}/env') == 0
    assert (tmp_path / "env").read_text() == "a=b c"


@pytest.mark.parametrize("args", ["NOEQUALS", "=value", ""])
def test_putenv_needs_name_and_equals(args):
    with pytest.raises(ValueError, match="NAME=VALUE"):
        process.putenv(args)


@pytest.mark.parametrize("args, status", [("", 0), ("0", 0), ("3", 3), ("17", 17), (" 2 ", 2)])
def test_exit_honours_every_code(args, status):
    with pytest.raises(SystemExit) as info:
        process.exit_process(args)
    assert info.value.code == status


def test_exit_with_a_non_integer_fails():
    with pytest.raises(ValueError, match="not an integer"):
        process.exit_process("soon")


def test_print_writes_one_log_line(capfd):
    process.print_line("hello log")
    assert capfd.readouterr().err == "hello log\n"


HOOKMOD = """
    calls = []

    def ok():
        calls.append(None)

    def ok_arg(text):
        calls.append(text)
        return 0

    def fail_int():
        return 3

    def fail_text():
        return "bad"

    def boom():
        raise RuntimeError("exploded")

    class Holder:
        @staticmethod
        def method():
            calls.append("method")
"""


@pytest.fixture(scope="module")
def hookmod(tmp_path_factory):
    """A package ``uwk_pycall_pkg`` with a module ``hooks`` of callables, importable for the module's tests."""
    root = tmp_path_factory.mktemp("pycall")
    package = root / "uwk_pycall_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "hooks.py").write_text(textwrap.dedent(HOOKMOD))
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(root))
        import uwk_pycall_pkg.hooks

        yield uwk_pycall_pkg.hooks


def test_pycall_success(hookmod):
    hookmod.calls.clear()
    assert process.pycall("uwk_pycall_pkg.hooks.ok") is None
    assert process.pycall("uwk_pycall_pkg.hooks.ok_arg some text") is None
    assert process.pycall("uwk_pycall_pkg.hooks.Holder.method") is None
    assert hookmod.calls == [None, "some text", "method"]


def test_pycall_failures(hookmod):
    assert process.pycall("uwk_pycall_pkg.hooks.fail_int") == 3
    with pytest.raises(RuntimeError, match="returned 'bad'"):
        process.pycall("uwk_pycall_pkg.hooks.fail_text")
    with pytest.raises(RuntimeError, match="exploded"):
        process.pycall("uwk_pycall_pkg.hooks.boom")
    with pytest.raises(AttributeError):
        process.pycall("uwk_pycall_pkg.hooks.missing")
    with pytest.raises(ModuleNotFoundError):
        process.pycall("uwk_no_such_module.func")
    with pytest.raises(ValueError, match="module.function"):
        process.pycall("nodots")
