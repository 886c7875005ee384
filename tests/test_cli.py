"""The uwkernel command: help, version, show-config, bad input as one-line errors, privileges."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from support import run_uwkernel


def test_version_and_help_grouped_by_plugin():
    result = run_uwkernel("--version")
    assert result.returncode == 0 and "uwkernel, version" in result.stdout
    result = run_uwkernel("--help")
    assert result.returncode == 0
    assert "Options of plugin 'kernel'" in result.stdout
    assert "Options of plugin 'exec'" in result.stdout and "--exec-asap" in result.stdout
    assert "Options of plugin 'python'" in result.stdout and "--wsgi-file" in result.stdout
    assert "-p, --processes, --workers" in result.stdout


def test_show_config_prints_the_resolved_ini(tmp_path):
    ini = tmp_path / "app.ini"
    (tmp_path / "app").mkdir()
    ini.write_text(f"[uwsgi]\nbase = {tmp_path}\nchdir = %(base)/app\nenv = A=1\nenv = B=2\n")
    result = run_uwkernel("--ini", str(ini), "--show-config", "--processes", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert ";uWSGI instance configuration" in lines and "[uwsgi]" in lines
    assert f"chdir = {tmp_path}/app" in lines and "env = A=1" in lines and "env = B=2" in lines
    assert "processes = 3" in lines


@pytest.mark.parametrize("text, where, message", [
    ("[uwsgi]\nprocesses = 2\nprocesess = 4\n", ":3", "processes"),
    ("[uwsgi]\nchdir = %(nosuchplaceholder)\n", ":2", "nosuchplaceholder"),
    ("[uwsgi]\ninclude = /nonexistent/other.ini\n", ":2", "/nonexistent/other.ini"),
    ("[uwsgi]\nhook-asap = nosuchhandler:x\n", ":2", "unknown hook handler 'nosuchhandler'"),
    ("[uwsgi]\nhook-pre-app = exec\n", ":2", "handler:arguments"),
    ("[uwsgi]\nprocesses = many\n", ":2", "processes"),
    ("[uwsgi]\nif-env = HOME\nprocesses = 2\n", ":2", "if-env"),
    ("[uwsgi]\n\nchdir = /nonexistent/dir\n", ":3", "cannot chdir to /nonexistent/dir"),
])
def test_config_errors_name_file_line_and_option_without_traceback(tmp_path, text, where, message):
    ini = tmp_path / "bad.ini"
    ini.write_text(text)
    result = run_uwkernel("--ini", str(ini))
    assert result.returncode != 0
    assert f"{ini}{where}" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len([l for l in result.stderr.splitlines() if l.startswith("uwkernel: config error")]) == 1


def test_unknown_command_line_option_suggests_the_closest():
    result = run_uwkernel("--proceses", "2")
    assert result.returncode != 0
    assert "command line" in result.stderr and "processes" in result.stderr
    assert "Traceback" not in result.stderr


def test_unimplemented_uwsgi_option_is_accepted_with_a_note(tmp_path):
    ini = tmp_path / "app.ini"
    ini.write_text("[uwsgi]\nthunder-lock = true\n")
    result = run_uwkernel("--ini", str(ini))
    assert result.returncode == 0, result.stderr
    assert f"{ini}:2: uWSGI option 'thunder-lock' is accepted for compatibility and has no effect" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_uid_gid_drop_between_as_root_and_as_user(tmp_path):
    nobody = pwd.getpwnam("nobody")
    out = Path(tempfile.mkdtemp(prefix="uwkernel-drop-"))  # nobody must reach it: not under pytest's 0700 dirs
    out.chmod(0o777)
    ini = tmp_path / "app.ini"
    ini.write_text(f"[uwsgi]\nuid = nobody\ngid = {nobody.pw_gid}\n"
                   f"exec-as-root = id -u > {out}/as-root\nexec-as-user = id -u > {out}/as-user\n"
                   f"exec-as-user = id -g >> {out}/as-user\n")
    try:
        result = run_uwkernel("--ini", str(ini))
        assert result.returncode == 0, result.stderr
        assert (out / "as-root").read_text().split() == ["0"]
        assert (out / "as-user").read_text().split() == [str(nobody.pw_uid), str(nobody.pw_gid)]
    finally:
        shutil.rmtree(out)


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
def test_chroot_between_pre_jail_and_post_jail(tmp_path):
    jail = tmp_path / "jail"
    jail.mkdir()
    ini = tmp_path / "app.ini"
    ini.write_text(f"[uwsgi]\nchroot = {jail}\nhook-pre-jail = write:{tmp_path}/outside before\n"
                   "hook-post-jail = write:/inside after\n")
    result = run_uwkernel("--ini", str(ini))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "outside").read_text() == "before"
    assert (jail / "inside").read_text() == "after"


def test_unknown_user_stops_start_up_with_one_line(tmp_path):
    ini = tmp_path / "app.ini"
    ini.write_text("[uwsgi]\nuid = no-such-user-here\n")
    result = run_uwkernel("--ini", str(ini))
    if os.geteuid() == 0:
        assert result.returncode == 1 and "unknown user 'no-such-user-here'" in result.stderr
    else:
        assert result.returncode == 0 and "uid/gid ignored" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_sub_command_is_routed_to_click():
    from uwkernel import cli, commands

    assert set(commands.cli.commands) | {"--help", "-h", "--version"} == set(cli.COMMANDS)
    result = run_uwkernel("run", "--processes", "1")
    assert result.returncode == 0 and "no socket configured" in result.stderr


#: Modules an instance that reads no JSON, YAML or TOML file and runs no emperor, mount, exec hook or C
#: call has no use for: importing them cost most of the start-up time (docs/benchmarks.md, case (d)).
NOT_FOR_SERVING = ("click", "yaml", "tomllib", "importlib.metadata", "multiprocessing", "ctypes", "tempfile",
                   "inotify_simple", "difflib")


def test_an_instance_starts_without_importing_what_it_does_not_use(tmp_path):
    app = tmp_path / "app.py"
    app.write_text("def application(environ, start_response):\n    return []\n")
    probe = (f"import atexit, sys; atexit.register(lambda: print(sorted(set({NOT_FOR_SERVING!r}) & set(sys.modules))));"
             f"from uwkernel.cli import main; main(['--wsgi-file', {str(app)!r}, '--master', '--processes', '2'])")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UWSGI_", "UWKERNEL_"))}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
