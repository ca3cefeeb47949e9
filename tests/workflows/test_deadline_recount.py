"""When the working-day calendar changes, the open tickets' deadlines are counted again."""
import datetime as dt

import pytest

from app import calendar_edits, holiday_notice, tickets, workdays
from models import Ticket, TicketEvent
from tests.conftest import csrf_token, frozen_clock
from tests.workflows.conftest import MONDAY

D = dt.date
END = dt.time(23, 59, 59)


@pytest.fixture
def frozen(monkeypatch):
    """The calendar's clock (timeline entries, the list's month), set to 2026-12-28 09:00."""
    c = frozen_clock(monkeypatch, calendar_edits)
    c.now = dt.datetime(2026, 12, 28, 9, 0)
    return c


def step(ticket, user, action, when, **data):
    return tickets.act(ticket.id, user, action, data, at=when)[0]


def investigating(officers, open_problem, at):
    """A problem sent to 调查跟踪督办 (15 working days) at `at`."""
    t = open_problem(at=at)
    t = step(t, officers["office"], "submit", at, comment="呈报")
    return step(t, officers["leader"], "dispatch", at, classification="作风", comment="调查")


def recount_events(ticket):
    return [e.comment for e in TicketEvent.select().where(TicketEvent.ticket == ticket.id,
                                                          TicketEvent.action == "calendar_recount")]


def test_a_new_years_day_holiday_moves_the_deadline_and_says_so(client, login_as, officers, open_problem, frozen):
    """The issue's case: 2027-01-01 marked as a holiday, the deadline moves from 01-18 to 01-19."""
    office = login_as("office")
    token = csrf_token(client, "/admin/calendar/")
    client.post("/admin/calendar/add-year/", data={"year": "2027", "csrf_token": token})
    t = investigating(officers, open_problem, dt.datetime(2026, 12, 28, 9, 0))
    assert t.due_at == dt.datetime(2027, 1, 18, 23, 59, 59) and t.deadline_estimated  # 2027: weekend rule
    untouched = open_problem(at=dt.datetime(2026, 12, 28, 9, 0))  # 平台受理, due 12-29: no 2027 day in it
    response = client.post("/admin/calendar/range/", data={
        "first": "2027-01-01", "last": "2027-01-01", "kind": "holiday", "name": "元旦", "csrf_token": token})
    assert response.status_code == 302
    t = Ticket.get_by_id(t.id)
    assert t.due_at == dt.datetime(2027, 1, 19, 23, 59, 59) and t.deadline == D(2027, 1, 19)
    assert t.deadline_estimated  # 2027's other days are still the weekend rule's estimate
    assert t.next_alert_at == dt.datetime(2027, 1, 18, 0, 0)  # the reminder, one working day before
    assert recount_events(t) == ["因工作日历调整，时限由 1月18日 改为 1月19日"]
    event = TicketEvent.get(TicketEvent.action == "calendar_recount")
    assert event.actor_id == office.id and event.created_at == frozen.now and event.to_stage == "investigate"
    assert Ticket.get_by_id(untouched.id).due_at == untouched.due_at and recount_events(untouched) == []
    page = client.get(f"/admin/handle/{t.id}/").get_data(as_text=True)
    assert "因工作日历调整，时限由 1月18日 改为 1月19日" in page
    # The same day set again moves nothing and writes no second entry.
    client.post("/admin/calendar/range/", data={
        "first": "2027-01-01", "last": "2027-01-01", "kind": "holiday", "name": "元旦", "csrf_token": token})
    assert len(recount_events(t)) == 1


def test_the_notice_for_the_year_ends_the_estimate(officers, open_problem, conn, frozen):
    workdays.add_year_by_weekend_rule(2027)
    t = investigating(officers, open_problem, dt.datetime(2026, 12, 28, 9, 0))
    assert t.deadline_estimated
    notice = holiday_notice.parse("国务院办公厅关于2027年部分节假日安排的通知\n"
                                  "一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n")
    assert calendar_edits.import_notice(notice) == 1
    t = Ticket.get_by_id(t.id)
    assert t.due_at.date() == D(2027, 1, 19) and not t.deadline_estimated


def test_a_single_day_edited_in_the_list_moves_deadlines(client, login_as, officers, open_problem):
    t = investigating(officers, open_problem, MONDAY)
    assert t.due_at.date() == D(2026, 3, 23)
    login_as("office")
    token = csrf_token(client, "/admin/calendar/")
    response = client.post("/admin/calendar/ajax/update/", data={
        "list_form_pk": "2026-03-12", "workday": "", "csrf_token": token})
    assert response.status_code == 200
    assert Ticket.get_by_id(t.id).due_at.date() == D(2026, 3, 24)
    assert recount_events(t) == ["因工作日历调整，时限由 3月23日 改为 3月24日"]
    client.post("/admin/calendar/ajax/update/", data={"list_form_pk": "2026-03-12", "workday": "1",
                                                      "csrf_token": token})
    assert Ticket.get_by_id(t.id).due_at.date() == D(2026, 3, 23)  # and back


def test_an_approved_extension_keeps_its_days(officers, open_problem, conn):
    o = officers
    t = investigating(officers, open_problem, MONDAY)
    t = step(t, o["inspector"], "extend_request", MONDAY + dt.timedelta(days=3), days="5", comment="调档案")
    t = step(t, o["leader"], "extend_approve", MONDAY + dt.timedelta(days=4), comment="同意")
    assert t.due_at.date() == D(2026, 3, 30)  # 03-23 plus 5 working days
    calendar_edits.set_range(D(2026, 3, 12), D(2026, 3, 13), False, "地方假日")
    assert Ticket.get_by_id(t.id).due_at.date() == D(2026, 4, 1)  # two days off: two days later


def test_days_inside_a_past_pause_do_not_move_the_deadline(officers, open_problem, conn):
    o = officers
    t = investigating(officers, open_problem, MONDAY)
    t = step(t, o["inspector"], "pause", MONDAY + dt.timedelta(days=1), comment="等材料")
    t = step(t, o["inspector"], "resume", MONDAY + dt.timedelta(days=8), comment="材料已齐")
    assert t.due_at.date() == D(2026, 3, 30)  # paused Tue 03-03 .. Tue 03-10: 5 working days added
    calendar_edits.set_range(D(2026, 3, 5), D(2026, 3, 5), False, "地方假日")  # while the clock stood still
    assert Ticket.get_by_id(t.id).due_at.date() == D(2026, 3, 30) and recount_events(t) == []
    calendar_edits.set_range(D(2026, 3, 25), D(2026, 3, 25), False, "地方假日")  # while it ran
    assert Ticket.get_by_id(t.id).due_at.date() == D(2026, 3, 31)


def test_a_paused_ticket_moves_but_gets_no_alert_until_it_resumes(officers, open_problem, conn):
    t = investigating(officers, open_problem, MONDAY)
    t = step(t, officers["inspector"], "pause", MONDAY + dt.timedelta(days=1), comment="等材料")
    calendar_edits.set_range(D(2026, 3, 16), D(2026, 3, 16), False, "地方假日")
    t = Ticket.get_by_id(t.id)
    assert t.due_at.date() == D(2026, 3, 24) and t.next_alert_at is None and t.paused_at is not None


def test_a_limit_counted_from_registration_counts_from_there(officers, county, open_problem, conn):
    t = open_problem("enterprise", source="symposium")
    t = step(t, officers["office"], "assign", MONDAY + dt.timedelta(days=2), unit=county["hall_a"].id,
             classification="物流", comment="请限期解决")
    t = step(t, officers["handler_a"], "sign", MONDAY + dt.timedelta(days=3))
    assert t.stage == "handle" and t.due_at.date() == D(2026, 3, 16)  # 10 working days from 03-02
    calendar_edits.set_range(D(2026, 3, 4), D(2026, 3, 4), False, "地方假日")  # before the stage began
    assert Ticket.get_by_id(t.id).due_at.date() == D(2026, 3, 17)


def test_a_make_up_working_day_brings_the_deadline_forward(officers, open_problem, conn):
    t = investigating(officers, open_problem, MONDAY)
    calendar_edits.set_range(D(2026, 3, 7), D(2026, 3, 7), True, "调休上班")  # a Saturday worked
    t = Ticket.get_by_id(t.id)
    assert t.due_at.date() == D(2026, 3, 20) and t.next_alert_at == dt.datetime(2026, 3, 19)
    assert recount_events(t) == ["因工作日历调整，时限由 3月23日 改为 3月20日"]


def test_closed_tickets_and_later_windows_are_left_alone(officers, open_problem, conn):
    closed = open_problem()
    closed = step(closed, officers["office"], "reject", MONDAY, comment="不属受理范围", reply="不予受理")
    later = investigating(officers, open_problem, MONDAY + dt.timedelta(days=14))  # 03-16 .. 04-03
    before = Ticket.get_by_id(later.id).due_at
    assert calendar_edits.set_range(D(2026, 3, 3), D(2026, 3, 4), False, "地方假日") == 0
    assert Ticket.get_by_id(later.id).due_at == before and recount_events(closed) == []


def test_only_the_tickets_whose_window_holds_the_change_move(officers, open_problem, conn):
    near = [investigating(officers, open_problem, MONDAY) for _ in range(3)]
    far = [investigating(officers, open_problem, MONDAY + dt.timedelta(days=60)) for _ in range(3)]
    moved = calendar_edits.set_range(D(2026, 3, 10), D(2026, 3, 10), False, "地方假日")
    assert moved == 3
    assert all(Ticket.get_by_id(t.id).due_at.date() == D(2026, 3, 24) for t in near)
    assert all(recount_events(t) == [] for t in far)
