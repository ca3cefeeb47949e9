"""公示: the office may publish each unit's satisfaction rate and problems solved for a period."""
import datetime
import json

from app import dashboard
from app.periods import month_before, month_bounds, within
from peewee import fn

from models import SystemSetting, Ticket, Unit

KEY = "publication"
PERIODS = ("last_month", "this_year")


def settings():
    """{'enabled': bool, 'period': one of PERIODS}."""
    stored = json.loads(SystemSetting.read(KEY, "{}") or "{}")
    return {"enabled": bool(stored.get("enabled")), "period": stored.get("period") if stored.get("period") in PERIODS
            else "last_month"}


def save(enabled, period):
    if period not in PERIODS:
        raise ValueError("公示期间只能是上个月或今年以来。")
    SystemSetting.write(KEY, json.dumps({"enabled": bool(enabled), "period": period}))


def bounds(period, today):
    """[start, end) of the published period."""
    if period == "this_year":
        return today.replace(month=1, day=1), today + datetime.timedelta(days=1)
    return month_bounds(*month_before(today.year, today.month))


def table(period, today):
    """Rows for each active unit that was rated or had problems: no window, no officer, no person."""
    start, end = bounds(period, today)
    ranking = dashboard.rankings(start, end, None, "unit", minimum=dashboard.MIN_SAMPLE)
    rated = {r["id"]: r for r in ranking["ranked"] + ranking["too_few"]}
    # Problems solved in the period by each handling unit, a village's counted with its township.
    parent = dict(Unit.select(Unit.id, Unit.parent).tuples())
    solved_by = {}
    closed = within(Ticket.select(Ticket.handling_unit, fn.COUNT(Ticket.id))
                            .where(Ticket.closing_kind == "solved", Ticket.merged_into.is_null(), Ticket.symposium.is_null(),
                                   Ticket.handling_unit.is_null(False)), Ticket.closed_at, start, end)
    for unit_id, n in closed.group_by(Ticket.handling_unit).tuples():
        while unit_id is not None:  # the unit and each one above it
            solved_by[unit_id] = solved_by.get(unit_id, 0) + n
            unit_id = parent.get(unit_id)
    rows = []
    for unit in Unit.select().where(Unit.active, Unit.kind.in_(("hall", "law_enforcement", "township")))\
            .order_by(Unit.kind, Unit.code):
        solved = solved_by.get(unit.id, 0)
        r = rated.get(unit.id)
        if r is None and not solved:
            continue
        rows.append({"unit": unit.name, "total": r["total"] if r else 0,
                     "rate": r["rate"] if r and r["total"] >= dashboard.MIN_SAMPLE else None, "solved": solved})
    return start, end - datetime.timedelta(days=1), rows
