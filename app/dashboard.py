"""The supervision dashboard's figures beyond the headline: national indicators, rankings, trends.

Every function takes a period [start, end) (dates, either may be None) and the units an officer
may see (None: the whole county), so that a unit's handler and the commission read the same
definitions over different rows.
"""
import datetime

from peewee import PostgresqlDatabase, fn

from app import scales
from app.figures import within
from models import CHANNELS, Evaluation, EvaluationReason, Reason, Staff, Ticket, Unit, Window, db

MIN_SAMPLE = 10  # ratings before a unit, window or officer is ranked: one vote ranks nobody


def _evaluations(start, end, unit_ids):
    query = within(Evaluation.select().where(~Evaluation.excluded), Evaluation.created_at, start, end)
    if unit_ids is not None:
        query = query.where(Evaluation.unit.in_(list(unit_ids)))
    return query


def national(start=None, end=None, unit_ids=None):
    """政务服务“好差评” indicators: 差评率, 整改率, 回访率, 回访满意度."""
    evaluations = _evaluations(start, end, unit_ids)
    total = evaluations.count()
    bad = evaluations.where(Evaluation.level.in_(scales.BAD_LEVELS))
    n_bad = bad.count()
    handled = Ticket.select().where(Ticket.evaluation.in_(bad.select(Evaluation.id)))
    rectified = handled.where(Ticket.status == "closed", Ticket.closing_kind.in_(("solved", "explained"))).count()
    revisited = handled.where(Ticket.grade.is_null(False))
    n_revisited = revisited.count()
    pleased = revisited.where(Ticket.grade.in_(("satisfied", "basically_satisfied"))).count()
    return {"bad": n_bad, "total": total, "bad_rate": n_bad / total if total else None,
            "rectified": rectified, "rectify_rate": rectified / n_bad if n_bad else None,
            "revisited": n_revisited, "revisit_rate": n_revisited / n_bad if n_bad else None,
            "revisit_pleased": pleased, "revisit_satisfaction": pleased / n_revisited if n_revisited else None}


def active_rating_rate(start=None, end=None, unit_ids=None):
    """主动评价率: ratings ÷ cases served, over the months whose 办件量 was entered; None without any."""
    from models import CaseVolume
    volumes = CaseVolume.select(CaseVolume.unit, CaseVolume.month, CaseVolume.cases)
    if start is not None:
        volumes = volumes.where(CaseVolume.month >= start.replace(day=1))
    if end is not None:
        volumes = volumes.where(CaseVolume.month < end)
    if unit_ids is not None:
        volumes = volumes.where(CaseVolume.unit.in_(list(unit_ids)))
    rows = list(volumes.tuples())
    cases = sum(n for _unit, _month, n in rows)
    if not cases:
        return {"cases": 0, "ratings": 0, "rate": None}
    # Ratings of the same units and months only, so that the two sides match.
    ratings = 0
    for unit_id, month, _n in rows:
        following = datetime.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        ratings += _evaluations(max(month, start) if start else month, min(following, end) if end else following,
                                [unit_id]).count()
    return {"cases": cases, "ratings": ratings, "rate": ratings / cases}


def rankings(start=None, end=None, unit_ids=None, by="unit", minimum=MIN_SAMPLE):
    """Rows {id, name, total, good, bad, rate} per unit, window or officer, best rate first.

    Those with fewer than `minimum` ratings are left out of the ranking (returned apart).
    """
    column, model = {"unit": (Evaluation.unit, Unit), "window": (Evaluation.window, Window),
                     "staff": (Evaluation.staff, Staff)}[by]
    rows = (_evaluations(start, end, unit_ids).select(column, Evaluation.level, fn.COUNT(Evaluation.id))
            .where(column.is_null(False)).group_by(column, Evaluation.level).tuples())
    counts = {}
    for key, level, n in rows:
        c = counts.setdefault(key, {scales.GOOD: 0, scales.NEUTRAL: 0, scales.BAD: 0})
        c[scales.GRADE_OF[level]] += n
    names = dict(model.select(model.id, model.name).where(model.id.in_(list(counts))).tuples()) if counts else {}
    table = [{"id": key, "name": names.get(key, str(key)), "total": sum(c.values()), "good": c[scales.GOOD],
              "bad": c[scales.BAD], "rate": c[scales.GOOD] / sum(c.values())} for key, c in counts.items()]
    ranked = sorted((r for r in table if r["total"] >= minimum), key=lambda r: (-r["rate"], -r["total"], r["name"]))
    most_bad = sorted((r for r in table if r["bad"]), key=lambda r: (-r["bad"], r["name"]))
    return {"ranked": ranked, "most_bad": most_bad, "too_few": sorted((r for r in table if r["total"] < minimum),
                                                                        key=lambda r: r["name"])}


def _month_of(column):
    if isinstance(db.obj, PostgresqlDatabase):
        return fn.to_char(column, "YYYY-MM")
    return fn.strftime("%Y-%m", column)


def monthly_trend(start=None, end=None, unit_ids=None):
    """[(month 'YYYY-MM', total, good, bad, rate)] in order."""
    month = _month_of(Evaluation.created_at)
    rows = (_evaluations(start, end, unit_ids).select(month.alias("m"), Evaluation.level, fn.COUNT(Evaluation.id))
            .group_by(month, Evaluation.level).tuples())
    per = {}
    for key, level, n in rows:
        c = per.setdefault(key, {scales.GOOD: 0, scales.NEUTRAL: 0, scales.BAD: 0})
        c[scales.GRADE_OF[level]] += n
    return [(key, sum(c.values()), c[scales.GOOD], c[scales.BAD], c[scales.GOOD] / sum(c.values()))
            for key, c in sorted(per.items())]


def weekly_trend(start=None, end=None, unit_ids=None, weeks=12):
    """[(week 'YYYY-Www' (ISO), total, good, bad, rate)] for the period's last `weeks` weeks."""
    day = fn.DATE(Evaluation.created_at)
    rows = (_evaluations(start, end, unit_ids).select(day.alias("d"), Evaluation.level, fn.COUNT(Evaluation.id))
            .group_by(day, Evaluation.level).tuples())
    per = {}
    for value, level, n in rows:
        date = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])
        year, week, _weekday = date.isocalendar()
        c = per.setdefault(f"{year}-W{week:02d}", {scales.GOOD: 0, scales.NEUTRAL: 0, scales.BAD: 0})
        c[scales.GRADE_OF[level]] += n
    return [(key, sum(c.values()), c[scales.GOOD], c[scales.BAD], c[scales.GOOD] / sum(c.values()))
            for key, c in sorted(per.items())][-weeks:]


def channels(start=None, end=None, unit_ids=None):
    """[(channel, its label, evaluations)] for the channels used, most used first."""
    labels = dict(CHANNELS)
    rows = (_evaluations(start, end, unit_ids).select(Evaluation.channel, fn.COUNT(Evaluation.id))
            .group_by(Evaluation.channel).tuples())
    return sorted(((k, labels.get(k, k), n) for k, n in rows), key=lambda r: (-r[2], r[0]))


def reasons(start=None, end=None, unit_ids=None):
    """[(reason, times given with a 差评)], most given first."""
    bad = _evaluations(start, end, unit_ids).where(Evaluation.level.in_(scales.BAD_LEVELS))
    return list(Reason.select(Reason.title, fn.COUNT(EvaluationReason.evaluation)).join(EvaluationReason)
                .where(EvaluationReason.evaluation.in_(bad.select(Evaluation.id)))
                .group_by(Reason.title).order_by(fn.COUNT(EvaluationReason.evaluation).desc(), Reason.title)
                .tuples())


def overdue_now(unit_ids=None, at=None):
    """Open problems past their current deadline."""
    from models import now
    query = Ticket.select().where(Ticket.status == "open", Ticket.due_at < (at or now()))
    if unit_ids is not None:
        query = query.where(Ticket.handling_unit.in_(list(unit_ids)))
    return query.count()


def on_time_rate(start=None, end=None, unit_ids=None):
    """Problems closed in the period with no stage ever late (no yellow card), as a share."""
    query = within(Ticket.select().where(Ticket.status == "closed", Ticket.merged_into.is_null(),
                                         Ticket.symposium.is_null()), Ticket.closed_at, start, end)
    if unit_ids is not None:
        query = query.where(Ticket.handling_unit.in_(list(unit_ids)))
    closed = query.count()
    on_time = query.where(~Ticket.supervised).count()
    return {"closed": closed, "on_time": on_time, "rate": on_time / closed if closed else None}
