"""Rating tallies equal a recount of the ratings themselves: after ratings on both scales, with
tags, on every channel, after appeals exclude some, and for any period and any set of units."""
import datetime
import random
from collections import Counter

import pytest

from app import dashboard, figures, ratings, scales, tallies, tickets
from models import Evaluation, EvaluationReason, RatingTally, Reason, Unit


def new_key():
    return ratings.new_submission_key()


@pytest.fixture
def rated(county, make_user):
    """300 ratings over 2026 through ratings.submit, three of them excluded after an appeal."""
    rng = random.Random(7)
    codes = [county["w1"].token, county["w2"].token, county["s1"].token, county["s2"].token]
    stored = []
    for _ in range(300):
        scale = scales.scale(rng.choice(("three", "five")))
        level = rng.choice(scale.levels)
        offered = [str(r.id) for r in Reason.offered(level)] if level in scale.tagged else []
        tags = rng.sample(offered, rng.choice((1, 2))) if offered and (
            scales.GRADE_OF[level] == scales.BAD or rng.random() < 0.5) else []
        at = datetime.datetime(2026, rng.randint(1, 12), rng.randint(1, 28), rng.randint(8, 17), rng.randint(0, 59))
        evaluation, _ticket, created = ratings.submit(
            rng.choice(codes), level, tags, "", "", rng.choice(("kiosk", "qr", "hotline")), new_key(), at=at,
            channels=("kiosk", "qr", "hotline"), scale=scale.key)
        assert created
        stored.append(evaluation)
    office = make_user("office", "office", Unit.create(code="K01", name="县纪委监委", kind="commission"))
    for evaluation in rng.sample(stored, 3):  # the real appeal: a unit asks, the commission upholds
        appeal = tickets.open_ticket("appeal", title="申诉", content="恶意差评", source="kiosk", evaluation=evaluation.id,
                                     unit=evaluation.unit_id, at=evaluation.created_at)
        tickets.act(appeal.id, office, "uphold", {"comment": "申诉成立"}, at=evaluation.created_at)
    return stored


def recount(start, end, unit_ids, by):
    """The same question answered by reading every rating one by one."""
    links = {}
    for evaluation_id, reason_id in EvaluationReason.select(EvaluationReason.evaluation, EvaluationReason.reason).tuples():
        links.setdefault(evaluation_id, []).append(reason_id)
    out = {}
    for e in Evaluation.select().where(Evaluation.excluded == False):  # noqa: E712
        day = e.created_at.date()
        if (start and day < start) or (end and day >= end) or (unit_ids is not None and e.unit_id not in unit_ids):
            continue
        values = {"unit": [e.unit_id], "channel": [e.channel], "window": [e.window_id], "staff": [e.staff_id],
                  "reason": links.get(e.id, []), "month": [day.replace(day=1)], "day": [day]}
        keys = [()]
        for dim in by:
            keys = [key + (v,) for key in keys for v in values[dim] if v is not None]
        for key in keys:
            out.setdefault(key, Counter())[e.level] += 1
    return out


def nonzero(counted):
    return {key: {level: n for level, n in levels.items() if n} for key, levels in counted.items()
            if any(levels.values())}


def test_the_tallies_equal_a_recount_after_ratings_and_appeals(rated):
    assert Evaluation.select().where(Evaluation.excluded == True).count() == 3  # noqa: E712
    assert tallies.check() == []
    assert tallies.stored() == tallies.recount()


PERIODS = [(None, None), (datetime.date(2026, 3, 1), datetime.date(2026, 9, 1)),  # whole months
           (datetime.date(2026, 2, 14), datetime.date(2026, 10, 9)),  # part-months at both ends
           (datetime.date(2026, 5, 3), datetime.date(2026, 5, 20)),  # inside one month
           (None, datetime.date(2026, 7, 16)), (datetime.date(2026, 7, 16), None)]


@pytest.mark.parametrize("by", [(), ("unit",), ("channel",), ("window",), ("staff",), ("reason",), ("month",),
                                ("unit", "month"), ("day",)])
def test_every_grouping_for_any_period_and_units_equals_a_recount(rated, county, by):
    for start, end in PERIODS:
        for unit_ids in (None, {county["hall_a"].id}):
            assert nonzero(tallies.counts(start, end, unit_ids, by)) == nonzero(recount(start, end, unit_ids, by)), \
                (start, end, unit_ids)


def test_the_dashboards_figures_come_out_the_same_as_a_recount(rated, county):
    start, end = datetime.date(2026, 2, 14), datetime.date(2026, 10, 9)
    levels = recount(start, end, None, ()).get((), Counter())
    counted = scales.grade_counts(levels)
    assert figures.grades(start, end) == counted
    national = dashboard.national(start, end)
    assert (national["total"], national["bad"]) == (sum(levels.values()), counted[scales.BAD])
    by_window = recount(start, end, None, ("window",))
    table = {r["id"]: (r["total"], r["bad"]) for r in dashboard.rankings(start, end, by="window", minimum=1)["ranked"]}
    assert table == {w: (sum(c.values()), scales.grade_counts(c)[scales.BAD]) for (w,), c in by_window.items()}
    months = recount(start, end, None, ("month",))
    assert [(m, n) for m, n, *_ in dashboard.monthly_trend(start, end)] == \
        [(f"{k[0]:%Y-%m}", sum(c.values())) for k, c in sorted(months.items())]


def test_the_national_ticket_figures_equal_a_recount_after_an_appeal(rated, county):
    """整改率, 回访率, 回访满意度 read from the tickets' own mark: the same as joining the ratings."""
    from models import Ticket
    rated_tickets = list(Ticket.select().where(Ticket.evaluation.is_null(False), Ticket.workflow != "appeal")
                         .order_by(Ticket.id))
    assert len(rated_tickets) > 20
    for i, ticket in enumerate(rated_tickets):  # some solved, some revisited, some pleased
        Ticket.update(status="closed" if i % 3 else "open", closing_kind="solved" if i % 3 else None,
                      grade=("satisfied", "dissatisfied", None)[i % 3]).where(Ticket.id == ticket.id).execute()
    assert tallies.exclude(rated_tickets[0].evaluation_id) is True  # upheld later: its ticket leaves the figures
    periods = [(None, None, None), (datetime.date(2026, 2, 14), datetime.date(2026, 10, 9), None),
               (datetime.date(2026, 5, 1), None, {county["hall_b"].id})]
    for start, end, unit_ids in periods:
        joined = [t for t in Ticket.select(Ticket, Evaluation).join(Evaluation, on=(Ticket.evaluation == Evaluation.id))
                  .where(Ticket.workflow != "appeal", Evaluation.excluded == False,  # noqa: E712
                         Evaluation.level.in_(scales.BAD_LEVELS))
                  if (start is None or t.evaluation.created_at.date() >= start)
                  and (end is None or t.evaluation.created_at.date() < end)
                  and (unit_ids is None or t.evaluation.unit_id in unit_ids)]
        national = dashboard.national(start, end, unit_ids)
        assert national["rectified"] == sum(t.status == "closed" and t.closing_kind == "solved" for t in joined)
        assert national["revisited"] == sum(t.grade is not None for t in joined)
        assert national["revisit_pleased"] == sum(t.grade == "satisfied" for t in joined)


def test_an_appeal_upheld_twice_takes_the_rating_away_once(rated):
    evaluation = next(e for e in rated if not Evaluation.get_by_id(e.id).excluded)
    assert tallies.exclude(evaluation.id) is True
    assert tallies.exclude(evaluation.id) is False
    assert tallies.check() == []


def test_a_rating_that_fails_half_way_leaves_no_count_behind(county, monkeypatch):
    before = tallies.stored()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(tickets, "open_for_evaluation", broken)
    tag = str(Reason.offered("dissatisfied")[0].id)
    with pytest.raises(RuntimeError):
        ratings.submit(county["w1"].token, "dissatisfied", [tag], "", "", "kiosk", new_key())
    assert tallies.stored() == before and Evaluation.select().count() == 0


def test_rebuild_and_the_check_command(rated, runner):
    RatingTally.update(satisfied=RatingTally.satisfied + 5).where(RatingTally.grain == "u").execute()
    result = runner.invoke(args=["tallies", "check"])
    assert result.exit_code != 0 and "不一致" in result.output
    result = runner.invoke(args=["tallies", "rebuild"])
    assert result.exit_code == 0 and "已重新计数" in result.output
    assert runner.invoke(args=["tallies", "check"]).output.strip() == "评价和问题统计与逐条重新计数一致。"


def test_on_postgresql_the_key_index_carries_the_counts(rated):
    from peewee import PostgresqlDatabase
    from models import db
    if not isinstance(db.obj, PostgresqlDatabase):
        assert tallies.cover_key() is False  # SQLite keeps the rows themselves in key order
        return
    db.execute_sql("SET enable_seqscan = off")  # a test's table is tiny: make the planner show the index path
    plan = "\n".join(row[0] for row in db.execute_sql(
        "EXPLAIN SELECT subject, SUM(satisfied) FROM rating_tally WHERE grain = 's' AND period >= '2026-01-01' "
        "GROUP BY subject").fetchall())
    db.execute_sql("RESET enable_seqscan")
    assert "Index Only Scan using rating_tally_pkey" in plan
    assert tallies.cover_key() is False  # done once, at creation or by the v17 upgrade
    assert tallies.check() == []  # the ratings' upserts found their rows through the new key
