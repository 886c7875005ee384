"""Plugin loading through entry points: a working plugin, a broken one, blocked ones, conflicts."""
from __future__ import annotations

import sys

from support import FakeDists, run_uwkernel

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


def test_entry_points_are_those_importlib_metadata_finds(fake_dists, tmp_path, monkeypatch):
    import importlib.metadata
    import zipfile

    from uwkernel.plugins import scan_entry_points

    fake_dists.add("fake-good", "good", "fake_good_mod", GOOD, version="2.3")
    fake_dists.add("Fake.Other", "other", "fake_other_mod", GOOD)
    (fake_dists.root / "Fake.Other-1.0.dist-info" / "entry_points.txt").write_text(
        "# a comment\n[console_scripts]\nfake = fake_other_mod:main\n\n"
        "[uwkernel.plugins]\nother = fake_other_mod:plugin.hooks [extra]\n")
    shadowed = tmp_path / "later"
    shadowed.mkdir()
    FakeDists(shadowed).add("fake-good", "shadowed", "fake_shadowed_mod", GOOD, version="0.1")
    egg = tmp_path / "old"
    (egg / "fake_egg.egg-info").mkdir(parents=True)
    (egg / "fake_egg.egg-info" / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: fake-egg\nVersion: 0.5\n")
    (egg / "fake_egg.egg-info" / "entry_points.txt").write_text("[uwkernel.plugins]\negg = fake_egg_mod\n")

    def both() -> tuple[list, list]:
        scan_entry_points.cache_clear()
        ours = [tuple(ep) for ep in scan_entry_points()]
        theirs = [(ep.name, ep.value, ep.dist.name, ep.dist.version)
                  for ep in importlib.metadata.entry_points(group="uwkernel.plugins")]
        return ours, theirs

    try:
        monkeypatch.setattr(sys, "path", [str(fake_dists.root), str(shadowed), str(egg), *sys.path])
        ours, theirs = both()
        assert ours == theirs
        assert ("good", "fake_good_mod", "fake-good", "2.3") in ours and "shadowed" not in {n for n, *_ in ours}
        assert ("other", "fake_other_mod:plugin.hooks [extra]", "Fake.Other", "1.0") in ours
        assert ("egg", "fake_egg_mod", "fake-egg", "0.5") in ours
        with zipfile.ZipFile(tmp_path / "dists.zip", "w") as archive:  # a zip on sys.path: importlib's job
            archive.writestr("fake_zip-1.0.dist-info/METADATA", "Name: fake-zip\nVersion: 1.0\n")
            archive.writestr("fake_zip-1.0.dist-info/entry_points.txt", "[uwkernel.plugins]\nzipped = zipped_mod\n")
        monkeypatch.setattr(sys, "path", [str(tmp_path / "dists.zip"), *sys.path])
        ours, theirs = both()
        assert ours == theirs and ours[0] == ("zipped", "zipped_mod", "fake-zip", "1.0")
    finally:
        scan_entry_points.cache_clear()
