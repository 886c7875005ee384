"""The expansion passes: $(ENV), @(file), %(placeholder) with concatenation and arithmetic."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from uwkernel.config import Entry
from uwkernel.config.expand import PlaceholderResolver, replace_calls
from uwkernel.errors import ConfigError, Origin


def test_replace_calls_nesting_and_unclosed():
    assert replace_calls("a%(b(c))d%(e", "%", lambda inner: f"<{inner}>") == "a<b(c)>d%(e"
    assert replace_calls("%()x", "%", lambda inner: "!") == "%()x"
    assert replace_calls("$(A)$(B)", "$", {"A": "1"}.get) == "1$(B)"


def test_environment_variables(write, load):
    write("app.ini", "[uwsgi]\nchdir = $(HOME)/app\nenv = X=$(UNSET_VAR)\n")
    config = load("app.ini", environ={"HOME": "/home/me"})
    assert config["chdir"] == "/home/me/app"
    assert config["env"] == ["X=$(UNSET_VAR)"]


def test_file_contents_lose_one_newline(write, load):
    write("name.txt", "node1\n\n")
    write("app.ini", "[uwsgi]\nchdir = /srv/@(name.txt)\n")
    assert load("app.ini")["chdir"] == "/srv/node1\n"


def test_env_expanded_before_file(write, load):
    write("dir/name.txt", "x\n")
    write("app.ini", "[uwsgi]\nchdir = @($(D)/name.txt)\n")
    assert load("app.ini", environ={"D": "dir"})["chdir"] == "x"


def test_missing_file_in_at_is_an_error(write, load):
    write("app.ini", "[uwsgi]\nmaster = true\nchdir = @(nope.txt)\n")
    with pytest.raises(ConfigError) as err:
        load("app.ini")
    assert str(err.value) == "config error: app.ini:3: option 'chdir': cannot read @(nope.txt): No such file or directory"


def test_placeholders(write, load):
    write("app.ini", """
        [uwsgi]
        base = /srv/app
        chdir = %(base)/current
        socket = %(base)/a.sock
        socket = %(base)/b.sock
        module = %(socket)
        env = LATE=%(late)
        late = set after its use
    """)
    config = load("app.ini")
    assert config["chdir"] == "/srv/app/current"
    assert config["module"] == "/srv/app/a.sock"  # the first value
    assert config["env"] == ["LATE=set after its use"]
    assert config.placeholders == {"base": "/srv/app", "late": "set after its use"}


def test_placeholder_of_a_placeholder_and_by_alias(write, load):
    write("app.ini", "[uwsgi]\na = %(b)x\nb = %(workers)y\nprocesses = 4\nchdir = %(a)\n")
    assert load("app.ini")["chdir"] == "4yx"


def test_placeholder_of_a_flag_is_true(load):
    assert load("--master", "--chdir", "/%(master)")["chdir"] == "/true"


def test_concatenation_and_arithmetic(write, load):
    write("app.ini", """
        [uwsgi]
        processes = 4
        host = 127.0.0.1
        port = :80
        socket = %(host port)
        harakiri = %(processes * 2 + 1)
        chdir = %(processes / 3)|%(processes - 10 / 4)|%(processes ++)|%(processes --)|%(10 5)
    """)
    config = load("app.ini")
    assert config["socket"] == ["127.0.0.1:80"]
    assert config["harakiri"] == 9
    assert config["chdir"] == "1|-1|5|3|105"


@pytest.mark.parametrize("text, message", [
    ("chdir = %(nothing)", r"app.ini:2: option 'chdir': placeholder %\(nothing\): no option or placeholder 'nothing' is set"),
    ("chdir = %(processes + nothing)", r"app.ini:2: option 'chdir': placeholder %\(processes \+ nothing\): no option or placeholder 'nothing'"),
    ("chdir = %(processes / 0)", r"app.ini:2: option 'chdir': placeholder %\(processes / 0\): division by zero"),
    ("chdir = %(name * 2)\nname = abc", r"placeholder %\(name \* 2\): 'abc' is not an integer"),
])
def test_placeholder_errors(write, load, text, message):
    write("app.ini", f"[uwsgi]\n{text}\nprocesses = 4\n")
    with pytest.raises(ConfigError, match=message):
        load("app.ini")


def test_placeholder_loop_is_an_error(write, load):
    write("app.ini", "[uwsgi]\na = %(b)\nb = x%(c)\nc = %(a)\nchdir = %(a)\n")
    with pytest.raises(ConfigError) as err:
        load("app.ini")
    assert err.value.origin == Origin("app.ini", 2) and err.value.option == "a"
    assert "loop: a -> b -> c -> a" in err.value.message


def test_self_reference_is_a_loop(write, load):
    write("app.ini", "[uwsgi]\nchdir = x%(chdir)\n")
    with pytest.raises(ConfigError, match="loop: chdir -> chdir"):
        load("app.ini")


def test_log_format_keeps_runtime_variables(write, load):
    write("app.ini", '[uwsgi]\nprocesses = 2\nlogformat = %(addr) "%(method) %(uri)" %(processes)\n')
    assert load("app.ini")["log-format"] == '%(addr) "%(method) %(uri)" 2'


def test_magic_variables_are_not_applied_on_the_command_line(load):
    assert load("--chdir", "%d/x")["chdir"] == "%d/x"


def test_item_placeholder_outside_a_block_is_an_error(write, load):
    write("app.ini", "[uwsgi]\nchdir = %(_)\n")
    with pytest.raises(ConfigError, match=r"app.ini:2: option 'chdir': placeholder %\(_\): no option or placeholder '_'"):
        load("app.ini")


@given(left=st.integers(min_value=-10**6, max_value=10**6), right=st.integers(min_value=0, max_value=10**6),
       operator=st.sampled_from("+-*/"))
def test_arithmetic_matches_c_integer_arithmetic(left, right, operator):
    origin = Origin("test")
    resolver = PlaceholderResolver([Entry("a", str(left), origin), Entry("b", str(right), origin)], lambda name: None)
    if operator == "/" and right == 0:
        with pytest.raises(ConfigError, match="division by zero"):
            resolver.expand(f"%(a {operator} b)", origin, "x")
        return
    expected = {"+": left + right, "-": left - right, "*": left * right,
                "/": int(left / right) if right else None}[operator]
    assert resolver.expand(f"[%(a {operator} b)]", origin, "x") == f"[{expected}]"


def test_placeholder_chains_are_bounded(write, load):
    chain = "".join(f"p{i} = %(p{i + 1})\n" for i in range(80))
    write("app.ini", f"[uwsgi]\nchdir = %(p0)\n{chain}p80 = end\n")
    with pytest.raises(ConfigError, match="placeholders nested more than 64 deep"):
        load("app.ini")
    write("short.ini", "[uwsgi]\nchdir = %(p0)\n" + "".join(f"p{i} = %(p{i + 1})\n" for i in range(30)) + "p30 = end\n")
    assert load("short.ini")["chdir"] == "end"
