"""Changes to the working-day calendar, each followed by the open tickets' deadlines.

Every edit (one day, a range, a State Council notice, a year by the weekend rule) runs in one
transaction with the recount of the deadlines it moves (app/deadline_recount.py) and its audit row.
"""
import datetime

from app import deadline_recount, workdays
from app.workdays import LIBRARY, NOTICE, OFFICE
from models import AuditLog, CalendarDay, db, now

FIRST_YEAR, LAST_YEAR = 2000, 2100
ONE_DAY = datetime.timedelta(days=1)


def clock():
    return now()


def _write(entries, origin, at, user, action, detail, ip=""):
    """Upsert {day: (workday, name)} and recount; returns the deadlines moved."""
    rows = [{"day": day, "workday": workday, "name": name[:50], "origin": origin}
            for day, (workday, name) in sorted(entries.items())]
    with db.atomic():
        before = workdays.load()
        for start in range(0, len(rows), 300):  # SQLite limits the variables of one statement
            (CalendarDay.insert_many(rows[start:start + 300])
             .on_conflict(conflict_target=[CalendarDay.day],
                          preserve=[CalendarDay.workday, CalendarDay.name, CalendarDay.origin])
             .execute())
        workdays.invalidate()
        after = before.with_days({day: workday for day, (workday, _name) in entries.items()}, origin)
        moved = deadline_recount.recount(before, after, entries, at=at or clock(), user=user)
        AuditLog.record(action, user, None, detail=f"{detail}；{moved} 件工单的时限随之调整", ip=ip)
    workdays.invalidate()
    return moved


def set_range(first, last, workday, name, user=None, at=None, ip=""):
    """Mark [first, last] as holidays (workday False) or make-up working days; returns deadlines moved."""
    days = {first + ONE_DAY * i: (workday, name) for i in range((last - first).days + 1)}
    kind = "上班" if workday else "放假"
    return _write(days, OFFICE, at, user, "calendar_range", f"{first} 至 {last} {kind} {name}", ip)


def import_notice(notice, user=None, at=None, ip=""):
    """Save a parsed notice: its days, and every other day of its year by the weekend rule, as official."""
    days = {}
    day = datetime.date(notice.year, 1, 1)
    while day.year == notice.year:
        days[day] = (day.weekday() < 5, "")
        day += ONE_DAY
    for day, (workday, name) in notice.days().items():
        days[day] = (workday, name)
    detail = f"{notice.year} 年放假通知：放假 {len(notice.holidays)} 天，调休上班 {len(notice.workdays)} 天"
    return _write(days, NOTICE, at, user, "calendar_notice", detail, ip)


def edit_day(before, day, user=None, at=None):
    """After the office changed one day in the list: recount against the calendar before it."""
    CalendarDay.update(origin=OFFICE).where(CalendarDay.day == day).execute()
    workdays.invalidate()
    return deadline_recount.recount(before, workdays.load(), [day], at=at or clock(), user=user)


def add_year(year, user=None, at=None, ip=""):
    """Generate a year by the weekend rule (推算); returns (days added, deadlines moved)."""
    with db.atomic():
        before = workdays.load()
        added = workdays.add_year_by_weekend_rule(year)
        days = [datetime.date(year, 1, 1) + ONE_DAY * i for i in range(366)]
        moved = deadline_recount.recount(before, workdays.load(), [d for d in days if d.year == year],
                                         at=at or clock(), user=user)
        AuditLog.record("calendar_year", user, None, detail=f"{year}: {added} days", ip=ip)
    return added, moved


def preview_changes(notice):
    """How many days the notice would change, and the office's own entries it would replace."""
    first, last = datetime.date(notice.year, 1, 1), datetime.date(notice.year, 12, 31)
    current = {day: (workday, origin) for day, workday, origin in CalendarDay.select(
        CalendarDay.day, CalendarDay.workday, CalendarDay.origin).where(CalendarDay.day.between(first, last)).tuples()}
    named = notice.days()
    changed, replaced = 0, []
    day = first
    while day <= last:
        workday = named[day][0] if day in named else day.weekday() < 5
        old = current.get(day, (day.weekday() < 5, None))  # a missing day counts by the weekend rule
        if old[0] != workday:
            changed += 1
        if old is not None and old[1] == OFFICE and old[0] != workday:
            replaced.append(day)
        day += ONE_DAY
    return changed, replaced


def official_year(year):
    """Whether the State Council's schedule for `year` is in the calendar (not only estimated)."""
    return CalendarDay.select().where(CalendarDay.day.between(datetime.date(year, 1, 1), datetime.date(year, 12, 31)),
                                      CalendarDay.origin.in_([NOTICE, LIBRARY])).exists()


def missing_notice_year(today=None):
    """From 1 November: next year, if its notice has not been entered; otherwise None."""
    today = today or clock().date()
    if today.month >= 11 and not official_year(today.year + 1):
        return today.year + 1
    return None
