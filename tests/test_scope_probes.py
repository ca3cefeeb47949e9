"""A handler who tries other units' ids gets 404s as for rows that do not exist, and the auditor
finds the attempts in the trail: one row per officer per ten minutes, with the count and the ids."""
import datetime

import pytest

from app import probes, ratings, tickets
from models import AuditLog
from tests.conftest import frozen_clock



@pytest.fixture
def clock(monkeypatch):
    return frozen_clock(monkeypatch, probes)


@pytest.fixture
def other_units_rows(county):
    """Tickets and an evaluation of hall_b, which hall_a's handler may not see, and one of hall_a's."""
    def ticket(unit, n):
        return tickets.open_ticket("problem", title=f"问题{n}", content="内容", source="hotline", unit=unit.id,
                                   handling_unit=unit.id)
    evaluation, _ticket, _created = ratings.submit(county["w2"].token, "satisfied", [], "", "", "kiosk",
                                                   ratings.new_submission_key())
    return {"tickets": [ticket(county["hall_b"], n).id for n in range(30)], "evaluation": evaluation.id,
            "own": ticket(county["hall_a"], 99).id}


def refusals(username):
    return [r.detail for r in AuditLog.select().where(AuditLog.action == "refused", AuditLog.username == username)
            .order_by(AuditLog.id)]


def test_a_look_at_another_units_ticket_or_rating_is_in_the_trail(client, login_as, county, other_units_rows, clock):
    handler = login_as("handler", county["hall_a"])
    first = other_units_rows["tickets"][0]
    assert client.get(f"/admin/handle/{first}/").status_code == 404
    assert refusals(handler.username) == [f"404 查看本人范围以外的记录 1 次：Ticket {first}"]
    row = AuditLog.select().where(AuditLog.action == "refused").get()
    assert row.actor_id == handler.id and row.ip == "127.0.0.1"

    clock.advance(minutes=11)
    evaluation = other_units_rows["evaluation"]
    assert client.get(f"/admin/evaluation/details/?id={evaluation}").status_code == 404
    assert client.get(f"/admin/ticket/details/?id={first}").status_code == 404
    clock.advance(minutes=10)
    assert client.get(f"/admin/handle/{first}/print/").status_code == 404
    assert refusals(handler.username)[1:] == [f"404 查看本人范围以外的记录 1 次：Evaluation {evaluation}",
                                              f"404 查看本人范围以外的记录 2 次：Ticket {first}"]
    # His own unit's ticket, and an id that exists nowhere, are no look-up at another unit.
    assert client.get(f"/admin/handle/{other_units_rows['own']}/").status_code == 200
    assert client.get("/admin/handle/999999/").status_code == 404
    assert len(refusals(handler.username)) == 3


def test_a_crawl_of_ids_leaves_one_row_then_a_summary(client, login_as, county, other_units_rows, clock, runner):
    handler = login_as("handler", county["hall_a"])
    ids = other_units_rows["tickets"]
    for ticket_id in ids:
        assert client.get(f"/admin/handle/{ticket_id}/").status_code == 404
        clock.advance(seconds=5)
    assert refusals(handler.username) == [f"404 查看本人范围以外的记录 1 次：Ticket {ids[0]}"]

    # Nobody looks again: the sweeper writes what was counted once ten minutes have passed.
    assert probes.flush(at=clock.now) == 0
    clock.advance(minutes=10)
    assert probes.flush(at=clock.now) == 1
    summary = refusals(handler.username)[1]
    assert summary.startswith(f"404 查看本人范围以外的记录 {len(ids) - 1} 次：Ticket {ids[1]}, Ticket {ids[2]}")
    assert f"Ticket {ids[-1]}" in summary
    assert probes.flush(at=clock.now + datetime.timedelta(hours=1)) == 0  # written once
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_the_auditor_finds_them_among_the_refusals(client, login_as, county, other_units_rows, clock):
    login_as("handler", county["hall_a"])
    client.get(f"/admin/handle/{other_units_rows['tickets'][3]}/")
    client.post("/logout", data={"csrf_token": _token(client)})
    login_as("auditor")
    page = client.get("/admin/auditlog/?search=refused").get_data(as_text=True)
    assert f"Ticket {other_units_rows['tickets'][3]}" in page


def _token(client):
    from tests.conftest import csrf_token
    return csrf_token(client, "/password")
