"""The evaluations list at a million rows: counted from the tallies, paged by seeking, not by OFFSET.

Flask-Admin counts a list by wrapping its whole joined query in a subquery, and reaches page p by
OFFSET p × size: page 5,000 of a province's million ratings makes the database step through a
quarter of them, with their joins. The rating tallies (app.tallies) already hold, exactly, how many
ratings each unit had each month and each day; they leave out only the few excluded after an
appeal, which a partial index finds. Their sums give the count, then the month and the day on which
a page begins, so that the page is read from that day with an OFFSET smaller than one day's ratings.

A list the tallies cannot answer (a search, a window filter, another sort) is counted by one
COUNT(*) on the evaluation table alone and paged by a deferred join: the page's ids first, from the
evaluation table's own indexes and from whichever end of the list is nearer, then those rows with
their joins.
"""
import datetime
import functools
import operator

from peewee import SQL, fn

from app.tallies import LEVEL_COLUMNS, as_date, in_period, month_of, next_month, split
from models import Evaluation, RatingTally

DAY = datetime.timedelta(days=1)

# A list this short is counted and paged row by row: as cheap as the tallies, and exact even for
# ratings written without tallies.record (an import by hand, a test's Evaluation.create).
EXACT_BELOW = 5000


def count(narrow):
    """SELECT COUNT(*) FROM evaluation WHERE <the list's conditions>: no joins, no subquery around it."""
    return narrow(Evaluation.select(fn.COUNT(SQL("*")))).scalar()


def ordering(field, desc):
    """`field` then the id, the same way round: ties come in one order on every page."""
    return (field.desc(), Evaluation.id.desc()) if desc else (field.asc(), Evaluation.id.asc())


def page_ids(narrow, field, desc, offset, limit, total=None):
    """The ids of one page sorted by an evaluation column, read from the evaluation table alone.

    Past the middle of a list whose length is known, read from the far end and turn the page
    round: the last page costs what the first does.
    """
    if total is not None and offset >= total:
        return []
    query = narrow(Evaluation.select(Evaluation.id))
    if total is not None and total - offset - limit < offset:
        query = query.order_by(*ordering(field, not desc)).limit(min(limit, total - offset))
        return [i for (i,) in query.offset(max(total - offset - limit, 0)).tuples()][::-1]
    return [i for (i,) in query.order_by(*ordering(field, desc)).limit(limit).offset(offset).tuples()]


class Timeline:
    """A list's ratings per month from the tallies (per day where a period filter cuts a month).

    The list is described twice, and both must agree: units (None: all), levels and the days
    between first_day and last_day for the tallies and the excluded ratings; narrow(query), which
    adds the list's own conditions (scope, filters) to a query of evaluations, for the rest. The
    days a period filter starts and ends on are counted row by row: it may cut them at any hour.
    """

    def __init__(self, narrow, units=None, levels=LEVEL_COLUMNS, first_day=None, last_day=None):
        self.narrow, self.units = narrow, units
        self.levels = [level for level in LEVEL_COLUMNS if level in levels]
        # All of them from their partial index, sorted out here: given a unit or a level, SQLite
        # would rather read every rating of the unit or of the level to find its few excluded ones.
        excluded = Evaluation.select(Evaluation.created_at, Evaluation.unit, Evaluation.level)
        self.excluded = [as_date(at) for at, unit, level in excluded.where(Evaluation.excluded).tuples()
                         if (units is None or unit in units) and level in self.levels]
        lo = first_day + DAY if first_day else None  # the days in between, [lo, hi), come from the tallies
        hi = last_day
        counts = {}  # a month's or a day's first day -> [the day after it, ratings]
        if lo is None or hi is None or lo < hi:
            whole, parts = split(lo, hi)
            if whole is not None:
                for month, n in self._tallies("u", *whole):
                    counts[month] = [next_month(month), n]
            whole_from, whole_to = whole if whole is not None else (hi, hi)  # none: no month counts as whole
            for start, end in parts:
                for day, n in self._tallies("d", start, end):
                    counts[day] = [day + DAY, n]
            for day in self.excluded:
                if (lo is None or day >= lo) and (hi is None or day < hi):
                    month = month_of(day)
                    whole = (whole_from is None or month >= whole_from) and (whole_to is None or month < whole_to)
                    key = month if whole else day
                    counts.setdefault(key, [next_month(month) if whole else day + DAY, 0])[1] += 1
        for day in {first_day, last_day} - {None}:
            counts[day] = [day + DAY, self._rows_between(day, day + DAY)]
        self.buckets = sorted((first, after, n) for first, (after, n) in counts.items() if n)
        self.total = sum(n for _first, _after, n in self.buckets)

    def page_ids(self, offset, limit, desc):
        """The ids of rows offset … offset + limit - 1 by time (newest first when desc), ties by id."""
        if offset >= self.total or limit <= 0:
            return []
        buckets = self.buckets[::-1] if desc else self.buckets
        start, skip = _locate(buckets, offset)
        end, _skip = _locate(buckets, min(offset + limit, self.total) - 1)
        first, after, _n = buckets[start]
        if skip and after - first > DAY:  # inside a month: find the day
            days = self._days(first, after)[::-1 if desc else 1]
            day, within = _locate(days, skip)
            if day is not None:
                (first, after, _n), skip = days[day], within
        low, high = (buckets[end][0], after) if desc else (first, buckets[end][1])
        query = (self.narrow(Evaluation.select(Evaluation.id))
                 .where(Evaluation.created_at >= _midnight(low), Evaluation.created_at < _midnight(high))
                 .order_by(*ordering(Evaluation.created_at, desc)).limit(limit).offset(skip))
        return [i for (i,) in query.tuples()]

    def _tallies(self, grain, start, end):
        """[(period, ratings)] of the monthly ("u") or daily ("d") tallies in [start, end)."""
        if not self.levels or (self.units is not None and not self.units):
            return []
        rated = functools.reduce(operator.add, (getattr(RatingTally, level) for level in self.levels))
        # subject is always 0 in these grains; said all the same, as the key's fourth column.
        query = in_period(RatingTally.select(RatingTally.period, fn.SUM(rated)).where(
            RatingTally.grain == grain, RatingTally.subject == 0), RatingTally, start, end,
            sorted(self.units) if self.units is not None else None)
        return [(as_date(period), int(n)) for period, n in query.group_by(RatingTally.period).tuples() if n]

    def _days(self, first, after):
        """[(day, day after, ratings)] of one whole month: its daily tallies and its excluded ratings."""
        counts = dict(self._tallies("d", first, after))
        for day in self.excluded:
            if first <= day < after:
                counts[day] = counts.get(day, 0) + 1
        return sorted((day, day + DAY, n) for day, n in counts.items() if n)

    def _rows_between(self, first, after):
        query = self.narrow(Evaluation.select(fn.COUNT(SQL("*"))))
        return query.where(Evaluation.created_at >= _midnight(first), Evaluation.created_at < _midnight(after)).scalar()


def _locate(buckets, index):
    """(position of the bucket holding the index-th row, rows of that bucket before it); None past the end."""
    for position, (_first, _after, n) in enumerate(buckets):
        if index < n:
            return position, index
        index -= n
    return None, index


def _midnight(day):
    return datetime.datetime.combine(day, datetime.time.min)
