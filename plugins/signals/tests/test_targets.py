"""Target matching over fake children: workers, spoolers, mules (whatever their role spelling) and farms."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from uwkernel.ipc import Child
from uwkernel.scoreboard import STATUS_BUSY, STATUS_CHEAP, STATUS_IDLE
from uwkernel_signals.table import SignalTable
from uwkernel_signals.targets import UnsupportedTarget, kind_of, parse_farms, select


def _children():
    spooler = SimpleNamespace(name="spooler /tmp/s #1", procname="uWSGI spooler")
    mule = lambda name, n: SimpleNamespace(name=name, procname=f"uWSGI mule {n}")  # noqa: E731
    return [Child("worker", 2, 102, None), Child("worker", 1, 101, None), Child("worker", 3, 103, None),
            Child(spooler.name, 0, 200, None, spooler), Child("spooler /tmp/s #2", 1, 201, None, spooler),
            Child("mule1", 2, 301, None, mule("mule1", 1)), Child("mule", 3, 302, None, mule("mule", 2)),
            Child("mule 3", 4, 303, None, mule("mule 3", 3))]


STATUS = {1: STATUS_BUSY, 2: STATUS_IDLE, 3: STATUS_CHEAP}
FARMS = parse_farms(["fast:1,3", "slow:2"])


@pytest.mark.parametrize("target, pids", [
    ("", [102]), ("worker", [102]), ("worker0", [102]),       # the first free worker
    ("workers", [101, 102, 103]), ("active-workers", [101, 102]), ("worker3", [103]), ("worker9", []),
    ("spooler", [200]), ("mules", [301, 302, 303]), ("mule", [301]), ("mule0", [301]), ("mule2", [302]),
    ("farm_fast", [301, 303]), ("farm_slow", [302]), ("farm2", [302]), ("farm1", [301, 303]), ("farm_none", []),
])
def test_select(target, pids):
    assert [c.pid for c in select(target, _children(), STATUS.get, FARMS)] == pids


def test_no_free_worker_falls_back_to_the_first():
    assert [c.pid for c in select("", _children(), lambda wid: STATUS_BUSY)] == [101]


def test_unsupported_target():
    with pytest.raises(UnsupportedTarget):
        select("bogus", _children(), STATUS.get)


def test_kind_of_reads_roles_and_procnames():
    assert [kind_of(c) for c in _children()][3:] == [("spooler", 0), ("spooler", 0), ("mule", 1), ("mule", 2),
                                                     ("mule", 3)]


def test_table_round_trip():
    table = SignalTable()
    assert not table.read(17).registered
    table.write(17, "farm_fast", 1234)
    entry = table.read(17)
    assert (entry.registered, entry.target, entry.owner) == (True, "farm_fast", 1234)
