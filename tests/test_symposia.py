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
