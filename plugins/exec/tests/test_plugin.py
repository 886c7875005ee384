"""The plugin as the kernel sees it: options, handlers, and phases run by uwkernel.phases.run_phase."""
from __future__ import annotations

import pytest

from uwkernel.errors import HookFailed
from uwkernel.phases import Phase, run_phase
from uwkernel.plugins import PluginManager


@pytest.fixture
def plugins():
    """A plugin manager holding the kernel and this plugin only (no entry points scanned)."""
    manager = PluginManager(entry_points=False)
    manager.load_module("uwkernel_exec")
    return manager


def test_every_phase_has_exec_and_call_options(plugins):
    for phase in Phase:
        for kind in ("exec", "call"):
            option = plugins.options.get(f"{kind}-{phase.value}")
            assert option is not None and option.kind == "list" and option.plugin == "uwkernel_exec"
            assert (option.phase_hook.kind, option.phase_hook.phase, option.phase_hook.handler) == (
                kind, phase.value, kind)
    for name in ("dlopen", "binsh"):
        assert plugins.options.get(name).kind == "list"


def test_handlers_and_aliases_are_registered(plugins):
    expected = {
        "exec", "safeexec", "call", "callret", "callint", "callintret", "cd", "chdir", "mkdir", "putenv",
        "chmod", "chown", "chown2", "sticky", "create", "creat", "write", "writen", "append", "appendn",
        "writefifo", "unlink", "exit", "print", "log", "wait_for_fs", "wait_for_file", "wait_for_dir",
        "wait_for_socket", "pycall",
    }
    assert expected <= set(plugins.handlers)
    assert all(plugins.handlers[name].help for name in expected)


def test_a_phase_runs_the_hook_chain_then_exec_then_call(plugins, make_config, tmp_path, capfd):
    out = tmp_path / "order"
    config = make_config({
        "call-asap": ["uwsgi_log third"],
        "exec-asap": [f"echo second >> {out}"],
        "hook-asap": [f"appendn:{out} first"],
    })
    run_phase(Phase.ASAP, config, plugins)
    assert out.read_text() == "first\nsecond\n"
    assert "third" in capfd.readouterr().err.splitlines()


def test_a_failing_exec_in_a_fatal_phase_names_phase_handler_and_argument(plugins, make_config):
    with pytest.raises(HookFailed) as info:
        run_phase(Phase.PRE_APP, make_config({"exec-pre-app": ["exit 5"]}), plugins)
    message = str(info.value)
    assert "pre-app" in message and '"exec:exit 5"' in message and "5" in message


def test_a_failing_hook_in_a_non_fatal_phase_is_only_logged(plugins, make_config, tmp_path, capfd):
    config = make_config({"hook-as-user-atexit": ["unlink:/nonexistent/uwk", f"create:{tmp_path}/after"]})
    run_phase(Phase.AS_USER_ATEXIT, config, plugins)
    assert (tmp_path / "after").exists()
    assert "unlink:/nonexistent/uwk" in capfd.readouterr().err


def test_exit_hook_ends_the_phase_with_its_status(plugins, make_config):
    with pytest.raises(SystemExit) as info:
        run_phase(Phase.ASAP, make_config({"hook-asap": ["exit:9"]}), plugins)
    assert info.value.code == 9
