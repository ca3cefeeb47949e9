"""座谈会: the office pastes a meeting's issues from Excel; each becomes a ticket handed to its unit."""
import re

from models import Symposium, Ticket
from tests.conftest import csrf_token


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_a_meeting_registered_from_excel_rows(client, login_as, county):
    login_as("office")
    token = csrf_token(client, "/admin/symposia/new/")
    rows = "\n".join([
        "海兴锦绣服饰有限公司\t物流\t原材料运货车下不了高速\t县行政审批局",
        "海兴县恒通机械制造有限公司\t审批\t环评审批进度慢\tHB",
    ])
    response = client.post("/admin/symposia/new/", data={"csrf_token": token, "title": "纪企直通车政企座谈会",
                                                         "place": "县纪委监委会议室", "held_on": "2026-03-02",
                                                         "rows": rows})
    assert response.status_code == 302
    meeting = Symposium.get()
    tickets = list(Ticket.select().where(Ticket.symposium == meeting).order_by(Ticket.id))
    assert [(t.workflow, t.stage, t.source, t.handling_unit_id) for t in tickets] == [
        ("enterprise", "receive", "symposium", county["hall_a"].id),
        ("enterprise", "receive", "symposium", county["hall_b"].id)]
    page = text(client.get(f"/admin/symposia/{meeting.id}/"))
    assert "共 2 个问题：已解决 0 个，已作解释 0 个，办理中 2 个" in page and "环评审批进度慢" in page


def test_bad_rows_are_named_by_line_and_nothing_is_saved(client, login_as, county):
    login_as("office")
    token = csrf_token(client, "/admin/symposia/new/")
    rows = "企业甲\t物流\t问题\t县行政审批局\n企业乙\t旅游\t问题\t不存在的局\n只有两列\t物流"
    response = client.post("/admin/symposia/new/", data={"csrf_token": token, "title": "座谈会",
                                                         "held_on": "2026-03-02", "rows": rows})
    page = text(response)
    assert response.status_code == 422
    assert "第 2 行的类别“旅游”不认识" in page and "第 2 行的承办单位“不存在的局”不存在" in page
    assert "第 3 行应当有 4 列" in page
    assert Symposium.select().count() == 0 and Ticket.select().count() == 0


def test_only_the_office_registers_meetings(client, login_as, county):
    login_as("leader")
    assert client.get("/admin/symposia/").status_code == 200
    assert client.get("/admin/symposia/new/").status_code == 403


def test_each_issue_keeps_the_time_limit_agreed_at_the_meeting(client, login_as, county, make_user):
    import datetime

    from app import symposia, tickets
    office = login_as("office")
    rows, errors = symposia.parse_rows("企业甲\t物流\t货车下不了高速\t县行政审批局\t3\n"
                                       "企业乙\t融资\t留抵退税慢\tHB\t15个工作日\n"
                                       "企业丙\t审批\t环评进度慢\tHB")
    assert errors == [] and [r["days"] for r in rows] == [3, 15, None]
    at = datetime.datetime(2026, 11, 25, 16, 0)  # registered two days after the meeting (Monday)
    meeting = symposia.register("纪企直通车政企座谈会", "", datetime.date(2026, 11, 23), rows, office, at=at)
    first, second, third = Ticket.select().where(Ticket.symposium == meeting).order_by(Ticket.id)
    assert (first.time_limit, third.time_limit) == (3, None)
    handler = make_user("handler_ha", "handler", county["hall_a"])
    first, _event = tickets.act(first.id, handler, "sign", {}, at=at + datetime.timedelta(minutes=5))
    # Three working days from Monday 23 November: Thursday 26 November, not the procedure's ten.
    assert first.stage == "handle" and first.due_at.date() == datetime.date(2026, 11, 26)
    page = text(client.get(f"/admin/symposia/{meeting.id}/"))
    assert "3 个工作日，2026-11-26 前" in page and "按流程时限" in page


def test_a_time_limit_that_is_not_a_number_of_working_days_is_named(county, conn):
    from app import symposia
    _rows, errors = symposia.parse_rows("企业甲\t物流\t问题\t县行政审批局\t下周\n企业乙\t物流\t问题\t县行政审批局\t90")
    assert errors == ["第 1 行的限期“下周”应当是 1 到 60 之间的工作日数，不填则按流程时限。",
                      "第 2 行的限期“90”应当是 1 到 60 之间的工作日数，不填则按流程时限。"]


def test_the_ticket_page_names_the_agreed_limit_and_its_meeting(client, login_as, county):
    import datetime

    from app import symposia
    office = login_as("office")
    rows, _errors = symposia.parse_rows("企业甲\t物流\t货车下不了高速\t县行政审批局\t3")
    meeting = symposia.register("纪企直通车政企座谈会", "", datetime.date.today(), rows, office)
    ticket = Ticket.get(Ticket.symposium == meeting)
    page = text(client.get(f"/admin/handle/{ticket.id}/"))
    assert "自受理之日起 3 个工作日" in page and "纪企直通车政企座谈会" in page
