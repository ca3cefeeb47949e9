"""The article's figures, for any period and any set of units: one definition for every screen.

- collected: evaluations plus messages received in the period;
- satisfaction rate: 好评 (满意, 非常满意) ÷ all evaluations, ratings excluded after an appeal left out;
- accepted: problems registered in the period (a symposium's list is counted apart, as the article does);
- solved / explained: problems closed in the period, by how they were closed;
- open: problems registered before the period's end and not closed by then.
"""
import datetime

from peewee import SQL, Case, fn

from app import scales, tallies, ticket_tallies
from app.left_out import left_out, not_about_left_out
from app.periods import within
from models import Message, Ticket


def grades(start=None, end=None, unit_ids=None):
    """{good, neutral, bad} of the evaluations in [start, end)."""
    return scales.grade_counts(tallies.counts(start, end, unit_ids).get((), {}))


def problems(start=None, end=None, unit_ids=None, symposium=False):
    """{accepted, solved, explained, open, closed, closed_on_time} for problems in [start, end)."""
    base = not_about_left_out(Ticket.select().where(Ticket.symposium.is_null(not symposium),
                                                    Ticket.merged_into.is_null()), Ticket.staff)
    if unit_ids is not None:
        base = base.where(Ticket.handling_unit.in_(list(unit_ids)))
    accepted = by_months(
        start, end, lambda first, after: {"n": ticket_tallies.sums("a", first, after, unit_ids, symposium)["n"]},
        lambda lo, hi: {"n": within(base, Ticket.created_at, lo, hi).count()})["n"]
    closing = closed_problems(start, end, unit_ids, symposium)
    still_open = base.where(Ticket.status == "open")
    if end is not None:
        cut = datetime.datetime.combine(end, datetime.time())
        still_open = base.where(Ticket.created_at < cut,
                                (Ticket.status == "open") | (Ticket.closed_at >= cut))
    return {"accepted": accepted, "solved": closing["solved"], "explained": closing["explained"],
            "closed": closing["closed"], "closed_on_time": closing["on_time"],
            "open": still_open.count()}


def by_months(start, end, tallied, raw):
    """{name: n} for [start, end): tallied(first, after) over its whole months, raw(lo, hi) over the rest.

    The problem tallies count by month; a period that starts or ends within a month has those
    days counted from the tickets themselves, through the indexes on their times.
    """
    whole, edges = tallies.split(start, end) if left_out() is None else (None, [(start, end)])
    parts = ([tallied(*whole)] if whole is not None else []) + [raw(lo, hi) for lo, hi in edges]
    return {name: sum(part[name] for part in parts) for name in parts[0]}


def count_where(condition):
    """SQL counting the rows that meet `condition`, beside other counts in one pass."""
    return fn.SUM(Case(None, ((condition, 1),), 0))


def closed_problems(start=None, end=None, unit_ids=None, symposium=False):
    """{closed, solved, explained, on_time} of the problems closed in [start, end)."""

    def tallied(first, after):
        counted = ticket_tallies.sums("c", first, after, unit_ids, symposium)
        return {"closed": counted["n"], "solved": counted["solved"], "explained": counted["explained"],
                "on_time": counted["on_time"]}

    return by_months(start, end, tallied, lambda lo, hi: _closed_in(lo, hi, unit_ids, symposium))


def _closed_in(start, end, unit_ids, symposium):
    """closed_problems() from the tickets: one pass over one index (closed_at first), summed.

    Not grouped: a GROUP BY would sort them all to count three kinds. COUNT(*), not COUNT(id):
    PostgreSQL would fetch every row for an id the index lacks.
    """
    query = within(Ticket.select(fn.COUNT(SQL("*")), count_where(Ticket.closing_kind == "solved"),
                                 count_where(Ticket.closing_kind == "explained"), count_where(~Ticket.supervised))
                   .where(Ticket.status == "closed", Ticket.symposium.is_null(not symposium),
                          Ticket.merged_into.is_null()), Ticket.closed_at, start, end)
    if unit_ids is not None:
        query = query.where(Ticket.handling_unit.in_(list(unit_ids)))
    query = not_about_left_out(query, Ticket.staff)
    closed, solved, explained, on_time = (int(n or 0) for n in query.tuples()[0])
    return {"closed": closed, "solved": solved, "explained": explained, "on_time": on_time}


def headline(start=None, end=None, unit_ids=None):
    """The home page's and the report's figures."""
    counted = grades(start, end, unit_ids)
    n_evaluations = sum(counted.values())
    messages = within(Message.select(), Message.created_at, start, end)
    if unit_ids is not None:
        messages = messages.where(Message.unit.in_(list(unit_ids)))
    n_messages = messages.count()
    figures = {
        "collected": n_evaluations + n_messages, "evaluations": n_evaluations, "messages": n_messages,
        "good": counted[scales.GOOD], "neutral": counted[scales.NEUTRAL], "bad": counted[scales.BAD],
        "satisfaction_rate": counted[scales.GOOD] / n_evaluations if n_evaluations else None,
    }
    figures.update(problems(start, end, unit_ids))
    return figures
