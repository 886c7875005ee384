"""Mules and farms from a configuration, and the queues: bounded, never blocking the sender."""
from __future__ import annotations

import time

import pytest

from uwkernel.errors import ConfigError, Origin
from uwkernel_mules import OPTIONS, api
from uwkernel_mules.layout import Mule, read_layout


class FakeConfig:
    """The part of Config the plugin reads, over ``{name: [values]}`` given on lines 1, 2, ... of test.ini."""

    def __init__(self, values: dict[str, list]):
        self._values = values
        self._options = {option.name: option for option in OPTIONS}

    def __getitem__(self, name):
        option = self._options[name]
        values = [v for v, _ in self.values(name)]
        return values if option.kind == "list" else (values[-1] if values else option.default)

    def values(self, name):
        return [(value, Origin("test.ini", line)) for line, value in self._values.get(name, [])]


@pytest.fixture
def layout(monkeypatch):
    """Install a layout of 2 plain mules and a farm ``f`` of both, with small messages."""
    config = FakeConfig({"mules": [(1, "2")], "farm": [(2, "f:1,2")], "mule-msg-size": [(3, 4096)]})
    built = read_layout(config)
    built.open()
    monkeypatch.setattr(api, "LAYOUT", built)
    return built


def test_mules_in_configuration_order():
    config = FakeConfig({"mule": [(1, "a.py"), (4, "b.py"), (6, None)], "mules": [(2, "2")], "farm": [(5, "x:1,3")]})
    layout = read_layout(config)
    assert layout.mules == [Mule(1, "a.py"), Mule(2), Mule(3), Mule(4, "b.py"), Mule(5)]
    assert layout.farms == {"x": [1, 3]}
    assert layout.farms_of(3) == ["x"] and layout.farms_of(2) == []
    assert [m.name for m in layout.mules][:1] == ["mule1"] and layout.mules[0].procname == "uWSGI mule 1"


@pytest.mark.parametrize("farm", ["nocolon", ":1", "f:9", "f:a"])
def test_bad_farms_are_config_errors(farm):
    with pytest.raises(ConfigError):
        read_layout(FakeConfig({"mules": [(1, "2")], "farm": [(2, farm)]}))


def test_targets(layout):
    assert api.mule_msg(b"any") is True
    assert api.mule_msg("text", 2) is True
    assert api.farm_msg("f", b"farm") is True
    assert layout.shared.receive(4096) == b"any"
    assert layout.queues[2].receive(4096) == b"text"
    assert layout.farm_queues["f"].receive(4096) == b"farm"
    with pytest.raises(ValueError, match="unknown farm"):
        api.mule_msg(b"x", "nofarm")
    with pytest.raises(ValueError, match="invalid mule"):
        api.mule_msg(b"x", 3)
    with pytest.raises(ValueError, match="mule-msg-size"):
        api.mule_msg(b"x" * 4097, 1)


def test_no_mules(monkeypatch):
    monkeypatch.setattr(api, "LAYOUT", read_layout(FakeConfig({})))
    with pytest.raises(ValueError, match="no mule configured"):
        api.mule_msg(b"x")
    assert api.mule_id() == 0 and api.in_farm("f") is None and api.farm_get_msg() is None
    with pytest.raises(ValueError, match="only in a mule"):
        api.mule_get_msg()


def test_a_full_queue_is_an_error_at_once(layout):
    start = time.monotonic()
    with pytest.raises(api.MuleQueueFull):
        for _ in range(10000):
            api.mule_msg(b"m" * 1000, 1)
    assert time.monotonic() - start < 2
    assert layout.queues[1].receive(4096) == b"m" * 1000  # what was queued is still there


def test_receiving_in_a_mule(layout, monkeypatch):
    monkeypatch.setattr(api, "MULE_ID", 1)
    assert api.in_farm("f") is True and api.in_farm() is True and api.in_farm("g") is None
    api.farm_msg("f", b"for the farm")
    api.mule_msg(b"for me", 1)
    assert api.farm_get_msg(timeout=1) == b"for the farm"
    assert api.farm_get_msg(timeout=0) is None  # farm_get_msg never reads the mule's own queue
    assert api.mule_get_msg(signals=False, timeout=1) == b"for me"
    start = time.monotonic()
    assert api.mule_get_msg(signals=False, timeout=0) is None
    assert time.monotonic() - start < 1


def test_harakiri_deadlines(layout):
    layout.set_deadline(2, 5)
    assert 0 < layout.deadline(2) - time.time() <= 5
    layout.set_deadline(2, 0)
    assert layout.deadline(2) == 0.0
