"""Rating tallies: counts kept exact by the very transaction that stores or excludes a rating.

A province's year is a million ratings; the dashboard reads it from a few thousand RatingTally
rows instead. Not a cache and not a nightly job: the commission's figures must equal a recount at
every moment, right after an appeal excluded a rating included. `check()` proves it on demand
(`flask tallies check`), `rebuild()` recounts (the v14 upgrade, or after a restore by hand).

`counts()` answers "ratings per level, grouped by …" for any period: whole months from the
monthly rows, the part-months at either end from the evaluations themselves (indexed by time).
"""
import datetime
from collections import defaultdict

from peewee import EXCLUDED, fn

from app.db import compiled
from models import LEVELS, Evaluation, EvaluationReason, RatingTally, db

LEVEL_COLUMNS = tuple(level for level, _label in LEVELS)
KEY_COLUMNS = ("grain", "period", "unit", "subject", "channel")
MONTHLY_GRAINS = ("u", "w", "s", "r")


def month_of(day):
    return day.replace(day=1)


def _keys(unit_id, window_id, staff_id, channel, at, reason_ids):
    day = at.date() if isinstance(at, datetime.datetime) else at
    month = month_of(day)
    keys = [("u", month, unit_id, 0, channel), ("d", day, unit_id, 0, "")]
    if window_id:
        keys.append(("w", month, unit_id, window_id, ""))
    if staff_id:
        keys.append(("s", month, unit_id, staff_id, ""))
    keys.extend(("r", month, unit_id, reason_id, "") for reason_id in reason_ids)
    return keys


def _upsert_sql(n_rows):
    fields = [getattr(RatingTally, name) for name in KEY_COLUMNS + LEVEL_COLUMNS]
    query = RatingTally.insert_many([tuple(0 for _ in fields)] * n_rows, fields=fields).on_conflict(
        conflict_target=[getattr(RatingTally, name) for name in KEY_COLUMNS],
        update={getattr(RatingTally, name): getattr(RatingTally, name) + getattr(EXCLUDED, name)
                for name in LEVEL_COLUMNS})
    return query.sql()[0]


def count(unit_id, window_id, staff_id, channel, level, at, reason_ids=(), sign=1):
    """Add one rating (sign -1: take it away) to its tallies: one statement, in the caller's transaction."""
    levels = tuple(sign if name == level else 0 for name in LEVEL_COLUMNS)
    keys = _keys(unit_id, window_id, staff_id, channel, at, reason_ids)
    sql = compiled(("tally upsert", len(keys)), lambda: _upsert_sql(len(keys)))
    db.execute_sql(sql, [value for key in keys for value in key + levels])


def record(evaluation, reason_ids=()):
    """Count an evaluation just saved some other way than ratings.submit (the demo, an import)."""
    if not evaluation.excluded:
        count(evaluation.unit_id, evaluation.window_id, evaluation.staff_id, evaluation.channel, evaluation.level,
              evaluation.created_at, reason_ids)
    return evaluation


def exclude(evaluation_id):
    """Leave a rating out of the figures after an upheld appeal: its flag and its tallies at once.

    Conditional, so that excluding twice takes it away once.
    """
    changed = (Evaluation.update(excluded=True)
               .where(Evaluation.id == evaluation_id, Evaluation.excluded == False).execute())  # noqa: E712
    if changed:
        e = Evaluation.get_by_id(evaluation_id)
        reasons = [r for (r,) in EvaluationReason.select(EvaluationReason.reason)
                   .where(EvaluationReason.evaluation == evaluation_id).tuples()]
        count(e.unit_id, e.window_id, e.staff_id, e.channel, e.level, e.created_at, reasons, sign=-1)
    return bool(changed)


# --- recount -----------------------------------------------------------------------------------

def recount():
    """{key: levels} from the evaluations themselves, streamed: what the tallies must hold."""
    reasons = defaultdict(list)
    for evaluation_id, reason_id in (EvaluationReason.select(EvaluationReason.evaluation, EvaluationReason.reason)
                                     .tuples().iterator()):
        reasons[evaluation_id].append(reason_id)
    expected = defaultdict(lambda: [0] * len(LEVEL_COLUMNS))
    rows = (Evaluation.select(Evaluation.id, Evaluation.unit, Evaluation.window, Evaluation.staff, Evaluation.channel,
                              Evaluation.level, Evaluation.created_at)
            .where(Evaluation.excluded == False).tuples().iterator())  # noqa: E712
    for evaluation_id, unit_id, window_id, staff_id, channel, level, at in rows:
        for key in _keys(unit_id, window_id, staff_id, channel, at, reasons.get(evaluation_id, ())):
            expected[key][LEVEL_COLUMNS.index(level)] += 1
    return {key: tuple(levels) for key, levels in expected.items()}


def stored():
    """{key: levels} as the tallies hold them, rows counting nothing left out."""
    columns = [getattr(RatingTally, name) for name in KEY_COLUMNS + LEVEL_COLUMNS]
    out = {}
    for row in RatingTally.select(*columns).tuples().iterator():
        key, levels = row[:len(KEY_COLUMNS)], tuple(row[len(KEY_COLUMNS):])
        if any(levels):
            out[_plain_key(key)] = levels
    return out


def _plain_key(key):
    grain, period, *rest = key
    return (grain, _as_date(period), *rest)


def check():
    """The keys whose tallies differ from a recount: [] when the figures are exact."""
    expected, have = recount(), stored()
    return sorted((key for key in expected.keys() | have.keys() if expected.get(key) != have.get(key)),
                  key=lambda k: (k[0], k[1], k[2], k[3], k[4]))


def rebuild():
    """Throw the tallies away and count them again from the evaluations, in one transaction."""
    expected = recount()
    with db.atomic():
        RatingTally.delete().execute()
        rows = [key + levels for key, levels in expected.items()]
        fields = [getattr(RatingTally, name) for name in KEY_COLUMNS + LEVEL_COLUMNS]
        for i in range(0, len(rows), 500):
            RatingTally.insert_many(rows[i:i + 500], fields=fields).execute()
    return len(expected)


# --- reading -----------------------------------------------------------------------------------

# A dimension: (grain it needs or None for any monthly one, tally column, the evaluation's own column).
def _dims():
    return {"unit": ("u", RatingTally.unit, Evaluation.unit),
            "channel": ("u", RatingTally.channel, Evaluation.channel),
            "window": ("w", RatingTally.subject, Evaluation.window),
            "staff": ("s", RatingTally.subject, Evaluation.staff),
            "reason": ("r", RatingTally.subject, EvaluationReason.reason),
            "month": (None, RatingTally.period, None),
            "day": ("d", RatingTally.period, None)}


def _whole_months(start, end):
    """(first, after) of the whole months inside [start, end); None for an open side."""
    first = start if start is None or start.day == 1 else month_of(start + datetime.timedelta(days=32 - start.day))
    after = None if end is None else month_of(end)
    return first, after


def counts(start=None, end=None, unit_ids=None, by=()):
    """{key tuple: {level: n}} of the ratings in [start, end) (dates, either None) in the given units.

    `by`: a tuple of "unit", "channel", "window", "staff", "reason", "month" (a date, the month's
    first day) or "day" (a date; alone). () gives one key, ().
    """
    dims = _dims()
    grains = {dims[d][0] for d in by} - {None}
    if len(grains) > 1:
        raise ValueError(f"cannot group ratings by {by} together")
    grain = grains.pop() if grains else "u"
    out = defaultdict(lambda: dict.fromkeys(LEVEL_COLUMNS, 0))
    if grain == "d":
        _add_tallies(out, grain, by, start, end, unit_ids)
        return dict(out)
    first, after = _whole_months(start, end)
    if first is not None and after is not None and first >= after:  # no whole month inside
        _add_raw(out, by, start, end, unit_ids)
        return dict(out)
    _add_tallies(out, grain, by, first, after, unit_ids)
    if start is not None and start < first:
        _add_raw(out, by, start, first, unit_ids)
    if end is not None and after < end:
        _add_raw(out, by, after, end, unit_ids)
    return dict(out)


def last_day(start=None, end=None, unit_ids=None):
    """The last day in [start, end) with a rating counted, or None."""
    query = RatingTally.select(fn.MAX(RatingTally.period)).where(RatingTally.grain == "d")
    if start is not None:
        query = query.where(RatingTally.period >= start)
    if end is not None:
        query = query.where(RatingTally.period < end)
    if unit_ids is not None:
        query = query.where(RatingTally.unit.in_(list(unit_ids)))
    found = query.scalar()
    return _as_date(found) if found is not None else None


def _add_tallies(out, grain, by, first, after, unit_ids):
    dims = _dims()
    keys = [dims[d][1] for d in by]
    sums = [fn.SUM(getattr(RatingTally, name)) for name in LEVEL_COLUMNS]
    query = RatingTally.select(*keys, *sums).where(RatingTally.grain == grain)
    if first is not None:
        query = query.where(RatingTally.period >= first)
    if after is not None:
        query = query.where(RatingTally.period < after)
    if unit_ids is not None:
        query = query.where(RatingTally.unit.in_(list(unit_ids)))
    if keys:
        query = query.group_by(*keys)
    for row in query.tuples():
        key = tuple(_as_date(v) if d in ("month", "day") else v for d, v in zip(by, row))
        levels = out[key]
        for name, n in zip(LEVEL_COLUMNS, row[len(keys):]):
            levels[name] += int(n or 0)


def _add_raw(out, by, start, end, unit_ids):
    from app.figures import within
    dims = _dims()
    columns = []
    for d in by:
        columns.append(fn.DATE(Evaluation.created_at) if d in ("month", "day") else dims[d][2])
    query = Evaluation.select(*columns, Evaluation.level, fn.COUNT(Evaluation.id)).where(
        Evaluation.excluded == False)  # noqa: E712
    if "reason" in by:
        query = query.join(EvaluationReason)
    query = within(query, Evaluation.created_at, start, end)
    if unit_ids is not None:
        query = query.where(Evaluation.unit.in_(list(unit_ids)))
    for row in query.group_by(*columns, Evaluation.level).tuples():
        *values, level, n = row
        if None in values:  # no window, no officer: nothing to group under
            continue
        key = tuple(month_of(_as_date(v)) if d == "month" else _as_date(v) if d == "day" else v
                    for d, v in zip(by, values))
        out[key][level] += n


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])
