"""Problem tallies kept by the database's triggers equal a recount of the tickets, whatever wrote them."""
import datetime
import random

import pytest

from app import dashboard, figures, ticket_tallies, tickets
from models import Symposium, Ticket, TicketTally, Unit, db

STAGES = ("accept", "handle", "review")


def at(rng):
    return datetime.datetime(2026, rng.randint(1, 12), rng.randint(1, 28), rng.randint(8, 17), rng.randint(0, 59))


@pytest.fixture
def churned(county):
    """150 tickets opened by the workflow engine, then changed at random the ways the app changes
    them: closed and reopened, supervised, merged, moved to another unit, revisited, a 差评 mark
    cleared, put on a meeting's list; and one deleted."""
    rng = random.Random(11)
    units = [county[k] for k in ("hall_a", "hall_b", "township", "village")]
    meeting = Symposium.create(title="纪企直通车座谈会", held_on=datetime.date(2026, 5, 20))
    made = []
    for i in range(150):
        unit = rng.choice(units)
        made.append(tickets.open_ticket("problem", title=f"问题 {i}", content="内容", source="kiosk", unit=unit.id,
                                        handling_unit=unit.id, at=at(rng)))
    for ticket in made:
        changes = {}
        if rng.random() < 0.6:
            closed_at = at(rng)
            changes.update(status="closed", closed_at=closed_at,
                           closing_kind=rng.choice(("solved", "explained", "solved", None)))
        if rng.random() < 0.3:
            changes["supervised"] = True
        if rng.random() < 0.4:
            changes["bad_rating"] = True
            changes["grade"] = rng.choice(("satisfied", "basically_satisfied", "dissatisfied", None))
        if rng.random() < 0.15:
            changes["handling_unit"] = rng.choice(units).id
        if rng.random() < 0.1:
            changes["symposium"] = meeting.id
        if changes:
            Ticket.update(**changes).where(Ticket.id == ticket.id).execute()
    for ticket in rng.sample(made, 10):  # merged into another: no problem of its own any more
        Ticket.update(merged_into=made[0].id).where(Ticket.id == ticket.id, Ticket.id != made[0].id).execute()
    reopened = Ticket.get(Ticket.status == "closed")
    reopened.status, reopened.closed_at, reopened.closing_kind = "open", None, None
    reopened.save()  # through the model as well as by bulk update
    moved = Ticket.get(Ticket.bad_rating == True)  # noqa: E712
    moved.created_at = datetime.datetime(2025, 12, 31, 23, 59)  # into another month and year
    moved.bad_rating = False
    moved.save()
    doomed = made[-1]
    for table in ("ticket_event", "notification"):  # its history and the new-work notice of its opening
        db.execute_sql(f'DELETE FROM {table} WHERE ticket_id = %s' if _pg() else
                       f'DELETE FROM {table} WHERE ticket_id = ?', (doomed.id,))
    Ticket.delete().where(Ticket.id == doomed.id).execute()
    return made


def _pg():
    from peewee import PostgresqlDatabase
    return isinstance(db.obj, PostgresqlDatabase)


def test_the_triggers_keep_the_tallies_equal_to_a_recount(churned):
    assert ticket_tallies.stored() == ticket_tallies.recount()
    assert ticket_tallies.check() == []
    assert TicketTally.select().count() > 20


PERIODS = [(None, None), (datetime.date(2026, 3, 1), datetime.date(2026, 9, 1)),
           (datetime.date(2026, 2, 14), datetime.date(2026, 10, 9)), (datetime.date(2026, 4, 3), datetime.date(2026, 4, 20)),
           (datetime.date(2026, 6, 1), None), (None, datetime.date(2026, 7, 17))]


def inside(moment, start, end):
    day = moment.date()
    return (start is None or day >= start) and (end is None or day < end)


@pytest.mark.parametrize("symposium", [False, True])
def test_problem_figures_for_any_period_and_units_equal_a_recount(churned, county, symposium):
    scopes = [None, {county["hall_a"].id}, {county["township"].id, county["village"].id}]
    every = list(Ticket.select())
    for start, end in PERIODS:
        for unit_ids in scopes:
            mine = [t for t in every if t.merged_into_id is None and (t.symposium_id is not None) == symposium
                    and (unit_ids is None or t.handling_unit_id in unit_ids)]
            closed = [t for t in mine if t.status == "closed" and t.closed_at and inside(t.closed_at, start, end)]
            counted = figures.problems(start, end, unit_ids, symposium)
            expected = {"accepted": sum(inside(t.created_at, start, end) for t in mine), "closed": len(closed),
                        "solved": sum(t.closing_kind == "solved" for t in closed),
                        "explained": sum(t.closing_kind == "explained" for t in closed),
                        "closed_on_time": sum(not t.supervised for t in closed)}
            assert {k: counted[k] for k in expected} == expected, (start, end, unit_ids)


def test_national_follow_up_for_any_period_and_units_equals_a_recount(churned, county):
    every = list(Ticket.select().where(Ticket.bad_rating == True))  # noqa: E712
    for start, end in PERIODS:
        for unit_ids in (None, {county["hall_b"].id}):
            mine = [t for t in every if inside(t.created_at, start, end) and (unit_ids is None or t.unit_id in unit_ids)]
            n = dashboard.national(start, end, unit_ids)
            assert n["rectified"] == sum(t.status == "closed" and t.closing_kind in ("solved", "explained") for t in mine)
            assert n["revisited"] == sum(t.grade is not None for t in mine)
            assert n["revisit_pleased"] == sum(t.grade in ("satisfied", "basically_satisfied") for t in mine)


def test_a_write_rolled_back_leaves_no_count_behind(county):
    before = ticket_tallies.stored()
    with pytest.raises(RuntimeError):
        with db.atomic():
            tickets.open_ticket("problem", title="问题", content="内容", source="kiosk", unit=county["hall_a"].id,
                                handling_unit=county["hall_a"].id)
            raise RuntimeError("the officer's browser went away")
    assert ticket_tallies.stored() == before and Ticket.select().count() == 0


def test_the_check_command_sees_lost_triggers_and_rebuild_restores_them(churned, runner):
    assert runner.invoke(args=["tallies", "check"]).exit_code == 0
    for name in ticket_tallies.installed():
        db.execute_sql(f"DROP TRIGGER {name} ON ticket" if _pg() else f"DROP TRIGGER {name}")
    Ticket.update(status="open", closed_at=None).execute()  # now nothing follows
    result = runner.invoke(args=["tallies", "check"])
    assert result.exit_code != 0 and "触发器" in result.output
    assert runner.invoke(args=["tallies", "rebuild"]).exit_code == 0
    assert ticket_tallies.installed() and runner.invoke(args=["tallies", "check"]).exit_code == 0
    Ticket.update(status="closed", closed_at=datetime.datetime(2026, 11, 2, 9, 0), closing_kind="solved").where(
        Ticket.id == Ticket.select(Ticket.id).limit(1)).execute()
    assert ticket_tallies.check() == []  # followed again
    assert Unit.select().count()  # the county is still there
