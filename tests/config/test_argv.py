"""The command line and the environment as configuration sources, and their order."""
from __future__ import annotations

import pytest

from uwkernel.errors import ConfigError, Origin

COMMAND_LINE = Origin("command line")


def test_long_options(load):
    config = load("--socket", ":1", "--socket=:2", "--processes=3", "--master", "--chdir", "/srv")
    assert config["socket"] == [":1", ":2"]
    assert config["processes"] == 3 and config["master"] is True and config["chdir"] == "/srv"
    assert config.origin("processes") == COMMAND_LINE


def test_flag_with_explicit_value(load):
    assert load("--master=false")["master"] is False
    assert load("--master=yes")["master"] is True


def test_short_options(load):
    config = load("-s", ":1", "-s:2", "-p4", "-MT", "-t", "30")
    assert config["socket"] == [":1", ":2"]
    assert (config["processes"], config["master"], config["enable-threads"], config["harakiri"]) == (4, True, True, 30)


def test_bundled_flags_then_value(load):
    config = load("-Mp", "5")
    assert (config["master"], config["processes"]) == (True, 5)


def test_short_form_of_a_config_directive(load):
    assert load("-S", "processes=6")["processes"] == 6


def test_optional_value_only_with_equals(load):
    # chmod-socket's value is optional in uWSGI: the next argument is not its value
    config = load("--chmod-socket", "--socket", ":1")
    assert config["chmod-socket"] == "" and config.as_uwsgi_opt()["chmod-socket"] is True
    assert config["socket"] == [":1"]
    assert load("--chmod-socket=660")["chmod-socket"] == "660"
    assert load("-C660")["chmod-socket"] == "660"


def test_uwsgi_option_not_implemented_uses_uwsgi_table(load):
    config = load("--thunder-lock", "--cheaper", "2", "--processes", "4")
    assert config["processes"] == 4
    assert config.unimplemented == [("thunder-lock", COMMAND_LINE), ("cheaper", COMMAND_LINE)]
    assert config.as_uwsgi_opt()["cheaper"] == b"2"


def test_unknown_long_option_names_it_and_suggests(load):
    with pytest.raises(ConfigError) as err:
        load("--procesess", "4")
    assert str(err.value) == (
        "config error: command line: option 'procesess': unknown option '--procesess' (did you mean '--processes'?)"
    )


def test_unknown_short_option(load):
    with pytest.raises(ConfigError, match=r"command line: option '-\?': unknown option '-\?'"):
        load("-?")


@pytest.mark.parametrize("argv", [("--socket",), ("-s",), ("-Mp",)])
def test_missing_value(load, argv):
    with pytest.raises(ConfigError, match="needs a value"):
        load(*argv)


def test_double_dash_ends_options(write, load):
    write("--odd.ini", "[uwsgi]\nprocesses = 3\n")
    assert load("--master", "--", "--odd.ini")["processes"] == 3


def test_ini_loads_where_it_appears(write, load):
    write("app.ini", "[uwsgi]\nprocesses = 2\nsocket = :file\n")
    config = load("--ini", "app.ini", "--processes", "3")
    assert config["processes"] == 3
    assert load("--processes", "3", "--ini", "app.ini")["processes"] == 2
    assert load("--socket", ":a", "--ini", "app.ini", "--socket", ":b")["socket"] == [":a", ":file", ":b"]


def test_positional_files_load_after_the_options_as_in_uwsgi(write, load):
    write("app.ini", "[uwsgi]\nprocesses = 2\n")
    write("prod.ini", "[prod]\nprocesses = 5\n")
    assert load("app.ini", "--processes", "3")["processes"] == 2
    assert load("prod.ini:prod")["processes"] == 5


def test_environment(load):
    config = load(environ={"UWSGI_PROCESSES": "3", "UWSGI_MASTER": "", "UWSGI_CHMOD_SOCKET": "660", "PATH": "/bin"})
    assert (config["processes"], config["master"], config["chmod-socket"]) == (3, True, "660")
    assert config.origin("processes") == Origin("environment")


def test_environment_then_command_line(load):
    assert load("--processes", "4", environ={"UWSGI_PROCESSES": "3"})["processes"] == 4
    assert load(environ={"UWSGI_PROCESSES": "3", "UWKERNEL_PROCESSES": "5"})["processes"] == 5


def test_environment_ini_is_loaded(write, load):
    write("app.ini", "[uwsgi]\nprocesses = 2\n")
    assert load(environ={"UWSGI_INI": "app.ini"})["processes"] == 2


def test_environment_internal_and_unknown_variables(entries, load):
    environ = {
        "UWSGI_RELOADS": "2", "UWSGI_VASSAL_CONFIG": "x", "UWSGI_ORIGINAL_PROC_NAME": "x", "UWSGI_FD_3": "x",
        "UWSGI_EMPEROR_FD": "4", "UWKERNEL_DISABLE_PLUGINS": "a", "UWKERNEL_SOCKETS": "x", "UWSGI_NOT_AN_OPTION": "1",
    }
    assert [entry.key for entry in entries(environ=environ)] == ["not-an-option"]
    config = load(environ=environ)  # an unknown variable is not an error
    assert config.placeholders == {"not-an-option": "1"}
    assert config.unimplemented == []
