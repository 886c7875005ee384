"""JSON, YAML and TOML config files, and config files chosen by extension."""
from __future__ import annotations

import pytest

from uwkernel.errors import ConfigError, Origin


def test_json(write, load):
    write("app.json", """
        {"uwsgi": {"socket": [":1", ":2"], "processes": 3, "master": true, "enable-threads": false,
                   "chdir": null},
         "other": {"processes": 9}}
    """)
    config = load("--json", "app.json")
    assert config["socket"] == [":1", ":2"]
    assert config["processes"] == 3
    assert config["master"] is True and config["enable-threads"] is False
    assert config.as_uwsgi_opt()["chdir"] is True
    assert config.origin("processes") == Origin("app.json")
    assert load("--json", "app.json:other")["processes"] == 9


def test_yaml_scalars_as_written_with_lines(write, load):
    write("app.yaml", """
        uwsgi:
          socket:
            - :1
            - :2
          chmod-socket: 0660
          master: yes
          processes: 2
    """)
    config = load("--yaml", "app.yaml")
    assert config["socket"] == [":1", ":2"]
    assert config["chmod-socket"] == "0660"
    assert config["master"] is True
    assert config.origin("processes") == Origin("app.yaml", 7)
    assert config.values("socket")[1][1] == Origin("app.yaml", 4)


def test_toml(write, load):
    write("app.toml", """
        [uwsgi]
        socket = [":1"]
        processes = 5
        master = false
        [prod]
        processes = 6
    """)
    config = load("--toml", "app.toml")
    assert (config["socket"], config["processes"], config["master"]) == ([":1"], 5, False)
    assert load("--toml", "app.toml:prod")["processes"] == 6


@pytest.mark.parametrize("name, text, message", [
    ("bad.json", '{"uwsgi": {"socket": }}', r"^config error: bad.json:1: option 'json': 'bad.json': invalid JSON"),
    ("bad.yaml", "uwsgi:\n  socket: [\n", r"^config error: bad.yaml:3: option 'yaml': 'bad.yaml': invalid YAML"),
    ("bad.toml", "[uwsgi\n", r"^config error: bad.toml: option 'toml': 'bad.toml': invalid TOML: .*line 1"),
    ("nosection.json", '{"other": {}}', r"'nosection.json': no 'uwsgi' section"),
    ("nested.json", '{"uwsgi": {"socket": {"a": 1}}}', r"option 'socket': only text"),
    ("listlist.toml", "[uwsgi]\nsocket = [[1]]\n", r"option 'socket': only text"),
    ("notmap.yaml", "uwsgi: 3\n", r"section 'uwsgi' is not a mapping"),
])
def test_bad_structured_files_name_the_file(write, load, name, text, message):
    write(name, text)
    with pytest.raises(ConfigError, match=message):
        load(f"--{name.rsplit('.', 1)[1]}", name)


@pytest.mark.parametrize("name, text", [
    ("app.ini", "[uwsgi]\nprocesses = 7\n"),
    ("app.json", '{"uwsgi": {"processes": 7}}'),
    ("app.js", '{"uwsgi": {"processes": 7}}'),
    ("app.yaml", "uwsgi:\n  processes: 7\n"),
    ("app.yml", "uwsgi:\n  processes: 7\n"),
    ("app.toml", "[uwsgi]\nprocesses = 7\n"),
])
def test_by_extension(write, load, name, text):
    write(name, text)
    assert load(name)["processes"] == 7
    assert load("--config", name)["processes"] == 7
    assert load("--include", name)["processes"] == 7


def test_unknown_extension_is_an_error(write, load):
    write("app.conf", "[uwsgi]\n")
    with pytest.raises(ConfigError, match=r"cannot tell the format of 'app.conf'"):
        load("app.conf")


@pytest.mark.parametrize("option", ["xml", "sqlite3", "if-plugin"])
def test_unsupported_uwsgi_sources_are_errors_not_ignored(write, load, option):
    write("app.ini", f"[uwsgi]\n{option} = something\n")
    with pytest.raises(ConfigError) as err:
        load("app.ini")
    assert err.value.origin == Origin("app.ini", 2) and err.value.option == option
    assert "not supported" in err.value.message
