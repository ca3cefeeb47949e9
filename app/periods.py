"""The days and months every figure, list and report is counted over (below figures and tallies)."""
import datetime


# The days any figure, list or report may be asked about: the working calendar's years. A date typed
# beyond them (9999-12-31) would overflow the day after it, and no record lies there.
FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2100, 12, 31)


def month_bounds(year, month):
    """[first day, first day of the next month)."""
    return datetime.date(year, month, 1), datetime.date(year + (month == 12), month % 12 + 1, 1)


def month_before(year, month):
    """(year, month) of the month before."""
    return (year, month - 1) if month > 1 else (year - 1, 12)


def within(query, column, start, end):
    """The rows of `query` whose `column` falls in [start, end) (dates; either may be None)."""
    if start is not None:
        query = query.where(column >= datetime.datetime.combine(start, datetime.time()))
    if end is not None:
        query = query.where(column < datetime.datetime.combine(end, datetime.time()))
    return query
