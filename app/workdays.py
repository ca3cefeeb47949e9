"""Chinese working days from the app's own calendar table, editable by the supervision office.

The table is seeded from `chinesecalendar` (official schedules up to its last known year); next
year's State Council notice or a county's local days are entered in the admin, no upgrade needed.
A day missing from the table is "beyond the known calendar": counted by the weekend rule and
flagged. Lookups read a cached copy of the table, never the library, never one query per day.
"""
import bisect
import datetime
import threading
import time

from models import CalendarDay, db

CACHE_SECONDS = 60  # another process's edit is seen within a minute; this process's at once
END_OF_DAY = datetime.time(23, 59, 59)


class Calendar:
    """A snapshot of the calendar table: {date: is_workday}."""

    def __init__(self, days):
        self.days = days
        # For O(log n) arithmetic: the sorted working days, and the runs of days with no gap.
        self._workdays = sorted(d for d, working in days.items() if working)
        self._runs = []
        for day in sorted(days):
            if self._runs and day == self._runs[-1][1] + datetime.timedelta(days=1):
                self._runs[-1][1] = day
            else:
                self._runs.append([day, day])
        self._run_starts = [run[0] for run in self._runs]

    def _known_until(self, day):
        """The last day of the gap-free known run containing `day`, or None if unknown."""
        i = bisect.bisect_right(self._run_starts, day) - 1
        if i >= 0 and self._runs[i][0] <= day <= self._runs[i][1]:
            return self._runs[i][1]
        return None

    def known(self, day):
        return day in self.days

    def is_workday(self, day):
        known = self.days.get(day)
        return known if known is not None else day.weekday() < 5

    def add_workdays(self, start, n):
        """The n-th working day after `start` (start itself not counted), and whether any day
        on the way was beyond the known calendar."""
        until = self._known_until(start + datetime.timedelta(days=1))
        if until is not None and n > 0:
            i = bisect.bisect_right(self._workdays, start) + n - 1
            if i < len(self._workdays) and self._workdays[i] <= until:
                return self._workdays[i], False
        day, estimated = start, False
        while n > 0:
            day += datetime.timedelta(days=1)
            estimated = estimated or day not in self.days
            if self.is_workday(day):
                n -= 1
        return day, estimated

    def workdays_between(self, start, end):
        """Working days after `start` up to and including `end` (0 if end <= start)."""
        if end <= start:
            return 0
        until = self._known_until(start + datetime.timedelta(days=1))
        if until is not None and end <= until:
            return bisect.bisect_right(self._workdays, end) - bisect.bisect_right(self._workdays, start)
        count, day = 0, start
        while day < end:
            day += datetime.timedelta(days=1)
            count += self.is_workday(day)
        return count

    def due(self, duration, start_at):
        """(due datetime, estimated) for a Duration counted from `start_at`."""
        if duration.unit == "hours":
            return start_at + datetime.timedelta(hours=duration.amount), False
        if duration.unit == "days":
            day = start_at.date() + datetime.timedelta(days=duration.amount)
            return datetime.datetime.combine(day, END_OF_DAY), day not in self.days
        day, estimated = self.add_workdays(start_at.date(), duration.amount)
        return datetime.datetime.combine(day, END_OF_DAY), estimated

    def before(self, due_at, duration):
        """The moment `duration` before a due time (for reminders)."""
        if duration.unit == "hours":
            return due_at - datetime.timedelta(hours=duration.amount)
        if duration.unit == "days":
            return due_at - datetime.timedelta(days=duration.amount)
        day, n = due_at.date(), duration.amount
        while n > 0:
            day -= datetime.timedelta(days=1)
            if self.is_workday(day):
                n -= 1
        return datetime.datetime.combine(day, datetime.time(0, 0))

    def after(self, due_at, duration):
        """The moment `duration` after a due time (for the red card)."""
        return self.due(duration, due_at)[0]


_cache = {"calendar": None, "loaded": 0.0}
_lock = threading.Lock()


def current():
    """The cached calendar, reloaded at most once a minute."""
    with _lock:
        if _cache["calendar"] is None or time.monotonic() - _cache["loaded"] > CACHE_SECONDS:
            query = CalendarDay.select(CalendarDay.day, CalendarDay.workday).tuples()
            if db.is_closed():  # the command line, the sweeper thread
                with db.connection_context():
                    days = dict(query)
            else:  # inside a request, perhaps inside its transaction: never close that connection
                days = dict(query)
            _cache["calendar"], _cache["loaded"] = Calendar(days), time.monotonic()
        return _cache["calendar"]


def invalidate():
    with _lock:
        _cache["calendar"] = None


def seed_from_library(first_year=2020):
    """Fill the table from chinesecalendar for every year it knows; office edits are kept."""
    import chinese_calendar
    last_year = max(max(chinese_calendar.holidays), max(chinese_calendar.workdays)).year
    existing = {d for (d,) in CalendarDay.select(CalendarDay.day).tuples()}
    rows = []
    day = datetime.date(first_year, 1, 1)
    while day.year <= last_year:
        if day not in existing:
            holiday, name = chinese_calendar.get_holiday_detail(day)
            rows.append({"day": day, "workday": not holiday, "name": _holiday_name(day, holiday, name),
                         "origin": "chinesecalendar"})
        day += datetime.timedelta(days=1)
    return _insert_days(rows)


def _insert_days(rows):
    with db.atomic():
        for start in range(0, len(rows), 500):  # SQLite limits the variables of one statement
            CalendarDay.insert_many(rows[start:start + 500]).execute()
    invalidate()
    return len(rows)


HOLIDAY_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                 "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
                 "National Day": "国庆节", "Anti-Fascist 70th Day": "抗战胜利70周年纪念日"}


def _holiday_name(day, holiday, name):
    if name is None:
        return ""
    chinese = HOLIDAY_NAMES.get(name, name)
    if holiday:
        return chinese if day.weekday() < 5 else chinese + "（周末）"
    return f"{chinese}调休上班"


def add_year_by_weekend_rule(year):
    """Create a year's days by the weekend rule, for the office to mark holidays and 调休 on."""
    existing = {d for (d,) in CalendarDay.select(CalendarDay.day).where(
        CalendarDay.day.between(datetime.date(year, 1, 1), datetime.date(year, 12, 31))).tuples()}
    rows, day = [], datetime.date(year, 1, 1)
    while day.year == year:
        if day not in existing:
            rows.append({"day": day, "workday": day.weekday() < 5, "name": "", "origin": "office"})
        day += datetime.timedelta(days=1)
    return _insert_days(rows)
