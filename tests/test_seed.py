"""The demo county reproduces the Haixing report, and loading it twice changes nothing."""
import datetime
import re
import signal

import pytest

from models import Evaluation, EvaluationReason, Message, Reason, Staff, Ticket, Unit, User, Window
from seed.loader import DEMO_PASSWORD, last_weekday, load
from tests.conftest import login


def counts():
    return {m.__name__: m.select().count()
            for m in (Unit, Window, Staff, Reason, User, Evaluation, EvaluationReason, Message, Ticket)}


def test_demo_county_matches_the_article(demo, conn):
    by_kind = {}
    for unit in Unit.select():
        by_kind[unit.kind] = by_kind.get(unit.kind, 0) + 1
    assert by_kind["hall"] == 10 and by_kind["law_enforcement"] == 14
    assert by_kind["township"] == 7 and by_kind["farm"] == 2 and by_kind["zone"] == 1
    assert by_kind["village"] == 197
    assert all(v.parent.kind == "township" for v in Unit.select().where(Unit.kind == "village"))
    assert Window.select().count() == 52 and Staff.select().count() == 73
    hall_units = Unit.select().where(Unit.kind == "hall")
    assert Window.select().where(Window.unit.not_in(hall_units)).count() == 0
    assert [r.title for r in Reason.offered("dissatisfied")] == ["办理速度慢", "故意刁难", "吃拿卡要", "服务态度差"]
    # 390 evaluations and suggestions, 22 problems accepted, 22 solved.
    assert Evaluation.select().count() + Message.select().count() == 390
    public = Ticket.select().where(Ticket.symposium.is_null())
    assert public.count() == 22
    assert Ticket.solved().where(Ticket.symposium.is_null()).count() == 22
    # The 纪企直通车 symposium: 18 issues as a list, 10 solved, the rest answered with an explanation.
    listed = Ticket.select().where(Ticket.symposium.is_null(False))
    assert listed.count() == 18
    assert listed.where(Ticket.closing_kind == "solved").count() == 10
    assert listed.where(Ticket.closing_kind == "explained").count() == 8
    dissatisfied = Evaluation.select().where(Evaluation.level == "dissatisfied")
    assert all(e.reason_links.count() >= 1 for e in dissatisfied)


def test_the_demo_loads_on_a_sunday_and_its_meeting_falls_on_a_weekday(conn):
    # The meeting was once placed "yesterday, if a weekday", which looped for ever on Sundays and Mondays.
    week = [datetime.date(2026, 11, 30) + datetime.timedelta(days=i) for i in range(7)]
    assert [last_weekday(day).isoformat() for day in week] == [
        "2026-11-27", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04", "2026-12-04"]
    before = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("loading the demo on a Sunday never ended"))
    signal.alarm(60)
    try:
        load(demo=True, today=datetime.date(2026, 12, 6))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
    assert Ticket.select().where(Ticket.symposium.is_null(False)).count() == 18
    held = Ticket.select().where(Ticket.symposium.is_null(False)).first().symposium.held_on
    assert held.weekday() < 5 and held < datetime.date(2026, 12, 6)


def test_loading_twice_duplicates_nothing(demo, conn):
    before = counts()
    load(demo=True)
    assert counts() == before


def test_no_demo_loads_only_the_reason_catalogue(conn):
    load(demo=False)
    assert Reason.select().count() == 12  # Haixing's four 差评 reasons, and the national scale's tags
    assert Unit.select().count() == 0 and User.select().count() == 0


def test_each_demo_role_logs_in_and_sees_the_figures(demo, client):
    for username in ("office", "leader", "inspector", "bureau", "auditor"):
        response = login(client, username, DEMO_PASSWORD)
        assert response.status_code == 302, username
        page = client.get("/admin/").get_data(as_text=True)
        assert 'id="fig-collected">390<' in page, username  # its two parts each a link to its list
        assert re.search(r'id="fig-evaluations" href="[^"]+">\d+<', page) and re.search(
            r'id="fig-messages" href="[^"]+">\d+<', page), username
        for figure, value in (("accepted", 22), ("solved", 22)):  # each a link to its list
            assert re.search(rf'id="fig-{figure}"><a href="[^"]+">{value}<', page), (username, figure)
        assert 'id="org-windows">52<' in page and 'id="org-staff">73<' in page, username
        assert "登记问题 18 个，已解决 10 个，已作解释 8 个" in page, username
        client.post("/logout", data={"csrf_token": _token(client)})


def test_system_administrator_sees_the_organisation_not_the_complaints(demo, client):
    login(client, "admin", DEMO_PASSWORD)
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="org-windows">52<' in page and "fig-collected" not in page
    assert client.get("/admin/message/").status_code == 403


def test_a_handler_sees_its_own_units_figures(demo, client):
    login(client, "handler2", DEMO_PASSWORD)  # 县医疗保障局
    unit = User.get(User.username == "handler2").unit
    page = client.get("/admin/").get_data(as_text=True)
    own = Evaluation.select().where(Evaluation.unit == unit).count() + \
        Message.select().where(Message.unit == unit).count()
    assert re.search(rf'id="fig-collected">{own}<', page) and own < 390
    assert "以下数据仅含县医疗保障局" in page
    # The unit filter cannot reach beyond the officer's own units.
    other = Unit.get(Unit.code == "H01")
    page = client.get(f"/admin/?unit={other.id}").get_data(as_text=True)
    assert re.search(r'id="fig-collected">0<', page)


def _token(client):
    from tests.conftest import csrf_token
    return csrf_token(client, "/admin/")
