"""for / if blocks: items, conditions, %(_), nesting, and unbalanced blocks."""
from __future__ import annotations

import socket

import pytest

from uwkernel.errors import ConfigError, Origin


def test_for(write, load):
    write("app.ini", "[uwsgi]\nfor = a  b c\nsocket = /run/%(_).sock\nendfor =\nprocesses = 2\n")
    config = load("app.ini")
    assert config["socket"] == ["/run/a.sock", "/run/b.sock", "/run/c.sock"]
    assert [origin.line for _, origin in config.values("socket")] == [3, 3, 3]
    assert config["processes"] == 2


def test_for_exports_opener_and_end_like_uwsgi(write, load):
    write("app.ini", "[uwsgi]\nfor = a\nsocket = %(_)\nendfor\n")
    assert load("--ini", "app.ini").as_uwsgi_opt() == {"ini": b"app.ini", "for": b"a", "socket": b"a", "endfor": b""}


def test_for_glob_times_readline(write, load, tmp_path):
    (tmp_path / "vassals").mkdir()
    (tmp_path / "vassals" / "sub").mkdir()
    write("vassals/b.ini", "")
    write("vassals/a.ini", "")
    write("hosts.txt", "one\r\ntwo\n\nthree")
    write("app.ini", """
        [uwsgi]
        for-glob = vassals/*
        env = G=%(_)
        end-for
        for-glob = nothing-*.ini
        env = N=%(_)
        end
        for-times = 3
        socket = :%(_)
        endfor
        for-readline = hosts.txt
        env = L=%(_)
        endfor
    """)
    config = load("app.ini")
    assert config["env"] == ["G=vassals/a.ini", "G=vassals/b.ini", "G=vassals/sub/", "N=nothing-*.ini",
                             "L=one", "L=two", "L=", "L=three"]
    assert config["socket"] == [":1", ":2", ":3"]


def test_for_times_needs_a_number(write, load):
    write("app.ini", "[uwsgi]\nfor-times = many\nsocket = x\nendfor\n")
    with pytest.raises(ConfigError, match=r"app.ini:2: option 'for-times': 'many' is not a number of times"):
        load("app.ini")


def test_for_readline_missing_file(write, load):
    write("app.ini", "[uwsgi]\nfor-readline = nope.txt\nsocket = x\nendfor\n")
    with pytest.raises(ConfigError, match=r"app.ini:2: option 'for-readline': cannot read 'nope.txt'"):
        load("app.ini")


def test_for_argument_uses_placeholders_known_so_far(write, load):
    write("app.ini", "[uwsgi]\nports = 1 2\nfor = %(ports)\nsocket = :%(_)\nendfor\n")
    assert load("app.ini")["socket"] == [":1", ":2"]


def test_nested_blocks(write, load):
    write("app.ini", """
        [uwsgi]
        for = a b
        for = 1 2
        socket = %(_)
        endfor
        env = OUTER=%(_)
        if-env = FLAG
        env = FLAG=%(_)
        endif
        endfor
    """)
    config = load("app.ini", environ={"FLAG": "on"})
    assert config["socket"] == ["1", "2", "1", "2"]
    assert config["env"] == ["OUTER=a", "FLAG=on", "OUTER=b", "FLAG=on"]


def test_inner_block_argument_uses_outer_item(write, load):
    write("app.ini", "[uwsgi]\nfor = x y\nfor = %(_)1 %(_)2\nsocket = %(_)\nend\nend\n")
    assert load("app.ini")["socket"] == ["x1", "x2", "y1", "y2"]


@pytest.mark.parametrize("condition, environ, expected", [
    ("if-env = FLAG", {"FLAG": "v"}, ["v"]),
    ("if-env = FLAG", {}, []),
    ("ifenv = FLAG=v", {"FLAG": "v"}, ["v"]),
    ("if-env = FLAG=v", {"FLAG": "w"}, []),
    ("if-not-env = FLAG", {}, [""]),
    ("if-not-env = FLAG", {"FLAG": "v"}, []),
    ("if-not-env = FLAG=v", {"FLAG": "w"}, ["w"]),
    ("if-opt = processes", {}, ["4"]),
    ("if-opt = workers=4", {}, ["4"]),
    ("if-opt = processes=5", {}, []),
    ("if-opt = chdir", {}, []),
    ("if-not-opt = chdir", {}, [""]),
    ("if-not-opt = processes", {}, []),
    ("if-not-opt = processes=5", {}, ["4"]),
])
def test_if_env_and_opt(write, load, condition, environ, expected):
    write("app.ini", f"[uwsgi]\nprocesses = 4\n{condition}\nsocket = %(_)\nendif\n")
    assert load("app.ini", environ=environ)["socket"] == expected


def test_if_paths(write, load, tmp_path):
    write("here.txt", "")
    (tmp_path / "adir").mkdir()
    write("app.ini", """
        [uwsgi]
        if-exists = here.txt
        socket = exists:%(_)
        endif
        if-not-exists = missing.txt
        socket = not-exists:%(_)
        endif
        if-file = adir
        socket = wrong
        endif
        if-not-file = adir
        socket = not-file:%(_)
        endif
        if-dir = adir
        socket = dir:%(_)
        endif
        if-not-dir = here.txt
        socket = not-dir:%(_)
        endif
        ifexists = missing.txt
        socket = wrong
        endif
    """)
    assert load("app.ini")["socket"] == [
        "exists:here.txt", "not-exists:missing.txt", "not-file:adir", "dir:adir", "not-dir:here.txt",
    ]


def test_if_reload(write, load):
    write("app.ini", "[uwsgi]\nif-reload\nsocket = reload\nendif\nif-not-reload =\nsocket = first\nendif\n")
    assert load("app.ini", is_reload=True)["socket"] == ["reload"]
    assert load("app.ini")["socket"] == ["first"]


def test_if_hostname(write, load):
    host = socket.gethostname()
    write("app.ini", f"""
        [uwsgi]
        if-hostname = {host}
        socket = same:%(_)
        endif
        if-not-hostname = {host}
        socket = wrong
        endif
        if-not-hostname = not-{host}
        socket = other
        endif
        if-hostname-match = ^{host[:1]}
        socket = match
        endif
    """)
    assert load("app.ini")["socket"] == [f"same:{host}", "other", "match"]


def test_if_reads_the_if_block_from_the_command_line(load):
    assert load("--if-env", "FLAG", "--socket", ":%(_)", "--endif", environ={"FLAG": "9"})["socket"] == [":9"]


def test_unclosed_block_names_its_opening_line(write, load):
    write("app.ini", "[uwsgi]\nmaster = true\nfor = a b\nsocket = %(_)\n")
    with pytest.raises(ConfigError) as err:
        load("app.ini")
    assert str(err.value) == "config error: app.ini:3: option 'for': the 'for' block is never closed (end it with 'endfor')"


def test_stray_end(write, load):
    write("app.ini", "[uwsgi]\nmaster = true\nendif\n")
    with pytest.raises(ConfigError) as err:
        load("app.ini")
    assert (err.value.origin, err.value.option, err.value.message) == (Origin("app.ini", 3), "endif", "'endif' ends no block")


def test_wrong_end(write, load):
    write("app.ini", "[uwsgi]\nfor = a\nsocket = x\nendif\n")
    with pytest.raises(ConfigError, match=r"app.ini:4: option 'endif': 'endif' cannot end the 'for' block opened at app.ini:2"):
        load("app.ini")


def test_block_does_not_cross_files(write, load):
    write("part.ini", "[uwsgi]\nfor = a\n")
    write("app.ini", "[uwsgi]\ninclude = part.ini\nsocket = x\nendfor\n")
    with pytest.raises(ConfigError, match=r"part.ini:2: option 'for': the 'for' block is never closed"):
        load("app.ini")


def test_bad_regular_expression(write, load):
    write("app.ini", "[uwsgi]\nif-hostname-match = (\nsocket = x\nendif\n")
    with pytest.raises(ConfigError, match=r"app.ini:2: option 'if-hostname-match': '\(' is not a regular expression"):
        load("app.ini")


def test_if_opt_sees_a_flag_from_the_command_line(write, load):
    write("app.ini", "[uwsgi]\nif-opt = master\nsocket = %(_)\nendif\n")
    assert load("--master", "app.ini")["socket"] == ["true"]
