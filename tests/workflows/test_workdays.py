"""Deadlines in Chinese working days: official holidays and the make-up working weekends."""
import datetime as dt

import chinese_calendar

from app import workdays
from app.workflow.schema import Duration
from models import CalendarDay

D = dt.date


def test_fifteen_working_days_across_national_day(conn):
    calendar = workdays.current()
    # 2025-09-28 is a make-up Sunday; 10-01..10-08 are holidays; 10-11 is a make-up Saturday.
    assert calendar.add_workdays(D(2025, 9, 28), 15) == (D(2025, 10, 24), False)
    assert calendar.is_workday(D(2025, 10, 11)) and not calendar.is_workday(D(2025, 10, 6))


def test_working_days_across_spring_festival_2026(conn):
    calendar = workdays.current()
    # 02-14 (Saturday) is worked; 02-15..02-23 are off; 02-28 (Saturday) is worked.
    assert calendar.add_workdays(D(2026, 2, 12), 3) == (D(2026, 2, 24), False)
    assert calendar.add_workdays(D(2026, 2, 26), 2) == (D(2026, 2, 28), False)
    assert calendar.workdays_between(D(2026, 2, 13), D(2026, 2, 24)) == 2


def test_the_table_agrees_with_the_library_for_every_known_day(conn):
    days = dict(CalendarDay.select(CalendarDay.day, CalendarDay.workday).tuples())
    assert len(days) >= 365 * 6
    assert all(chinese_calendar.is_workday(day) == workday for day, workday in days.items())
    start = D(2024, 1, 2)
    for n in (1, 5, 15, 30):
        assert workdays.current().add_workdays(start, n)[0] == chinese_calendar.find_workday(n, start)


def test_beyond_the_known_calendar_counts_weekends_and_says_so(conn):
    calendar = workdays.current()
    day, estimated = calendar.add_workdays(D(2026, 12, 30), 3)
    assert day == D(2027, 1, 4) and estimated  # 12-31, then Fri 01-01 and Mon 01-04 by weekend rule
    due, estimated = calendar.due(Duration(15, "workdays"), dt.datetime(2026, 3, 2, 9, 0))
    assert not estimated and due == dt.datetime(2026, 3, 23, 23, 59, 59)  # Monday + 15


def test_the_office_enters_next_years_holidays(conn):
    assert workdays.add_year_by_weekend_rule(2027) == 365
    CalendarDay.update(workday=False, name="元旦", origin="office").where(CalendarDay.day == D(2027, 1, 1)).execute()
    workdays.invalidate()
    day, estimated = workdays.current().add_workdays(D(2026, 12, 30), 3)
    # 01-04 is still the weekend rule's estimate: the count stays 推算 until the notice is entered
    assert day == D(2027, 1, 5) and estimated
    assert workdays.current().add_workdays(D(2026, 12, 30), 1) == (D(2026, 12, 31), False)
    CalendarDay.update(origin="notice").where(CalendarDay.day.year == 2027).execute()
    workdays.invalidate()
    assert workdays.current().add_workdays(D(2026, 12, 30), 3) == (D(2027, 1, 5), False)


def test_days_and_hours_are_calendar_time(conn):
    calendar = workdays.current()
    start = dt.datetime(2025, 9, 30, 10, 0)
    assert calendar.due(Duration(3, "days"), start)[0] == dt.datetime(2025, 10, 3, 23, 59, 59)
    assert calendar.due(Duration(48, "hours"), start)[0] == dt.datetime(2025, 10, 2, 10, 0)


def test_the_fast_lookup_agrees_with_counting_day_by_day(conn):
    """The bisect shortcut must give what walking the days gives, across gaps and edges."""
    import random
    workdays.add_year_by_weekend_rule(2028)  # leaves 2027 unknown: a gap in the table
    calendar = workdays.current()

    def walk(start, n):
        day, estimated = start, False
        while n > 0:
            day += dt.timedelta(days=1)
            estimated = estimated or not calendar.official(day)
            n -= calendar.is_workday(day)
        return day, estimated

    rng = random.Random(7)
    for _ in range(2000):
        start = D(2019, 12, 1) + dt.timedelta(days=rng.randrange(365 * 9))
        n = rng.randrange(1, 40)
        assert calendar.add_workdays(start, n) == walk(start, n), (start, n)
        end = start + dt.timedelta(days=rng.randrange(60))
        expected = sum(calendar.is_workday(start + dt.timedelta(days=k)) for k in range(1, (end - start).days + 1))
        assert calendar.workdays_between(start, end) == expected, (start, end)
