"""exec, safeexec and the choice of shell (binsh)."""
from __future__ import annotations

import signal

import uwkernel_exec
from uwkernel_exec import shell


def test_exec_success_returns_zero(tmp_path):
    assert shell.exec_command(f"echo hi > {tmp_path}/out") == 0
    assert (tmp_path / "out").read_text() == "hi\n"


def test_exec_failure_returns_the_exit_status():
    assert shell.exec_command("exit 3") == 3
    assert shell.exec_command("false") == 1


def test_exec_killed_by_a_signal_fails():
    assert shell.exec_command("kill -KILL $$") == -signal.SIGKILL


def test_safeexec_never_fails_but_logs(capfd):
    assert shell.safeexec("exit 4") is None
    assert 'command "exit 4" exited with non-zero code: 4' in capfd.readouterr().err


def test_safeexec_success_logs_nothing(capfd, tmp_path):
    assert shell.safeexec(f"touch {tmp_path}/made") is None
    assert (tmp_path / "made").exists()
    assert "non-zero" not in capfd.readouterr().err


def test_default_shell_is_bin_sh():
    assert shell.shell() == "/bin/sh"


def _wrapper_shell(directory):
    """A shell script that records it ran, then hands the command to /bin/sh."""
    script = directory / "mysh"
    script.write_text(f'#!/bin/sh\necho used > {directory}/marker\nexec /bin/sh "$@"\n')
    script.chmod(0o755)
    return script


def test_binsh_first_executable_wins(tmp_path, make_config):
    not_executable = tmp_path / "plain"
    not_executable.write_text("")
    wrapper = _wrapper_shell(tmp_path)
    config = make_config({"binsh": [str(tmp_path / "missing"), str(not_executable), str(wrapper), "/bin/sh"]})
    uwkernel_exec.uwkernel_configure(config)
    assert shell.shell() == str(wrapper)
    assert shell.exec_command("exit 0") == 0
    assert (tmp_path / "marker").read_text() == "used\n"


def test_binsh_falls_back_to_bin_sh(tmp_path, make_config):
    uwkernel_exec.uwkernel_configure(make_config({"binsh": [str(tmp_path / "missing"), str(tmp_path)]}))
    assert shell.shell() == "/bin/sh"
