"""Calendar arithmetic of contract months, on plain values (no queries).

A contract month is a calendar month in the contract's own time zone; an amendment takes effect
from the first whole month it covers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from . import evaluation as ev

if TYPE_CHECKING:
    from .models import SLAContract


Period = str | date | tuple[int, int]  # "YYYY-MM", any day of the month, or (year, month)


def period_date(period: Period) -> date:
    if isinstance(period, date):
        return period.replace(day=1)
    if isinstance(period, tuple):
        return date(period[0], period[1], 1)
    year, month = ev.parse_period(period)
    return date(year, month, 1)


def version_for_month(versions: list[SLAContract], period: date) -> tuple[SLAContract, date, date] | None:
    """The version of a month and the days of the month the lineage covers.

    The version in effect on the month's first day applies to the whole month (an
    amendment starting mid-month applies from the next month); a contract that starts
    mid-month applies from its start. Returns (version, first covered day, last covered day).
    """
    first, last = period, ev.last_day(period.year, period.month)
    overlapping = [
        c for c in versions if c.effective_from <= last and (c.effective_to is None or c.effective_to >= first)
    ]
    if not overlapping:
        return None
    on_first = [c for c in overlapping if c.effective_from <= first]
    chosen = max(on_first, key=lambda c: (c.effective_from, c.version)) if on_first else overlapping[0]
    start = max(first, min(c.effective_from for c in overlapping))
    ends = [c.effective_to for c in overlapping if c.effective_to is not None]
    end = last if len(ends) < len(overlapping) else min(last, max(ends))
    return chosen, start, end


def window_for(contract: SLAContract, first_day: date, last_day: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(contract.timezone)
    start = datetime.combine(first_day, time(0), tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def claim_deadline(contract: SLAContract, period: date) -> date:
    return ev.last_day(period.year, period.month) + timedelta(days=contract.claim_window_days)


def months_between(*, start: date, end: date) -> Iterator[date]:
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        yield date(y, m, 1)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
