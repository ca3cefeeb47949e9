"""The supervision dashboard's figures beyond the headline: national indicators, rankings, trends.

Every function takes a period [start, end) (dates, either may be None) and the units an officer
may see (None: the whole county), so that a unit's handler and the commission read the same
definitions over different rows.
"""
import datetime
import heapq

from app import figures, scales, tallies, ticket_tallies
from app.figures import count_where
from app.left_out import not_about_left_out
from app.periods import within
from models import CHANNELS, Reason, Staff, Ticket, Unit, Window, db

MIN_SAMPLE = 10  # ratings before a unit, window or officer is ranked: one vote ranks nobody


def national(start=None, end=None, unit_ids=None, headline=None):
    """政务服务“好差评” indicators: 差评率, 整改率, 回访率, 回访满意度.

    `headline`: the period's figures.headline(), which counted the ratings already.
    """
    if headline is None:
        headline = figures.grades(start, end, unit_ids)
    total, n_bad = headline[scales.GOOD] + headline[scales.NEUTRAL] + headline[scales.BAD], headline[scales.BAD]

    def tallied(first, after):
        counted = ticket_tallies.sums("b", first, after, unit_ids)
        return {name: counted[name] for name in ("rectified", "revisited", "pleased")}

    followed = figures.by_months(start, end, tallied, lambda lo, hi: _bad_rating_follow_up(lo, hi, unit_ids))
    rectified, n_revisited, pleased = followed["rectified"], followed["revisited"], followed["pleased"]
    return {"bad": n_bad, "total": total, "bad_rate": n_bad / total if total else None,
            "rectified": rectified, "rectify_rate": rectified / n_bad if n_bad else None,
            "revisited": n_revisited, "revisit_rate": n_revisited / n_bad if n_bad else None,
            "revisit_pleased": pleased, "revisit_satisfaction": pleased / n_revisited if n_revisited else None}


def _bad_rating_follow_up(start, end, unit_ids):
    """{rectified, revisited, pleased} of the 差评 tickets of [start, end), from the tickets themselves."""
    closed_well = (Ticket.status == "closed") & (Ticket.closing_kind.in_(ticket_tallies.SETTLED)
                                                 | Ticket.settled_as.in_(ticket_tallies.SETTLED))
    pleased = Ticket.grade.in_(ticket_tallies.PLEASED)
    return dict(zip(("rectified", "revisited", "pleased"), (int(n or 0) for n in _bad_rating_tickets(
        start, end, unit_ids).select(count_where(closed_well), count_where(Ticket.grade.is_null(False)),
                                     count_where(pleased)).tuples()[0])))


def _bad_rating_tickets(start, end, unit_ids):
    """Tickets opened for the period's 差评 that an appeal did not exclude (Ticket.bad_rating).

    A rating's ticket carries the rating's unit and time (it is received when the rating was),
    so the period and the units are the ticket's own, read from one small partial index.
    """
    query = not_about_left_out(within(Ticket.select().where(Ticket.bad_rating), Ticket.created_at,
                                              start, end), Ticket.staff)
    if unit_ids is not None:
        query = query.where(Ticket.unit.in_(list(unit_ids)))
    return query


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
    per_month = tallies.counts(start, end, {unit_id for unit_id, _month, _n in rows}, by=("unit", "month"))
    ratings = sum(sum(per_month.get((unit_id, month), {}).values()) for unit_id, month, _n in rows)
    return {"cases": cases, "ratings": ratings, "rate": ratings / cases}


def rankings(start=None, end=None, unit_ids=None, by="unit", minimum=MIN_SAMPLE, top=None):
    """Rows {id, name, total, good, bad, rate} per unit, window or officer, best rate first.

    Those with fewer than `minimum` ratings are left out of the ranking (returned apart).
    `top`: only the first `top` of "ranked" and of "most_bad" are wanted (the dashboard shows ten
    of a province's 2,880 officers): names are read and rows sorted for those alone, and
    "too_few" is not listed.
    """
    model = {"unit": Unit, "window": Window, "staff": Staff}[by]
    counts = {key: (good, bad, good + neutral + bad)
              for (key,), (good, neutral, bad) in tallies.grade_totals(start, end, unit_ids, by=(by,)).items()
              if good + neutral + bad}
    ranked_keys = [key for key, (_good, _bad, total) in counts.items() if total >= minimum]
    bad_keys = [key for key, (_good, bad, _total) in counts.items() if bad]

    def rate_order(key):
        good, _bad, total = counts[key]
        return -good / total, -total

    def bad_order(key):
        return -counts[key][1]

    if top is not None:  # the leaders and those tied with the last of them: names decide among equals
        ranked_keys, bad_keys = _leaders(ranked_keys, rate_order, top), _leaders(bad_keys, bad_order, top)
        wanted = set(ranked_keys) | set(bad_keys)
        names = dict(model.select(model.id, model.name).where(model.id.in_(list(wanted))).tuples()) if wanted else {}
    elif counts:  # all of them, through the driver: cheaper than an IN () of thousands
        sql, params = model.select(model.id, model.name).sql()
        names = dict(db.execute_sql(sql, params).fetchall())
    else:
        names = {}

    def row(key):
        good, bad, total = counts[key]
        return {"id": key, "name": names.get(key, str(key)), "total": total, "good": good, "bad": bad,
                "rate": good / total}

    ranked = sorted((row(k) for k in ranked_keys), key=lambda r: (-r["rate"], -r["total"], r["name"]))
    most_bad = sorted((row(k) for k in bad_keys), key=lambda r: (-r["bad"], r["name"]))
    if top is not None:
        return {"ranked": ranked[:top], "most_bad": most_bad[:top], "too_few": []}
    return {"ranked": ranked, "most_bad": most_bad,
            "too_few": sorted((row(k) for k, (_g, _b, total) in counts.items() if total < minimum),
                              key=lambda r: r["name"])}


def _leaders(keys, order, top):
    """The `top` first keys by `order`, with every key tied with the last of them."""
    if len(keys) <= top:
        return keys
    cut = order(heapq.nsmallest(top, keys, key=order)[-1])
    return [key for key in keys if order(key) <= cut]


def _trend(per):
    """[(key, total, good, bad, rate)] in key order, periods with no rating left out."""
    rows = []
    for key, levels in sorted(per.items()):
        c = scales.grade_counts(levels)
        total = sum(c.values())
        if total:
            rows.append((key, total, c[scales.GOOD], c[scales.BAD], c[scales.GOOD] / total))
    return rows


def monthly_trend(start=None, end=None, unit_ids=None):
    """[(month 'YYYY-MM', total, good, bad, rate)] in order."""
    return _trend({f"{month:%Y-%m}": levels for (month,), levels in tallies.counts(start, end, unit_ids, ("month",)).items()})


def weekly_trend(start=None, end=None, unit_ids=None, weeks=12):
    """[(week 'YYYY-Www' (ISO), total, good, bad, rate)] for the `weeks` weeks up to the period's last rating."""
    last = tallies.last_day(start, end, unit_ids)
    if last is None:
        return []
    first = last - datetime.timedelta(days=last.weekday() + 7 * (weeks - 1))
    per = {}
    for (day,), levels in tallies.counts(max(first, start) if start else first, end, unit_ids, ("day",)).items():
        year, week, _weekday = day.isocalendar()
        bucket = per.setdefault(f"{year}-W{week:02d}", dict.fromkeys(levels, 0))
        for level, n in levels.items():
            bucket[level] += n
    return _trend(per)


def channels(start=None, end=None, unit_ids=None):
    """[(channel, its label, evaluations)] for the channels used, most used first."""
    labels = dict(CHANNELS)
    rows = [(key, labels.get(key, key), sum(levels.values()))
            for (key,), levels in tallies.counts(start, end, unit_ids, ("channel",)).items()]
    return sorted((r for r in rows if r[2]), key=lambda r: (-r[2], r[0]))


def reasons(start=None, end=None, unit_ids=None):
    """[(reason, times given with a 差评)], most given first."""
    per = tallies.counts(start, end, unit_ids, ("reason",))
    given = {key: sum(levels[level] for level in scales.BAD_LEVELS) for (key,), levels in per.items()}
    given = {key: n for key, n in given.items() if n}
    titles = dict(Reason.select(Reason.id, Reason.title).where(Reason.id.in_(list(given))).tuples()) if given else {}
    totals = {}
    for key, n in given.items():  # two tags of one title (one per scale) are one reason to the reader
        totals[titles.get(key, str(key))] = totals.get(titles.get(key, str(key)), 0) + n
    return sorted(totals.items(), key=lambda r: (-r[1], r[0]))


def overdue_now(unit_ids=None, at=None):
    """Open problems past their current deadline."""
    from models import now
    query = not_about_left_out(Ticket.select().where(Ticket.status == "open", Ticket.due_at < (at or now())),
                                       Ticket.staff)
    if unit_ids is not None:
        query = query.where(Ticket.handling_unit.in_(list(unit_ids)))
    return query.count()


def on_time_rate(start=None, end=None, unit_ids=None, headline=None):
    """Problems closed in the period with no stage ever late (no yellow card), as a share.

    `headline`: the period's figures.headline(), which counted them already.
    """
    if headline is None:
        counted = figures.closed_problems(start, end, unit_ids)
        closed, on_time = counted["closed"], counted["on_time"]
    else:
        closed, on_time = headline["closed"], headline["closed_on_time"]
    return {"closed": closed, "on_time": on_time, "rate": on_time / closed if closed else None}
