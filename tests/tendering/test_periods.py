"""Statutory periods on China's real 2026 calendar (National Day 2026-10-01..07, make-up working
days Sunday 2026-09-20 and Saturday 2026-10-10; Qingming 2026-04-04..06)."""

import subprocess
import sys
from pathlib import Path
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tendering import periods
from tendering.periods import SHANGHAI


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-10-01", False),  # National Day
        ("2026-10-07", False),  # day off swapped from 10-10
        ("2026-10-04", False),  # Sunday inside the holiday
        ("2026-10-08", True),
        ("2026-10-10", True),  # Saturday, make-up working day
        ("2026-09-20", True),  # Sunday, make-up working day
        ("2026-09-19", False),  # ordinary Saturday
        ("2026-03-02", True),  # ordinary Monday
    ],
)
def test_working_days_follow_the_official_calendar(day, working):
    assert periods.is_working_day(date.fromisoformat(day)) is working


def test_next_working_day_skips_the_whole_national_day_holiday():
    assert periods.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)
    assert periods.next_working_day(date(2026, 10, 8)) == date(2026, 10, 8)


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        ("2026-09-30", 1, "2026-10-08"),  # over the holiday
        ("2026-09-18", 1, "2026-09-20"),  # Friday → the make-up Sunday
        ("2026-10-08", 2, "2026-10-10"),  # Thursday → Friday → make-up Saturday
        ("2026-03-06", 1, "2026-03-09"),  # Friday → Monday
        ("2026-03-06", 0, "2026-03-06"),
    ],
)
def test_adding_working_days(start, count, expected):
    assert periods.add_working_days(date.fromisoformat(start), count) == date.fromisoformat(expected)


def test_adding_negative_working_days_is_refused():
    with pytest.raises(ValueError):
        periods.add_working_days(date(2026, 3, 2), -1)


def test_period_ending_on_a_holiday_moves_to_the_next_working_day_same_time():
    assert periods.period_end(at("2026-09-11T10:00"), 20) == at("2026-10-08T10:00")


def test_period_ending_on_a_make_up_saturday_is_not_moved():
    assert periods.period_end(at("2026-09-20T10:00"), 20) == at("2026-10-10T10:00")


def test_periods_are_counted_in_shanghai_local_dates():
    # 17:00 UTC on 09-10 is already 01:00 on 09-11 in Dongguan; 20 days later is 10-01, a holiday.
    start = datetime(2026, 9, 10, 17, 0, tzinfo=ZoneInfo("UTC"))
    end = periods.period_end(start, 20)
    assert end == at("2026-10-08T01:00")
    assert end.tzinfo == SHANGHAI


def test_l24_earliest_bid_deadline_is_twenty_days_then_the_next_working_day():
    assert periods.earliest_bid_deadline(at("2026-03-02T09:00")) == at("2026-03-23T09:00")  # 03-22 is a Sunday
    assert periods.earliest_bid_deadline(at("2026-03-04T09:00")) == at("2026-03-24T09:00")


def test_r16_documents_on_offer_at_least_five_days():
    assert periods.earliest_documents_offer_end(at("2026-03-02T09:00")) == at("2026-03-09T09:00")  # 03-07 Sat → Mon
    assert periods.earliest_documents_offer_end(at("2026-09-28T09:00")) == at("2026-10-08T09:00")


def test_r22_objection_cutoff_is_ten_days_before_the_deadline_never_shifted():
    assert periods.objection_cutoff(at("2026-10-20T09:30")) == at("2026-10-10T09:30")
    assert periods.objection_cutoff(at("2026-10-11T09:30")) == at("2026-10-01T09:30")  # a holiday: not moved


def test_r22_objection_answer_due_in_three_days():
    assert periods.objection_answer_due(at("2026-03-02T15:00")) == at("2026-03-05T15:00")
    assert periods.objection_answer_due(at("2026-09-30T15:00")) == at("2026-10-08T15:00")


def test_amendment_affecting_bids_with_less_than_fifteen_days_left_postpones_the_deadline():
    deadline = at("2026-10-20T10:00")
    assert periods.deadline_after_amendment(at("2026-10-08T10:00"), deadline, affects_bids=True) == at("2026-10-23T10:00")
    # Issued 2026-03-20 with 12 days left: 15 days later is Saturday 04-04, then Qingming → 04-07.
    assert periods.deadline_after_amendment(at("2026-03-20T09:00"), at("2026-04-01T09:00"), affects_bids=True) == at("2026-04-07T09:00")


def test_amendment_leaving_enough_time_or_not_affecting_bids_keeps_the_deadline():
    deadline = at("2026-10-20T10:00")
    assert periods.deadline_after_amendment(at("2026-09-30T10:00"), deadline, affects_bids=True) == deadline
    assert periods.deadline_after_amendment(at("2026-10-18T10:00"), deadline, affects_bids=False) == deadline


def test_accelerator_divides_every_period_exactly_and_skips_the_holiday_shift():
    start = at("2026-09-30T23:50")
    assert periods.duration(20, 1440) == timedelta(minutes=20)
    assert periods.period_end(start, 20, 1440) == at("2026-10-01T00:10")  # on a holiday, not moved
    assert periods.earliest_bid_deadline(start, 1440) - start == timedelta(minutes=20)
    assert periods.earliest_documents_offer_end(start, 1440) - start == timedelta(minutes=5)
    assert start - periods.objection_cutoff(start, 1440) == timedelta(minutes=10)
    assert periods.objection_answer_due(start, 1440) - start == timedelta(minutes=3)
    assert periods.minimum_deadline_after_amendment(start, 1440) - start == timedelta(minutes=15)
    assert periods.duration(20, 7) == timedelta(days=20) / 7


@pytest.mark.parametrize("accelerator", [0, -3, 1.5, True])
def test_bad_accelerator_is_refused(accelerator):
    with pytest.raises(ValueError):
        periods.period_end(at("2026-03-02T09:00"), 20, accelerator)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        periods.period_end(datetime(2026, 3, 2, 9, 0), 20)


def test_the_module_is_pure():
    code = "import sys, tendering.periods, tendering.scheme; assert not any(m.startswith('django') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
