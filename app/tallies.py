"""Rating tallies: counts kept exact by the very transaction that stores or excludes a rating.

A province's year is a million ratings; the dashboard reads it from a few thousand RatingTally
rows instead. Not a cache and not a nightly job: the commission's figures must equal a recount at
every moment, right after an appeal excluded a rating included. `check()` proves it on demand
(`flask tallies check`), `rebuild()` recounts (the v14 upgrade, or after a restore by hand).

`counts()` answers "ratings per level, grouped by …" for any period: whole months from the
monthly and yearly rows, the part-months at either end from the evaluations themselves (indexed
by time).
"""
import datetime
from collections import defaultdict

from peewee import EXCLUDED, PostgresqlDatabase, fn

from app.db import compiled
from app.left_out import left_out, not_about_left_out
from app.periods import month_bounds, within
from models import LEVELS, Evaluation, EvaluationReason, RatingTally, Ticket, db

LEVEL_COLUMNS = tuple(level for level, _label in LEVELS)
KEY_COLUMNS = ("grain", "period", "unit", "subject", "channel")
MONTHLY_GRAINS = ("u", "w", "s", "r")
# Each monthly grain's twin by calendar year (period: 1 January). A ranking of the last twelve
# months reads one month and one year of each officer, not twelve months: see _plan().
YEARLY = {grain: grain.upper() for grain in MONTHLY_GRAINS}


def month_of(day):
    return day.replace(day=1)


def next_month(day):
    """The first day of the month after `day`'s."""
    return month_bounds(day.year, day.month)[1]


def year_of(day):
    return day.replace(month=1, day=1)


def _keys(unit_id, window_id, staff_id, channel, at, reason_ids):
    """The rows one rating counts in: its day, and its month and its year in each monthly grain."""
    day = at.date() if isinstance(at, datetime.datetime) else at
    month = month_of(day)
    keys = [("u", month, unit_id, 0, channel), ("d", day, unit_id, 0, "")]
    if window_id:
        keys.append(("w", month, unit_id, window_id, ""))
    if staff_id:
        keys.append(("s", month, unit_id, staff_id, ""))
    keys.extend(("r", month, unit_id, reason_id, "") for reason_id in reason_ids)
    year = year_of(day)
    keys.extend([(YEARLY[grain], year, *rest) for grain, _month, *rest in keys if grain in YEARLY])
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
    """Leave a rating out of the figures after an upheld appeal: its flag, its tallies, its ticket's mark.

    Conditional, so that excluding twice takes it away once.
    """
    changed = (Evaluation.update(excluded=True)
               .where(Evaluation.id == evaluation_id, Evaluation.excluded == False).execute())  # noqa: E712
    if changed:
        Ticket.update(bad_rating=False).where(Ticket.evaluation == evaluation_id).execute()
        e = Evaluation.get_by_id(evaluation_id)
        reasons = [r for (r,) in EvaluationReason.select(EvaluationReason.reason)
                   .where(EvaluationReason.evaluation == evaluation_id).tuples()]
        count(e.unit_id, e.window_id, e.staff_id, e.channel, e.level, e.created_at, reasons, sign=-1)
    return bool(changed)


def cover_key():
    """On PostgreSQL, the key's index carries the counts too, so that a period is read from it alone.

    A tally row is updated by every rating; its new version lands wherever the heap has room, and
    a year's rows of one grain end up on a page each (PostgreSQL has no WITHOUT ROWID). With the
    counts INCLUDEd in the primary key the dashboard reads them in key order, index only: 73 ms
    for the province's dashboard instead of 113 on a scattered table. An update of the counts was
    already no HOT update (the pages are full), so a rating writes no more than before.
    """
    if not isinstance(db.obj, PostgresqlDatabase):
        return False
    table = RatingTally._meta.table_name
    covered = db.execute_sql("SELECT i.indnatts > i.indnkeyatts FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                             "WHERE c.relname = %s", (f"{table}_pkey",)).fetchone()
    if covered and covered[0]:
        return False
    keys, counts = (", ".join(f'"{name}"' for name in names) for names in (KEY_COLUMNS, LEVEL_COLUMNS))
    db.execute_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{table}_pkey", '
                   f'ADD CONSTRAINT "{table}_pkey" PRIMARY KEY ({keys}) INCLUDE ({counts})')
    return True


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
    return (grain, as_date(period), *rest)


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
        rows = sorted(key + levels for key, levels in expected.items())  # a period's rows side by side
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


def counts(start=None, end=None, unit_ids=None, by=()):
    """{key tuple: {level: n}} of the ratings in [start, end) (dates, either None) in the given units.

    `by`: a tuple of "unit", "channel", "window", "staff", "reason", "month" (a date, the month's
    first day) or "day" (a date; alone). () gives one key, ().
    """
    return {key: dict(zip(LEVEL_COLUMNS, levels)) for key, levels in _counted(start, end, unit_ids, by).items()}


EACH_LEVEL = tuple((level,) for level in LEVEL_COLUMNS)


def grade_totals(start=None, end=None, unit_ids=None, by=()):
    """{key tuple: (good, neutral, bad)}: counts() summed by grade, for the thousands of officers a
    ranking weighs, without a dictionary each."""
    from app import scales
    grades = (scales.GOOD_LEVELS, scales.NEUTRAL_LEVELS, scales.BAD_LEVELS)  # summed by SQL
    return {key: tuple(n) for key, n in _counted(start, end, unit_ids, by, grades).items()}


def _counted(start, end, unit_ids, by, sums=EACH_LEVEL):
    """{key: [n per group of levels in `sums`]} (by default one group per level, in LEVEL_COLUMNS order)."""
    dims = _dims()
    grains = {dims[d][0] for d in by} - {None}
    if len(grains) > 1:
        raise ValueError(f"cannot group ratings by {by} together")
    grain = grains.pop() if grains else "u"
    out = {}
    if left_out() is not None:
        # The tallies do not split a unit's ratings by officer: the units the officer left out was
        # rated in are counted from the rows without him, every other unit from the tallies.
        rated_in = {u for (u,) in Evaluation.select(Evaluation.unit).where(  # by the index on staff
            Evaluation.staff == left_out()).distinct().tuples()}
        own = rated_in if unit_ids is None else rated_in & set(unit_ids)
        if own:
            from models import Unit
            others = ({u for (u,) in Unit.select(Unit.id).tuples()} if unit_ids is None else set(unit_ids)) - own
            if others:
                _from_tallies(out, grain, by, start, end, others, sums)
            _add_raw(out, by, start, end, own, sums)
            return out
    return _from_tallies(out, grain, by, start, end, unit_ids, sums)


def _from_tallies(out, grain, by, start, end, unit_ids, sums):
    """`out` filled from the tallies: whole months from theirs, the days around them from the ratings."""
    if grain == "d":
        _add_tallies(out, grain, by, start, end, unit_ids, sums)
        return out
    whole, edges = split(start, end)
    if whole is not None:
        _add_tallies(out, grain, by, *whole, unit_ids, sums)
    for lo, hi in edges:
        _add_raw(out, by, lo, hi, unit_ids, sums)
    return out


def split(start, end):
    """((first, after) of the whole months inside [start, end) or None if none, [(lo, hi) days around them]).

    Monthly tallies answer the whole months; the days before and after them are counted from the
    rows themselves, by the index on their time. A None bound is open on that side.
    """
    first = start if start is None or start.day == 1 else next_month(start)
    after = None if end is None else month_of(end)
    if first is not None and after is not None and first >= after:
        return None, [(start, end)]
    edges = [(lo, hi) for lo, hi in ((start, first), (after, end)) if lo is not None and hi is not None and lo < hi]
    return (first, after), edges


def in_period(query, model, start, end, unit_ids=None):
    """`query` of tally rows (`model`) whose period is in [start, end) and unit among unit_ids (None: any)."""
    if start is not None:
        query = query.where(model.period >= start)
    if end is not None:
        query = query.where(model.period < end)
    if unit_ids is not None:
        query = query.where(model.unit.in_(list(unit_ids)))
    return query


def last_day(start=None, end=None, unit_ids=None):
    """The last day in [start, end) with a rating counted, or None."""
    if left_out() is not None:
        found = within(not_about_left_out(Evaluation.select(fn.MAX(Evaluation.created_at)).where(
            Evaluation.excluded == False), Evaluation.staff), Evaluation.created_at, start, end)  # noqa: E712
        if unit_ids is not None:
            found = found.where(Evaluation.unit.in_(list(unit_ids)))
        found = found.scalar()
        return as_date(found) if found is not None else None
    found = in_period(RatingTally.select(fn.MAX(RatingTally.period)).where(RatingTally.grain == "d"),
                      RatingTally, start, end, unit_ids).scalar()
    return as_date(found) if found is not None else None


def _next_year(day):
    return day.replace(year=day.year + 1, month=1, day=1)


def _months_between(a, b):
    return (b.year - a.year) * 12 + b.month - a.month


def _plan(first, after):
    """[(yearly?, lo, hi, sign)]: the whole months [first, after) as years and months to add or take away.

    A year whose months are mostly inside is read as its year row less the months outside;
    the others as their months. Either bound None: open on that side.
    """
    if first is not None and after is not None and after <= _next_year(first):  # inside one year
        year = year_of(first)
        inside = _months_between(first, after)
        parts = [(False, first, after, 1)] if inside <= 12 - inside else [
            (True, year, _next_year(year), 1), (False, year, first, -1), (False, after, _next_year(year), -1)]
        return [p for p in parts if p[1] < p[2]]
    parts = []
    # The first, partly covered year: its months, or its year less the months before `first`.
    if first is not None and first.month != 1:
        year = year_of(first)
        inside = 12 - (first.month - 1)
        if inside <= 12 - inside:
            parts.append((False, first, _next_year(year), 1))
        else:
            parts += [(True, year, _next_year(year), 1), (False, year, first, -1)]
        years_from = _next_year(year)
    else:
        years_from = first
    # The last, partly covered year likewise; the whole years between read as years.
    if after is not None and after.month != 1:
        year = year_of(after)
        inside = after.month - 1
        parts.append((True, years_from, year, 1))
        if inside <= 12 - inside:
            parts.append((False, year, after, 1))
        else:
            parts += [(True, year, _next_year(year), 1), (False, after, _next_year(year), -1)]
    else:
        parts.append((True, years_from, after, 1))
    return [p for p in parts if p[1] is None or p[2] is None or p[1] < p[2]]


def _add_tallies(out, grain, by, first, after, unit_ids, sums):
    if grain in YEARLY and "month" not in by:
        parts = [(YEARLY[grain] if yearly else grain, lo, hi, sign) for yearly, lo, hi, sign in _plan(first, after)]
    else:
        parts = [(grain, first, after, 1)]
    if parts:
        _add_rows(out, by, parts, unit_ids, sums)


def _add_rows(out, by, parts, unit_ids, sums):
    """Sum the tallies of each (grain, lo, hi, sign) part into `out`, in one statement.

    Written as SQL text, UNION ALL of the parts under one GROUP BY: a ranking gets each officer
    once, not once per part, and Python handles a row per officer and not more.
    """
    mark = db.obj.param
    keys = ", ".join(f'"{_dims()[d][1].column_name}"' for d in by)
    texts, params = [], []
    for grain, lo, hi, sign in parts:
        where = ['"grain" = ' + mark]
        params.append(grain)
        for op, bound in ((">=", lo), ("<", hi)):
            if bound is not None:
                where.append(f'"period" {op} {mark}')
                params.append(str(bound))
        if unit_ids is not None:
            units = list(unit_ids) or [0]
            where.append(f'"unit" IN ({", ".join([mark] * len(units))})')
            params.extend(units)
        groups = ", ".join(f"{sign} * ({' + '.join(_quoted(level) for level in group)}) AS n{i}"
                           for i, group in enumerate(sums))
        texts.append(f'SELECT {keys + ", " if keys else ""}{groups} FROM "rating_tally" WHERE {" AND ".join(where)}')
    totals = ", ".join(f"SUM(n{i})" for i in range(len(sums)))
    sql = (f'SELECT {keys + ", " if keys else ""}{totals} FROM ({" UNION ALL ".join(texts)}) AS parts'
           + (f" GROUP BY {keys}" if keys else ""))
    dated = [i for i, d in enumerate(by) if d in ("month", "day")]
    width = len(by)
    for row in db.execute_sql(sql, params).fetchall():
        key = row[:width]
        if dated:
            key = tuple(as_date(v) if i in dated else v for i, v in enumerate(key))
        out[key] = [int(n or 0) for n in row[width:]]  # the first rows read: the part-months come after


def _quoted(column):
    return f'"{column}"'


def _add_raw(out, by, start, end, unit_ids, sums):
    dims = _dims()
    columns = []
    for d in by:
        columns.append(fn.DATE(Evaluation.created_at) if d in ("month", "day") else dims[d][2])
    query = Evaluation.select(*columns, Evaluation.level, fn.COUNT(Evaluation.id)).where(
        Evaluation.excluded == False)  # noqa: E712
    if "reason" in by:
        query = query.join(EvaluationReason)
    query = not_about_left_out(within(query, Evaluation.created_at, start, end), Evaluation.staff)
    if unit_ids is not None:
        query = query.where(Evaluation.unit.in_(list(unit_ids)))
    for row in query.group_by(*columns, Evaluation.level).tuples():
        *values, level, n = row
        if None in values:  # no window, no officer: nothing to group under
            continue
        key = tuple(month_of(as_date(v)) if d == "month" else as_date(v) if d == "day" else v
                    for d, v in zip(by, values))
        counted = out.setdefault(key, [0] * len(sums))
        for i, group in enumerate(sums):
            if level in group:
                counted[i] += n


def as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])
