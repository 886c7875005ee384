"""A vassal's command line and environment, and the sources the Emperor scans."""
from __future__ import annotations

import os
import sys

from uwkernel_emperor.vassal import VASSAL_ENV, command, environment
from uwkernel_emperor.watch import Watcher, is_glob

EMPTY = {"vassals-inherit-before": [], "vassals-include-before": [], "vassal-set": [], "vassals-inherit": [],
         "vassals-include": []}


def test_command_picks_the_format_by_extension():
    for name, flag in (("a.ini", "--ini"), ("a.json", "--json"), ("a.js", "--json"), ("a.yml", "--yaml"),
                       ("a.yaml", "--yaml"), ("a.toml", "--toml")):
        assert command(f"/v/{name}", EMPTY) == [sys.executable, "-m", "uwkernel", flag, f"/v/{name}"]


def test_command_orders_inherits_includes_and_sets_as_uwsgi():
    config = {"vassals-inherit-before": ["ib"], "vassals-include-before": ["cb"], "vassal-set": ["processes=2"],
              "vassals-inherit": ["ia"], "vassals-include": ["ca"]}
    assert command("/v/a.ini", config)[3:] == [
        "--inherit", "ib", "--include", "cb", "--set", "processes=2", "--ini", "/v/a.ini",
        "--inherit", "ia", "--include", "ca",
    ]


def test_environment_drops_the_emperors_own_variables_and_renames_vassal_ones():
    env = environment("/v/a.ini", {
        "PATH": "/bin", "UWSGI_RELOADS": "3", "UWKERNEL_SOCKETS": "x", "UWSGI_EMPEROR": "/v",
        "UWSGI_VASSAL_PROCESSES": "4", "UWSGI_VASSALS_INCLUDE": "c.ini", "UWSGI_MASTER": "1",
    })
    assert env == {"PATH": "/bin", "UWSGI_PROCESSES": "4", "UWSGI_MASTER": "1", VASSAL_ENV: "/v/a.ini"}


def test_watcher_lists_config_files_of_a_directory_and_a_glob(tmp_path):
    for name in ("a.ini", "b.json", "c.yaml", "d.toml", "e.txt", ".hidden.ini"):
        (tmp_path / name).write_text("")
    (tmp_path / "sub.ini").mkdir()
    found = Watcher([str(tmp_path)]).scan()
    assert sorted(os.path.basename(p) for p in found) == ["a.ini", "b.json", "c.yaml", "d.toml"]
    watcher = Watcher([str(tmp_path / "*.ini")])
    assert list(watcher.scan()) == [str(tmp_path / "a.ini")]
    assert watcher.fd is not None  # the glob's directory is watched
    (tmp_path / "f.ini").write_text("x")
    assert watcher.drain()
    watcher.close()
    assert is_glob("/etc/*.ini") and not is_glob("/etc/vassals")
