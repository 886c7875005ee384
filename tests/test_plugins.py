"""Plugin loading through entry points: a working plugin, a broken one, blocked ones, conflicts."""
from __future__ import annotations

from support import run_uwkernel

GOOD = """
from uwkernel import hookimpl
from uwkernel.types import HookHandler, Option, UwsgiPluginName

@hookimpl
def uwkernel_add_options():
    return [Option("fake-greeting", help="a greeting to print")]

@hookimpl
def uwkernel_add_hook_handlers():
    return [HookHandler("fakeprint", lambda args: print("FAKE", args, flush=True))]

@hookimpl
def uwkernel_add_uwsgi_plugin_names():
    return [UwsgiPluginName("fakeuwsgi*")]

@hookimpl
def uwkernel_configure(config):
    if config["fake-greeting"]:
        print("GREETING", config["fake-greeting"], flush=True)
"""

BROKEN = "raise RuntimeError('boom at import')\n"

MARKS_IMPORT = """
import os
open(os.environ["MARKER"], "w").write("imported")
from uwkernel import hookimpl
from uwkernel.types import Option

@hookimpl
def uwkernel_add_options():
    return [Option("marked-option")]
"""


def test_working_plugin_is_listed_with_its_distribution_options_and_handlers(fake_dists):
    fake_dists.add("fake-good", "good", "fake_good_mod", GOOD, version="2.3")
    result = run_uwkernel("plugins", path=[fake_dists.root])
    assert result.returncode == 0, result.stderr
    assert "good\tfake-good\t2.3" in result.stdout
    block = result.stdout.split("good\tfake-good\t2.3", 1)[1]
    assert "options: fake-greeting" in block.splitlines()[1]
    assert "handlers: fakeprint" in block.splitlines()[2]


def test_plugin_option_and_handler_work_in_an_instance(fake_dists, tmp_path):
    fake_dists.add("fake-good", "good", "fake_good_mod", GOOD)
    ini = tmp_path / "app.ini"
    ini.write_text("[uwsgi]\nfake-greeting = hello\nhook-asap = fakeprint:from the asap phase\n")
    result = run_uwkernel("--ini", str(ini), path=[fake_dists.root])
    assert result.returncode == 0, result.stderr
    assert "GREETING hello" in result.stdout
    assert "FAKE from the asap phase" in result.stdout


def test_broken_plugin_is_reported_by_name_and_start_up_goes_on(fake_dists, tmp_path):
    fake_dists.add("fake-good", "good", "fake_good_mod", GOOD)
    fake_dists.add("fake-broken", "broken", "fake_broken_mod", BROKEN)
    ini = tmp_path / "app.ini"
    ini.write_text("[uwsgi]\nhook-asap = fakeprint:still here\n")
    result = run_uwkernel("--ini", str(ini), path=[fake_dists.root])
    assert result.returncode == 0, result.stderr
    lines = [l for l in result.stderr.splitlines() if "failed to load" in l]
    assert len(lines) == 1
    assert "plugin 'broken' (fake_broken_mod from fake-broken) failed to load: RuntimeError: boom at import" in lines[0]
    assert "FAKE still here" in result.stdout


def test_blocked_plugin_is_never_imported(fake_dists, tmp_path):
    fake_dists.add("fake-marked", "marked", "fake_marked_mod", MARKS_IMPORT)
    marker = tmp_path / "marker"
    env = {"MARKER": str(marker)}
    result = run_uwkernel("plugins", path=[fake_dists.root], env={**env, "UWKERNEL_DISABLE_PLUGINS": "other,marked"})
    assert result.returncode == 0, result.stderr
    assert "marked\tblocked" in result.stdout
    assert not marker.exists()
    for flag in (["--no-plugin", "marked"], ["--no-plugin=marked"]):
        result = run_uwkernel(*flag, path=[fake_dists.root], env=env)
        assert result.returncode == 0, result.stderr
        assert not marker.exists()
    result = run_uwkernel(path=[fake_dists.root], env=env)
    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "imported"


def test_blocked_plugin_options_are_unknown(fake_dists, tmp_path):
    fake_dists.add("fake-good", "good", "fake_good_mod", GOOD)
    ini = tmp_path / "app.ini"
    ini.write_text("[uwsgi]\nno-plugin = good\nfake-greeting = hi\n")
    result = run_uwkernel("--ini", str(ini), path=[fake_dists.root])
    assert result.returncode == 1
    assert f"{ini}:3" in result.stderr and "fake-greeting" in result.stderr
    assert "GREETING" not in result.stdout


def test_two_plugins_claiming_one_option_name_both_distributions(fake_dists):
    fake_dists.add("fake-good", "good", "fake_good_mod", GOOD, version="1.0")
    fake_dists.add("fake-twin", "twin", "fake_twin_mod", GOOD, version="9.9")
    result = run_uwkernel("--version", path=[fake_dists.root])
    assert result.returncode == 0
    result = run_uwkernel(path=[fake_dists.root])
    assert result.returncode == 1
    assert "option 'fake-greeting' is claimed by both" in result.stderr
    assert "plugin 'good' (fake-good 1.0)" in result.stderr and "plugin 'twin' (fake-twin 9.9)" in result.stderr
    assert "Traceback" not in result.stderr


def test_uwsgi_plugin_lines_map_to_uwkernel_plugins(fake_dists, tmp_path):
    fake_dists.add("fake-good", "good", "fake_good_mod", GOOD)
    ini = tmp_path / "app.ini"
    ini.write_text("[uwsgi]\nplugins = 0:fakeuwsgi311,/usr/lib/uwsgi/fakeuwsgi_plugin.so\nplugin = fakeuwsgi\n")
    result = run_uwkernel("--ini", str(ini), path=[fake_dists.root])
    assert result.returncode == 0, result.stderr


def test_unknown_uwsgi_plugin_is_an_error_naming_it(tmp_path):
    ini = tmp_path / "app.ini"
    ini.write_text("[uwsgi]\nplugins = php\n")
    result = run_uwkernel("--ini", str(ini))
    assert result.returncode == 1
    assert "uWSGI plugin 'php' is not provided by any uwkernel plugin" in result.stderr


def test_dotted_module_path_is_loaded_as_a_plugin(tmp_path):
    pkg = tmp_path / "mycompany"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "uwplugin.py").write_text(GOOD)
    ini = tmp_path / "app.ini"
    ini.write_text("[uwsgi]\nplugins = mycompany.uwplugin\nfake-greeting = dotted\n")
    result = run_uwkernel("--ini", str(ini), path=[tmp_path])
    assert result.returncode == 0, result.stderr
    assert "GREETING dotted" in result.stdout
    ini.write_text("[uwsgi]\nplugins = mycompany.missing\n")
    result = run_uwkernel("--ini", str(ini), path=[tmp_path])
    assert result.returncode == 1
    assert "plugin module 'mycompany.missing' cannot be imported" in result.stderr
