"""Statutory periods of a tender, computed on China's official calendar.

Pure: no Django. Every period is counted in Asia/Shanghai local time. A calendar-day period whose
last day falls on a rest day (weekend or public holiday) ends on the next working day at the same
local time (民法典 203: the period then ends on the day after the holiday); the official make-up
working days (调休, e.g. Sunday 2026-09-20) count as working days, as `holidays.China` knows.

Sandbox accelerator N: a statutory duration of D days becomes exactly D/N (as a timedelta), and
no holiday shift is applied, so a whole tender can run in minutes in the demo and the tests.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")

BID_PERIOD_DAYS = 20  # L24
DOCUMENT_OFFER_DAYS = 5  # R16
OBJECTION_CUTOFF_DAYS = 10  # R22
OBJECTION_ANSWER_DAYS = 3  # R22
AMENDMENT_NOTICE_DAYS = 15  # L23, R21
# The sandbox accelerator's ceiling: beyond it a statutory day would be shorter than a second.
MAX_ACCELERATOR = 100_000
# Dates a tender may carry: anything else is a typing error (and years near 1 or 9999 overflow
# when converted between time zones).
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


@lru_cache(maxsize=1)
def _calendar() -> holidays.HolidayBase:
    # One instance; it adds the holidays of each year the first time a date of that year is asked.
    return holidays.China()


def is_working_day(day: date) -> bool:
    return _calendar().is_working_day(day)


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The date `count` working days after `day` (weekends and holidays skipped, make-up days
    counted). `count` 0 returns `day` unchanged."""
    if count < 0:
        raise ValueError("count must not be negative")
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment.astimezone(SHANGHAI)


def _check_accelerator(accelerator: int) -> None:
    if isinstance(accelerator, bool) or not isinstance(accelerator, int) or accelerator < 1:
        raise ValueError("accelerator must be an integer >= 1")


def duration(days: int, accelerator: int = 1) -> timedelta:
    """A statutory duration of `days` days, divided exactly by the sandbox accelerator."""
    _check_accelerator(accelerator)
    return timedelta(days=days) / accelerator


def shift_to_working_day(moment: datetime) -> datetime:
    """The same local wall-clock time on the next working day if `moment` falls on a rest day."""
    local = _local(moment)
    day = next_working_day(local.date())
    if day == local.date():
        return local
    return datetime.combine(day, local.timetz()).replace(tzinfo=SHANGHAI)


def period_end(start: datetime, days: int, accelerator: int = 1) -> datetime:
    """End of a period of `days` calendar days starting at `start` (in local dates: the same wall
    time `days` days later), moved to the next working day when it falls on a rest day.
    Accelerated (N > 1): exactly start + days/N, never shifted."""
    _check_accelerator(accelerator)
    if accelerator > 1:
        return _local(start) + duration(days, accelerator)
    local = _local(start)
    end = datetime.combine(local.date() + timedelta(days=days), local.timetz()).replace(tzinfo=SHANGHAI)
    return shift_to_working_day(end)


def earliest_bid_deadline(documents_issued_at: datetime, accelerator: int = 1) -> datetime:
    """L24: at least 20 days from issuing the tender documents to the bid deadline."""
    return period_end(documents_issued_at, BID_PERIOD_DAYS, accelerator)


def earliest_documents_offer_end(documents_issued_at: datetime, accelerator: int = 1) -> datetime:
    """R16: the tender documents are on offer for at least 5 days."""
    return period_end(documents_issued_at, DOCUMENT_OFFER_DAYS, accelerator)


def objection_cutoff(bid_deadline: datetime, accelerator: int = 1) -> datetime:
    """R22: objections to the tender documents are raised at the latest 10 days before the
    deadline. Counted backwards, so no holiday shift (a shift could only shorten the right)."""
    _check_accelerator(accelerator)
    local = _local(bid_deadline)
    if accelerator > 1:
        return local - duration(OBJECTION_CUTOFF_DAYS, accelerator)
    return datetime.combine(local.date() - timedelta(days=OBJECTION_CUTOFF_DAYS), local.timetz()).replace(tzinfo=SHANGHAI)


def objection_answer_due(raised_at: datetime, accelerator: int = 1) -> datetime:
    """R22: the tenderer answers an objection within 3 days of receiving it."""
    return period_end(raised_at, OBJECTION_ANSWER_DAYS, accelerator)


def minimum_deadline_after_amendment(issued_at: datetime, accelerator: int = 1) -> datetime:
    """L23, R21: a clarification or amendment that may affect the preparation of bids must be
    issued at least 15 days before the deadline; if fewer remain, the deadline is postponed to
    15 days after its issue. This is the earliest deadline such an amendment leaves."""
    return period_end(issued_at, AMENDMENT_NOTICE_DAYS, accelerator)


def deadline_after_amendment(issued_at: datetime, current_deadline: datetime, *, affects_bids: bool, accelerator: int = 1) -> datetime:
    """The deadline once a clarification is issued: unchanged if it does not affect bids or
    leaves enough time, else postponed to `minimum_deadline_after_amendment`."""
    if not affects_bids:
        return current_deadline
    return max(_local(current_deadline), minimum_deadline_after_amendment(issued_at, accelerator))
