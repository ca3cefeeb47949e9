"""公示: the office may publish each unit's satisfaction rate and problems solved for a period."""
import datetime
import json

from app import dashboard, figures
from models import SystemSetting, Unit

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
    month_start = today.replace(day=1)
    if period == "this_year":
        return today.replace(month=1, day=1), today + datetime.timedelta(days=1)
    return (month_start - datetime.timedelta(days=1)).replace(day=1), month_start


def table(period, today):
    """Rows for each active unit that was rated or had problems: no window, no officer, no person."""
    start, end = bounds(period, today)
    ranking = dashboard.rankings(start, end, None, "unit", minimum=dashboard.MIN_SAMPLE)
    rated = {r["id"]: r for r in ranking["ranked"] + ranking["too_few"]}
    rows = []
    for unit in Unit.select().where(Unit.active, Unit.kind.in_(("hall", "law_enforcement", "township")))\
            .order_by(Unit.kind, Unit.code):
        solved = figures.problems(start, end, unit_ids=Unit.subtree_ids(unit.id))["solved"]
        r = rated.get(unit.id)
        if r is None and not solved:
            continue
        rows.append({"unit": unit.name, "total": r["total"] if r else 0,
                     "rate": r["rate"] if r and r["total"] >= dashboard.MIN_SAMPLE else None, "solved": solved})
    return start, end - datetime.timedelta(days=1), rows
