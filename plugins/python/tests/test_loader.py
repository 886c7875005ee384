"""Loading apps (module specs, files, mounts, imports, python path) and picking one per request."""
from __future__ import annotations

import os
import sys
import textwrap

import pytest

from uwkernel_python.apps import AppTable
from uwkernel_python.loader import NoAppError, load_apps, setup_sys_path


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package ``webpkg`` on sys.path with apps under several names."""
    pkg = tmp_path / "webpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "wsgi.py").write_text(textwrap.dedent('''
        def application(environ, start_response):
            return [b"application"]

        def other(environ, start_response):
            return [b"other"]

        def create_app():
            def made(environ, start_response):
                return [b"made"]
            return made

        not_callable = 42
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield pkg
    for name in [n for n in sys.modules if n.startswith("webpkg")]:
        del sys.modules[name]


def body_of(app) -> bytes:
    return b"".join(app.callable({}, lambda status, headers: None))


@pytest.mark.parametrize("spec, body", [
    ("webpkg.wsgi", b"application"),
    ("webpkg.wsgi:other", b"other"),
    ("webpkg.wsgi:create_app()", b"made"),
])
def test_module_specs(package, settings_from, spec, body):
    apps = load_apps(settings_from("--module", spec))
    assert len(apps) == 1 and apps.default.mountpoint == "" and body_of(apps.default) == body


def test_callable_option_and_its_factory_form(package, settings_from):
    assert body_of(load_apps(settings_from("--module", "webpkg.wsgi", "--callable", "other")).default) == b"other"
    assert body_of(load_apps(settings_from("-w", "webpkg.wsgi", "--callable", "create_app()")).default) == b"made"


def test_wsgi_file_with_a_callable_name(package, settings_from):
    apps = load_apps(settings_from("--wsgi-file", str(package / "wsgi.py"), "--callable", "other"))
    assert body_of(apps.default) == b"other"
    assert any(name.startswith("uwsgi_file_") for name in sys.modules)


@pytest.mark.parametrize("argv, expected", [
    (("--module", "webpkg.missing"), "No module named 'webpkg.missing'"),
    (("--module", "webpkg.wsgi:nothing"), 'unable to find "nothing" callable in module webpkg.wsgi'),
    (("--module", "webpkg.wsgi:not_callable"), "is not callable"),
    (("--wsgi-file", "/nonexistent/app.py"), "wsgi-file /nonexistent/app.py: no such file"),
])
def test_a_failing_app_is_logged_in_one_clear_line(package, settings_from, capfd, argv, expected):
    apps = load_apps(settings_from(*argv))
    err = capfd.readouterr().err
    assert len(apps) == 0
    assert expected in err
    assert "unable to load app 0 (mountpoint='') (callable not found or import error)" in err
    assert "*** no app loaded. going in full dynamic mode ***" in err


def test_import_error_inside_the_app_shows_its_traceback(tmp_path, settings_from, capfd):
    (tmp_path / "broken.py").write_text("import not_a_module_anywhere\n")
    load_apps(settings_from("--wsgi-file", str(tmp_path / "broken.py")))
    err = capfd.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert f"wsgi-file {tmp_path / 'broken.py'}: ModuleNotFoundError: No module named 'not_a_module_anywhere'" in err


def test_need_app_without_an_app(settings_from):
    with pytest.raises(NoAppError) as info:
        load_apps(settings_from("--need-app", "--module", "no.such.module"))
    assert info.value.exit_status == 22


def test_mounts_and_the_default_app(package, settings_from, capfd):
    apps = load_apps(settings_from("--module", "webpkg.wsgi", "--mount", "/other=webpkg.wsgi:other",
                                   "--mount", f"/file={package / 'wsgi.py'}", "--mount", "/other=webpkg.wsgi"))
    assert [app.mountpoint for app in apps.apps] == ["", "/other", "/file"]
    assert "mountpoint /other already configured. skip." in capfd.readouterr().err
    assert body_of(apps.select({"SCRIPT_NAME": "/other", "PATH_INFO": "/x"})) == b"other"
    assert apps.select({"SCRIPT_NAME": "/nowhere", "PATH_INFO": "/x"}) is apps.default


def test_mount_of_a_wsgi_file(tmp_path, settings_from):
    (tmp_path / "site.wsgi").write_text("def application(environ, start_response):\n    return [b'wsgi file']\n")
    apps = load_apps(settings_from("--mount", f"/w={tmp_path / 'site.wsgi'}"))
    assert body_of(apps.default) == b"wsgi file"


def test_first_mount_is_the_default_app_when_there_is_no_root_app(package, settings_from):
    apps = load_apps(settings_from("--mount", "/a=webpkg.wsgi:other"))
    assert apps.select({"PATH_INFO": "/"}).mountpoint == "/a"


def test_import_option_runs_before_the_apps(tmp_path, settings_from, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "first.py").write_text("import builtins\nbuiltins.UWKERNEL_TEST_ORDER = ['first']\n")
    (tmp_path / "second.py").write_text(textwrap.dedent('''
        import builtins
        builtins.UWKERNEL_TEST_ORDER.append("app")
        def application(environ, start_response):
            return []
    '''))
    try:
        load_apps(settings_from("--import", "first", "--wsgi-file", str(tmp_path / "second.py")))
        import builtins
        assert builtins.UWKERNEL_TEST_ORDER == ["first", "app"]
    finally:
        import builtins
        vars(builtins).pop("UWKERNEL_TEST_ORDER", None)
        sys.modules.pop("first", None)


class TestManageScriptName:
    def table(self) -> AppTable:
        table = AppTable(manage_script_name=True)
        for mountpoint in ("", "/app", "/app/admin", "/api/"):
            table.add(mountpoint, mountpoint)
        return table

    @pytest.mark.parametrize("path, app, script_name, path_info", [
        ("/app/admin/users", "/app/admin", "/app/admin", "/users"),
        ("/app/x", "/app", "/app", "/x"),
        ("/app", "/app", "/app", ""),
        ("/application", "", "", "/application"),  # a prefix only at a path-segment boundary
        ("/api/v1", "/api/", "/api", "/v1"),
        ("/", "", "", "/"),
    ])
    def test_longest_prefix(self, path, app, script_name, path_info):
        environ = {"PATH_INFO": path, "SCRIPT_NAME": ""}
        assert self.table().select(environ).callable == app
        assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == (script_name, path_info)


def test_pythonpath_entries_and_globs_go_first(tmp_path, settings_from, monkeypatch):
    for name in ("lib1", "lib2"):
        (tmp_path / name).mkdir()
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry])
    before = sys.path[0]
    setup_sys_path(settings_from("--pythonpath", str(tmp_path / "lib*"), "--pp", "/srv/extra"))
    assert sys.path[:5] == ["", "/srv/extra", str(tmp_path / "lib2"), str(tmp_path / "lib1"), before]


def test_home_adds_the_virtualenv_site_packages(tmp_path, settings_from, monkeypatch):
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = tmp_path / "venv" / "lib" / version / "site-packages"
    (site_packages / "extra").mkdir(parents=True)
    (site_packages / "paths.pth").write_text(str(site_packages / "extra") + "\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    setup_sys_path(settings_from("--virtualenv", str(tmp_path / "venv")))
    assert sys.path.index(str(site_packages)) < sys.path.index(os.path.dirname(os.__file__))
    assert str(site_packages / "extra") in sys.path
