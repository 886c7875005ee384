"""When a cron entry is due: uWSGI's matching rules over local time (facts §3).

Fields are minute, hour, day of month, month (1-12) and weekday (0 = Sunday, 7 = Sunday too).
A value >= 0 must equal the field; -1 is any; -N matches when the field is a multiple of N. When
both day and weekday are >= 0 a time matching either of them matches (the crontab OR rule).
"""
from __future__ import annotations

import time


def _field(spec: int, value: int) -> bool:
    if spec < 0:
        return value % -spec == 0
    return spec == value


def matches(when: time.struct_time, minute: int, hour: int, day: int, month: int, week: int) -> bool:
    """Whether the local time ``when`` matches the cron fields."""
    wday = (when.tm_wday + 1) % 7  # struct_time: Monday = 0; cron: Sunday = 0
    if week == 7:
        week = 0
    common = (_field(minute, when.tm_min) and _field(hour, when.tm_hour) and _field(month, when.tm_mon))
    if not common:
        return False
    if day >= 0 and week >= 0:
        return when.tm_mday == day or wday == week
    return _field(day, when.tm_mday) and _field(week, wday)
