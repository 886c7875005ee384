"""Reading sources: magic variables, include/inherit, set, set-placeholder, declare-option."""
from __future__ import annotations

import grp
import os
import pwd
import socket

import pytest

from uwkernel import UWSGI_COMPAT_VERSION
from uwkernel.config.magic import substitute
from uwkernel.errors import ConfigError, Origin


def test_substitute_rules():
    table = {"a": "A", "%": "%"}
    assert substitute("%a%%a%(x)%z|%", table) == "A%a%(x)|%"


def test_per_file_magic_variables(write, load, tmp_path):
    path = write("etc/uwsgi/vassals/my.app.ini", """
        [prod]
        env = p=%p
        env = s=%s
        env = d=%d
        env = e=%e
        env = n=%n
        env = c=%c
        env = x=%x
        env = o=%o
        env = 0=%0
        env = i=%i
    """)
    config = load(f"{path}:prod")
    absolute = str(tmp_path / path)
    directory = os.path.dirname(absolute)
    values = dict(item.split("=", 1) for item in config["env"])
    assert values == {
        "p": absolute, "s": "my.app.ini", "d": directory + "/", "e": "ini", "n": "my.app", "c": "vassals",
        "x": f"{path}:prod", "o": path, "0": directory.split("/")[1], "i": str(os.stat(absolute).st_ino),
    }


def test_path_components(write, load, tmp_path):
    path = write("a/b/app.ini", "[uwsgi]\nchdir = %9|%8\n")
    parts = [part for part in str(tmp_path / "a" / "b").split("/") if part]
    expected = "|".join(parts[index] if index < len(parts) else "" for index in (9, 8))
    assert load(path)["chdir"] == expected


def test_global_magic_variables(write, load, tmp_path):
    write("app.ini", "[uwsgi]\nenv = %v|%h|%k|%u|%U|%g|%G|%V|%[|100%%|%Y|%t\n")
    values = load("app.ini")["env"][0].split("|")
    assert values[:-1] == [
        str(tmp_path), socket.gethostname(), str(os.cpu_count()), str(os.getuid()),
        pwd.getpwuid(os.getuid()).pw_name, str(os.getgid()), grp.getgrgid(os.getgid()).gr_name,
        UWSGI_COMPAT_VERSION, "\x1b", "100%", "",
    ]
    assert values[-1].isdigit()


def test_capital_magic_variables_are_the_first_file(write, load):
    write("first.ini", "[uwsgi]\ninclude = sub/second.ini\n")
    write("sub/second.ini", "[uwsgi]\nenv = %s %S %c\n")
    assert load("first.ini")["env"] == ["second.ini first.ini sub"]


def test_magic_in_structured_files(write, load):
    write("app.json", '{"uwsgi": {"chdir": "%n-%e"}}')
    assert load("app.json")["chdir"] == "app-json"


def test_include_where_it_appears_relative_to_the_working_directory(write, load):
    write("conf/base.ini", "[uwsgi]\nprocesses = 2\nsocket = :base\n")
    write("conf/app.ini", "[uwsgi]\nsocket = :first\ninclude = conf/base.ini\nprocesses = 3\n")
    config = load("conf/app.ini")
    assert config["socket"] == [":first", ":base"]
    assert config["processes"] == 3
    assert config.values("processes")[0][1] == Origin("conf/base.ini", 2)


def test_include_relative_to_the_file_with_magic(write, load, tmp_path):
    write("conf/base.ini", "[uwsgi]\nprocesses = 2\n")
    write("conf/app.ini", "[uwsgi]\ninclude = %dbase.ini\n")
    assert load("conf/app.ini").origin("processes") == Origin(f"{tmp_path}/conf/base.ini", 2)


def test_include_with_placeholder_path(write, load):
    write("base.ini", "[uwsgi]\nprocesses = 2\n")
    write("app.ini", "[uwsgi]\nname = base\nini = %(name).ini\n")
    config = load("app.ini")
    assert config["processes"] == 2
    assert config["ini"] == ["base.ini"]


def test_include_cycle(write, load):
    write("a.ini", "[uwsgi]\ninclude = b.ini\n")
    write("b.ini", "[uwsgi]\nmaster = true\nini = a.ini\n")
    with pytest.raises(ConfigError, match=r"^config error: b.ini:3: option 'ini': 'a.ini' includes itself$"):
        load("a.ini")


def test_same_file_other_section_is_not_a_cycle(write, load):
    write("a.ini", "[uwsgi]\nini = :extra\nprocesses = 2\n[extra]\nsocket = :1\n")
    config = load("a.ini")
    assert (config["socket"], config["processes"]) == ([":1"], 2)


def test_inherit_loads_last_without_placeholder_expansion(write, load):
    write("template.ini", "[uwsgi]\nprocesses = 8\nsocket = %(base)/t.sock\nchdir = %n\n")
    write("app.ini", "[uwsgi]\nbase = /run\ninherit = template.ini\nprocesses = 2\nsocket = %(base)/a.sock\n")
    config = load("app.ini")
    # uWSGI applies inherited options after everything else, so they come last
    assert config["socket"] == ["/run/a.sock", "%(base)/t.sock"]
    assert config["processes"] == 8
    assert config["chdir"] == "template"
    assert config.origin("processes") == Origin("template.ini", 2)


def test_set(write, load):
    write("app.ini", "[uwsgi]\nset = processes=6\nset = name=web\nchdir = /srv/%(name)\n")
    config = load("app.ini")
    assert config["processes"] == 6 and config["chdir"] == "/srv/web"
    assert config["set"] == ["processes=6", "name=web"]
    assert config.origin("processes") == Origin("app.ini", 2)


def test_set_can_load_a_file(write, load):
    write("other.ini", "[uwsgi]\nprocesses = 4\n")
    assert load("--set", "ini=other.ini")["processes"] == 4


def test_set_placeholder(write, load):
    write("app.ini", "[uwsgi]\nset-placeholder = name=web\nset-ph = unused=1\nchdir = /srv/%(name)\n")
    config = load("app.ini")
    assert config["chdir"] == "/srv/web"
    assert config.placeholders == {"name": "web", "unused": "1"}
    assert "name" not in config.registry.get("chdir").names


@pytest.mark.parametrize("line, message", [
    ("set = novalue", r"app.ini:2: option 'set': 'novalue' is not NAME=VALUE"),
    ("set-placeholder = processes=3", r"app.ini:2: option 'set-placeholder': 'processes' is an option"),
    ("set-placeholder = vacuum=3", r"'vacuum' is an option"),
    ("declare-option = broken", r"app.ini:2: option 'declare-option': 'broken' is not NAME=OPTION=VALUE"),
    ("declare-option = name=socket", r"'socket' in the declaration of 'name' is not OPTION=VALUE"),
])
def test_directive_syntax_errors(write, load, line, message):
    write("app.ini", f"[uwsgi]\n{line}\n")
    with pytest.raises(ConfigError, match=message):
        load("app.ini")


def test_declare_option(write, load):
    write("app.ini", """
        [uwsgi]
        declare-option = bind=socket=$1;socket=$2;env=BOUND=$1,$2,$3
        declare-option = two=bind=$1 :2
        port = 9
        bind = :1 :%(port)
        two = :7
    """)
    config = load("app.ini")
    assert config["socket"] == [":1", ":9", ":7", ":2"]
    assert config["env"] == ["BOUND=:1,:9,$3", "BOUND=:7,:2,$3"]
    assert config.origin("socket") == Origin("app.ini", 6)
    assert config.as_uwsgi_opt()["bind"] == b":1 :9"
    assert "bind" not in config.placeholders


def test_declared_option_on_the_command_line(load):
    config = load("--declare-option", "bind=socket=$1", "--bind", ":5")
    assert config["socket"] == [":5"]


def test_custom_option_recursion_is_bounded(write, load):
    write("app.ini", "[uwsgi]\ndeclare-option = a=b=$1\ndeclare-option = b=a=$1\na = x\n")
    with pytest.raises(ConfigError, match=r"app.ini:4: option 'a': custom options stand for one another"):
        load("app.ini")


def test_inherit_inside_an_inherited_file(write, load):
    write("base.ini", "[uwsgi]\nprocesses = 9\n")
    write("middle.ini", "[uwsgi]\ninherit = base.ini\nprocesses = 5\n")
    write("app.ini", "[uwsgi]\ninherit = middle.ini\nprocesses = 2\n")
    config = load("app.ini")
    assert [value for value, _ in config.values("processes")] == [2, 5, 9]
