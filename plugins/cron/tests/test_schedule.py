"""Cron matching rules with a fake clock: every -N form, weekday 7, the day/weekday OR rule, once a minute."""
from __future__ import annotations

import time

import pytest

from uwkernel_cron import parse_cron, parse_cron2
from uwkernel_cron.crons import Cron, Crons
from uwkernel_cron.schedule import matches


def at(year=2024, month=5, day=15, hour=10, minute=30) -> time.struct_time:
    """Local time of a date (2024-05-15 is a Wednesday)."""
    return time.localtime(time.mktime((year, month, day, hour, minute, 0, 0, 0, -1)))


@pytest.mark.parametrize("fields, when, expected", [
    ((-1, -1, -1, -1, -1), at(), True),
    ((30, 10, 15, 5, -1), at(), True),
    ((31, 10, 15, 5, -1), at(), False),
    ((-15, -1, -1, -1, -1), at(minute=45), True),     # minute % 15 == 0
    ((-15, -1, -1, -1, -1), at(minute=40), False),
    ((-1, -5, -1, -1, -1), at(hour=10), True),        # hour % 5 == 0
    ((-1, -5, -1, -1, -1), at(hour=11), False),
    ((-1, -1, -5, -1, -1), at(day=15), True),         # day % 5 == 0
    ((-1, -1, -5, -1, -1), at(day=16), False),
    ((-1, -1, -1, -5, -1), at(month=5), True),        # month (1-12) % 5 == 0
    ((-1, -1, -1, -5, -1), at(month=6), False),
    ((-1, -1, -1, -1, -3), at(day=15), True),         # Wednesday = 3
    ((-1, -1, -1, -1, -2), at(day=15), False),
    ((-1, -1, -1, -1, 3), at(day=15), True),
    ((-1, -1, -1, -1, 7), at(day=19), True),          # 7 is Sunday, as 0
    ((-1, -1, -1, -1, 0), at(day=19), True),
    ((-1, -1, -1, -1, 7), at(day=18), False),
    ((-1, -1, 1, -1, 3), at(day=15), True),           # OR: not the 1st, but a Wednesday
    ((-1, -1, 15, -1, 0), at(day=15), True),          # OR: the 15th, not a Sunday
    ((-1, -1, 2, -1, 0), at(day=15), False),          # neither
    ((-1, -1, 15, -1, -2), at(day=16), False),        # no OR with -N weekday: both must match
])
def test_matches(fields, when, expected):
    assert matches(when, *fields) is expected


def test_at_most_once_per_minute_and_again_next_minute():
    fired = []
    crons = Crons(fired.append)
    crons.add(Cron(-1, -1, -1, -1, -1, signum=9))
    base = time.mktime(at()) 
    crons.check(base)
    crons.check(base + 0.5)
    crons.check(base + 59)
    assert fired == [9]
    crons.check(base + 60)
    assert fired == [9, 9]


def test_same_entry_twice_is_kept_once():
    crons = Crons(lambda n: None)
    assert crons.add(parse_cron("0 * * * * echo hi".replace("*", "-1"), 0))
    assert not crons.add(parse_cron("0 -1 -1 -1 -1 echo hi", 0))
    assert crons.add(Cron(-1, -1, -1, -1, -1, signum=3))
    assert not crons.add(Cron(-1, -1, -1, -1, -1, signum=3))
    assert len(crons.entries) == 2


def test_parse_cron2_keys_defaults_and_harakiri():
    cron = parse_cron2("minute=-5,hour=2,unique=1,harakiri=30 /bin/true --flag", 7)
    assert cron.fields == (-5, 2, -1, -1, -1)
    assert cron.command == "/bin/true --flag" and cron.unique and cron.harakiri == 30
    assert parse_cron2("week=7 ls", 7).harakiri == 7
    assert parse_cron2("harakiri=0 ls", 7).harakiri == 0
    assert parse_cron2("ls -l", 0).fields == (-1,) * 5
    with pytest.raises(ValueError):
        parse_cron2("bogus=1 ls", 0)
    with pytest.raises(ValueError):
        parse_cron("1 2 3 ls", 0)
