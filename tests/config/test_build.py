"""The resolved Config: typed values, unknown keys, strict mode, uwsgi.opt and --show-config."""
from __future__ import annotations

import pytest

from uwkernel.config import build_config, read_sources, uwsgi_option
from uwkernel.config.values import parse_bool
from uwkernel.config.uwsgi_table import UwsgiOptionInfo, UwsgiOptionTable
from uwkernel.errors import ConfigError, Origin


@pytest.mark.parametrize("value, expected", [
    (None, True), ("", True), ("true", True), ("1", True), ("yes", True), ("anything", True),
    ("false", False), ("FALSE", False), ("off", False), ("No", False), ("0", False), (" off ", False),
])
def test_parse_bool(value, expected):
    assert parse_bool(value) is expected


def test_typed_values_and_defaults(load):
    config = load("--processes", "+3", "--master=off")
    assert config["processes"] == 3 and config["workers"] == 3
    assert config["master"] is False
    assert config["socket"] == [] and config["harakiri"] is None and config["enable-threads"] is False
    assert config.is_set("processes") and "workers" in config and not config.is_set("socket")
    assert config.get("harakiri", 60) == 60 and config.get("processes", 9) == 3
    assert config.get("socket") == [] and config.get("nothing-at-all") is None
    with pytest.raises(KeyError):
        config["nothing-at-all"]


def test_single_value_last_wins_values_keeps_all(load):
    config = load("--processes", "2", "-p", "5")
    assert config["processes"] == 5
    assert config.values("processes") == [(2, Origin("command line")), (5, Origin("command line"))]
    assert config.origin("processes") == Origin("command line") and config.origin("chdir") is None


def test_int_option_with_a_word(write, load):
    write("app.ini", "[uwsgi]\nmaster = true\nprocesses = four\n")
    with pytest.raises(ConfigError) as err:
        load("app.ini")
    assert str(err.value) == "config error: app.ini:3: option 'processes': 'four' is not an integer"


def test_unknown_key_names_file_line_and_closest(write, load):
    write("app.ini", "[uwsgi]\nmaster = true\nprocesess = 4\n")
    with pytest.raises(ConfigError) as err:
        load("app.ini")
    assert str(err.value) == (
        "config error: app.ini:3: option 'procesess': unknown option 'procesess' (did you mean 'processes'?)"
    )


def test_unknown_key_suggests_a_uwsgi_option_too(write, load):
    write("app.ini", "[uwsgi]\nthunder-lokc = true\n")
    with pytest.raises(ConfigError, match=r"did you mean 'thunder-lock'\?"):
        load("app.ini")


def test_unknown_key_used_as_placeholder_is_accepted(write, load):
    write("app.ini", "[uwsgi]\nproject = shop\nchdir = /srv/%(project)\n")
    config = load("app.ini")
    assert config["project"] == "shop" and config.placeholders == {"project": "shop"}
    assert config.values("project") == [("shop", Origin("app.ini", 2))]


def test_strict_rejects_placeholder_keys_but_not_set_placeholder(write, load):
    write("app.ini", "[uwsgi]\nstrict = true\nproject = shop\nchdir = /srv/%(project)\n")
    with pytest.raises(ConfigError, match=r"app.ini:3: option 'project': unknown option 'project'.*strict"):
        load("app.ini")
    write("ok.ini", "[uwsgi]\nstrict = true\nset-placeholder = project=shop\nchdir = /srv/%(project)\n")
    assert load("ok.ini")["chdir"] == "/srv/shop"


def test_check_unknown_false_reports_nothing(write, load):
    write("app.ini", "[uwsgi]\nnot-yet-loaded-plugin-option = 1\n")
    config = load("app.ini", check_unknown=False)
    assert config.placeholders == {"not-yet-loaded-plugin-option": "1"}


def test_unimplemented_uwsgi_options_are_accepted(write, load):
    write("app.ini", "[uwsgi]\nvacuum = true\nthunder-lock\ncheaper = 2\ncheaper = 3\n")
    config = load("app.ini")
    assert config.unimplemented == [("vacuum", Origin("app.ini", 2)), ("thunder-lock", Origin("app.ini", 3)),
                                    ("cheaper", Origin("app.ini", 4)), ("cheaper", Origin("app.ini", 5))]
    assert config["cheaper"] == "3" and config.is_set("vacuum")
    assert config.as_uwsgi_opt()["cheaper"] == [b"2", b"3"]


def test_as_uwsgi_opt(write, load):
    write("app.ini", "[uwsgi]\nsocket = :1\nsocket = :%(port)\nport = 2\nset-placeholder = x=y\nmaster = true\n")
    opt = load("--ini", "app.ini", "--enable-threads", "--processes", "3").as_uwsgi_opt()
    assert opt == {
        "ini": b"app.ini", "socket": [b":1", b":2"], "port": b"2", "set-placeholder": b"x=y", "x": b"y",
        "master": b"true", "enable-threads": True, "processes": b"3",
    }


def test_to_ini_round_trip(write, load, registry, tmp_path):
    write("app.ini", """
        [uwsgi]
        declare-option = bind=socket=$1
        base = /srv
        for = 1 2
        bind = :%(_)
        endfor
        chdir = %(base)/app
        set-placeholder = unused=1
        thunder-lock = true
        master = true
        chmod-socket
    """)
    config = load("--enable-threads", "app.ini")
    text = config.to_ini()
    assert text == (
        "\n;uWSGI instance configuration\n[uwsgi]\n"
        "enable-threads = true\n"
        "set-placeholder = base=/srv\n"
        "socket = :1\n"
        "socket = :2\n"
        "chdir = /srv/app\n"
        "set-placeholder = unused=1\n"
        "thunder-lock = true\n"
        "master = true\n"
        "chmod-socket = \n"
        ";end of configuration\n"
    )
    (tmp_path / "shown.ini").write_text(text)
    again = load("shown.ini")
    for name in ("enable-threads", "socket", "chdir", "master", "chmod-socket", "thunder-lock"):
        assert again[name] == config[name], name


def test_entries_keep_file_and_section(write, entries):
    write("app.ini", "[web]\nmaster = true\n")
    (entry,) = [e for e in entries("app.ini:web") if e.key == "master"]
    assert (entry.file, entry.section, entry.value, entry.origin) == ("app.ini", "web", "true", Origin("app.ini", 2))


def test_build_config_is_repeatable_on_the_same_entries(write, registry):
    write("app.ini", "[uwsgi]\nprocesses = %(n)\nn = 4\n")
    found = read_sources(["app.ini"], {}, registry)
    assert build_config(found, registry, check_unknown=False)["processes"] == 4
    assert build_config(found, registry)["processes"] == 4


def test_uwsgi_option_table():
    assert uwsgi_option("socket") == UwsgiOptionInfo("socket", "required", "s")
    assert uwsgi_option("master") == UwsgiOptionInfo("master", "none", "M")
    assert uwsgi_option("chmod-socket").argument == "optional"
    assert uwsgi_option("no-such-option") is None


def test_uwsgi_option_table_parse():
    table = UwsgiOptionTable.parse("# name\targument\tshort\n"
                                   "b-opt\tnone\tx\tcore/uwsgi.c\n"
                                   "a-opt\trequired\tx\n"
                                   "c-opt\toptional\t\n")
    assert table.by_name["c-opt"] == UwsgiOptionInfo("c-opt", "optional", None)
    assert table.by_short["x"].name == "b-opt"
    assert table.closest("a-op") == "a-opt"
    with pytest.raises(ValueError, match="argument kind 'maybe'"):
        UwsgiOptionTable.parse("d-opt\tmaybe\t\n")
