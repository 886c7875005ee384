"""uWSGI's ini dialect, and how ini files are found and read."""
from __future__ import annotations

import pytest

from uwkernel.config.ini import parse_ini
from uwkernel.errors import ConfigError, Origin


def test_parse_ini_syntax():
    text = (
        "  key1 =  spaced value \r\n"
        "[uwsgi]\n"
        "; a comment\n"
        "# another = comment\n"
        "\t socket = :3031 ; not a comment\n"
        "env = A=B=C\n"
        "bare-key\n"
        "\n"
        "empty =\n"
        "[other]\n"
        "socket = :9999\n"
        "[uwsgi]\n"
        "master = true\n"
    )
    items, found = parse_ini(text, "uwsgi")
    assert found
    assert items == [
        (5, "socket", ":3031 ; not a comment"),
        (6, "env", "A=B=C"),
        (7, "bare-key", ""),
        (9, "empty", ""),
        (13, "master", "true"),
    ]


def test_parse_ini_other_section_and_missing_section():
    text = "[uwsgi]\nsocket = :1\n[prod]\nsocket = :2\n"
    assert parse_ini(text, "prod") == ([(4, "socket", ":2")], True)
    assert parse_ini(text, "nope") == ([], False)


def test_ini_file_values_and_line_numbers(write, load):
    write("app.ini", """
        [uwsgi]
        socket = :3031
        # comment
        processes = 4
        socket = :3032
    """)
    config = load("--ini", "app.ini")
    assert config["socket"] == [":3031", ":3032"]
    assert config["processes"] == 4
    assert config.origin("processes") == Origin("app.ini", 4)
    assert [origin for _, origin in config.values("socket")] == [Origin("app.ini", 2), Origin("app.ini", 5)]


def test_ini_section_suffix(write, load):
    write("app.ini", """
        [uwsgi]
        processes = 1
        [prod]
        processes = 8
    """)
    assert load("--ini", "app.ini:prod")["processes"] == 8
    assert load("--ini", "app.ini:")["processes"] == 1


def test_colon_section_alone_reuses_the_last_ini_file(write, load):
    write("app.ini", """
        [uwsgi]
        socket = :1
        [extra]
        socket = :2
    """)
    assert load("--ini", "app.ini", "--ini", ":extra")["socket"] == [":1", ":2"]


def test_missing_section_is_an_error_naming_file_and_section(write, load):
    write("app.ini", "[other]\nsocket = :1\n")
    with pytest.raises(ConfigError) as err:
        load("--ini", "app.ini")
    assert "'app.ini' has no [uwsgi] section" in str(err.value)
    assert err.value.origin == Origin("command line") and err.value.option == "ini"


def test_missing_file_is_an_error_naming_where_it_was_asked(write, load):
    write("main.ini", "[uwsgi]\nmaster = true\nini = nope.ini\n")
    with pytest.raises(ConfigError) as err:
        load("--ini", "main.ini")
    assert str(err.value) == "config error: main.ini:3: option 'ini': cannot read 'nope.ini': No such file or directory"


def test_a_directory_is_unreadable(write, load, tmp_path):
    (tmp_path / "dir.ini").mkdir()
    with pytest.raises(ConfigError, match="cannot read 'dir.ini': Is a directory"):
        load("--ini", "dir.ini")


def test_utf8_bom_and_non_utf8_bytes(write, load, tmp_path):
    (tmp_path / "bom.ini").write_bytes(b"\xef\xbb\xbf[uwsgi]\nchdir = /caf\xe9\n")
    config = load("--ini", "bom.ini")
    assert config.as_uwsgi_opt()["chdir"] == b"/caf\xe9"
