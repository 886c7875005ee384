"""The scoreboard's slot layout: what a worker writes is what the master and the stats server read."""
from __future__ import annotations

import pytest

from uwkernel import scoreboard
from uwkernel.scoreboard import _FIELDS, STATUS_BUSY, STATUS_IDLE, Scoreboard, SlotView


def test_snapshot_fields_follow_the_slot_layout():
    assert SlotView._fields[1:] == _FIELDS


def test_every_field_set_by_name_reads_back_by_name():
    board = Scoreboard(2)
    for i, name in enumerate(_FIELDS):
        board.set(2, name, i + 1)
    view = board.read(2)
    assert [getattr(view, name) for name in _FIELDS] == [i + 1 for i in range(len(_FIELDS))]
    assert board.read(1).pid == 0  # slots do not overlap


@pytest.fixture(params=["c", "python"])
def slot_writer(request, monkeypatch):
    """Run a test with the C slot writes (``_speedups``) and again with the Python reference alone."""
    if request.param == "python":
        monkeypatch.setattr(scoreboard, "_slot_begin_c", None)
        monkeypatch.setattr(scoreboard, "_slot_end_c", None)
    elif scoreboard._slot_begin_c is None:
        pytest.fail("the C extension uwkernel.proto._speedups was not built (needs a C compiler at install)")
    return request.param


def test_a_request_begins_and_ends_in_the_slot(slot_writer):
    board = Scoreboard(1)
    slot = board.slot(1, harakiri=30)
    start = slot.begin()
    view = board.read(1)
    assert view.status == STATUS_BUSY and view.request_start == start and view.deadline == start + 30
    assert slot.end(start, 100, exception=True) == 1
    slot.end(start, 50)
    view = board.read(1)
    assert (view.status, view.deadline, view.requests, view.delta_requests, view.exceptions, view.tx) == \
        (STATUS_IDLE, 0.0, 2, 2, 1, 150)
    assert board.total_requests() == 2
    # a respawned worker's slot carries the counters on; its own count starts again
    assert Scoreboard.slot(board, 1).end(start, 0) == 1 and board.read(1).requests == 3


def test_the_average_and_the_running_time_are_microseconds(slot_writer):
    board = Scoreboard(1)
    slot = board.slot(1)
    start = slot.begin()
    assert board.read(1).deadline == 0.0  # no harakiri
    slot.end(start - 0.5, 10)  # half a second ago
    slot.end(slot.begin() - 1.5, 10, True)
    view = board.read(1)
    assert 2_000_000 <= view.running_time < 2_100_000
    assert view.avg_rt == view.running_time // 2 and view.exceptions == 1 and view.tx == 20


def test_the_slot_writes_refuse_an_offset_outside_the_board():
    if scoreboard._slot_begin_c is None:
        pytest.fail("the C extension uwkernel.proto._speedups was not built (needs a C compiler at install)")
    board = Scoreboard(1)
    with pytest.raises(ValueError, match="outside"):
        scoreboard._slot_begin_c(board.mem, len(board.mem) - 8, 0.0)
    with pytest.raises(ValueError, match="outside"):
        scoreboard._slot_end_c(board.mem, -1, 0.0, 0)
