"""留言板, 纪企直通车 and 进度查询 as a citizen and a company use them."""
import re

import pytest

from app import tickets
from app.credit_code import is_valid
from models import Contact, Message, Ticket


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def token(client, url):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def post(client, url, **data):
    return client.post(url, data=dict(data, csrf_token=token(client, url)))


def code_of(response):
    return re.search(r'id="query-code">([0-9A-Z]{12})<', response.get_data(as_text=True)).group(1)


def test_an_anonymous_message_gets_a_query_code_and_a_ticket(client, county):
    response = post(client, "/board", kind="suggestion", unit=str(county["hall_a"].id),
                    content="建议大厅增设老年人爱心座椅", name="", phone="")
    assert response.status_code == 200
    code = code_of(response)
    message = Message.get(Message.query_code == code)
    assert message.contact_id is None and message.status == "accepted"
    ticket = Ticket.get(Ticket.message == message)
    assert ticket.workflow == "message" and ticket.query_code == code
    found = client.post("/track", data={"code": code, "csrf_token": token(client, "/track")})
    assert found.status_code == 200 and "受理" in text(found)


def test_a_real_name_message_needs_the_phone_digits_and_shows_only_the_public_answer(client, county, make_user):
    response = post(client, "/board", kind="complaint", unit="", content="办事窗口工作人员态度差",
                    name="王某", phone="13912345678")
    code = code_of(response)
    assert "电话的后四位" in text(response)
    assert client.post("/track", data={"code": code, "csrf_token": token(client, "/track")}).status_code == 404
    assert client.post("/track", data={"code": code, "last4": "0000",
                                       "csrf_token": token(client, "/track")}).status_code == 404
    ticket = Ticket.get(Ticket.query_code == code)
    office = make_user("office", "office")
    handler = make_user("h", "handler", county["hall_a"])
    ticket, _ = tickets.act(ticket.id, office, "accept", {})
    ticket, _ = tickets.act(ticket.id, office, "own", {"unit": county["hall_a"].id, "classification": "服务态度"})
    tickets.act(ticket.id, handler, "sign", {})
    tickets.act(ticket.id, handler, "done", {"result": "内部：已对张丽娜批评教育"})
    tickets.act(ticket.id, office, "reply", {"reply": "已对相关人员批评教育，感谢监督"})
    page = text(client.post("/track", data={"code": code, "last4": "5678", "csrf_token": token(client, "/track")}))
    assert "已对相关人员批评教育，感谢监督" in page and "办结" in page
    assert "张丽娜" not in page and "内部" not in page  # the handler's own report stays internal


@pytest.mark.parametrize("data, message", [
    ({"kind": "suggestion", "content": ""}, "请写下您要反映的内容"),
    ({"kind": "suggestion", "content": "长" * 2001}, "内容最多 2000 字"),
    ({"kind": "nonsense", "content": "x"}, "请选择留言类别"),
    ({"kind": "suggestion", "content": "x", "phone": "12"}, "请填写正确的手机号"),
    ({"kind": "suggestion", "content": "x", "unit": "99999"}, "请从列表中选择单位"),
])
def test_bad_messages_are_explained_and_nothing_saved(client, county, data, message):
    response = post(client, "/board", **data)
    assert response.status_code == 422 and message in text(response)
    assert Message.select().count() == 0 and Contact.select().count() == 0 and Ticket.select().count() == 0


def test_the_credit_code_checksum():
    assert is_valid("91350100M000100Y43") and is_valid("91440300708461136T")
    assert not is_valid("91350100M000100Y44") and not is_valid("91350100M000100Y4") and not is_valid("")


def test_an_enterprise_appeal_opens_an_enterprise_ticket(client, county):
    bad = post(client, "/enterprise", company="海兴锦绣服饰有限公司", credit_code="91350100M000100Y44",
               name="曹某", phone="13800001111", category="物流", content="原材料运货车下不了高速")
    assert bad.status_code == 422 and "统一社会信用代码" in text(bad)
    assert Ticket.select().count() == 0
    response = post(client, "/enterprise", company="海兴锦绣服饰有限公司", credit_code="91350100m000100y43",
                    name="曹某", phone="13800001111", category="物流", content="原材料运货车下不了高速")
    assert response.status_code == 200
    ticket = Ticket.get(Ticket.query_code == code_of(response))
    assert ticket.workflow == "enterprise" and ticket.classification == "物流"
    assert ticket.contact.credit_code == "91350100M000100Y43" and ticket.contact.company == "海兴锦绣服饰有限公司"


def test_wrong_codes_are_rate_limited_but_right_ones_are_not(client, county):
    right = code_of(post(client, "/board", kind="suggestion", content="测试"))
    t = token(client, "/track")
    codes = [client.post("/track", data={"code": "AAAAAAAAAAAA", "csrf_token": t}).status_code for _ in range(11)]
    assert codes[:10] == [404] * 10 and codes[10] == 429
    assert "请稍等" in text(client.post("/track", data={"code": right, "csrf_token": t}))


def test_the_complainant_grades_the_result_with_the_query_code(client, county, make_user):
    """追评: 不满意 reopens the handling where the rule says; the grade is kept."""
    from models import Contact, TicketEvent
    office, leader = make_user("office", "office"), make_user("leader", "leader")
    inspector = make_user("inspector", "inspector")
    ticket = tickets.open_ticket("problem", title="供暖不热", content="来电反映", source="hotline",
                                 actor_user=office, contact=Contact.create(phone="13800002222"))

    def to_revisit():
        t = Ticket.get_by_id(ticket.id)
        if t.stage == "accept":
            tickets.act(t.id, office, "submit", {"comment": "呈报"})
            tickets.act(t.id, leader, "dispatch", {"classification": "民生诉求", "comment": "调查"})
        tickets.act(t.id, inspector, "report", {"result": "已协调供热公司"})
        tickets.act(t.id, office, "reply", {"reply": "已协调供热公司提高供水温度"})

    lookup = {"code": ticket.query_code, "last4": "2222"}
    page = text(client.post("/track", data=dict(lookup, csrf_token=token(client, "/track"))))
    assert "您对办理结果满意吗" not in page  # nothing to grade yet
    to_revisit()
    page = text(client.post("/track", data=dict(lookup, csrf_token=token(client, "/track"))))
    assert "您对办理结果满意吗" in page
    t = token(client, "/track")
    bad = client.post("/track/grade", data=dict(lookup, grade="great", csrf_token=t))
    assert bad.status_code == 422
    reopened = client.post("/track/grade", data=dict(lookup, grade="dissatisfied", csrf_token=t))
    assert reopened.status_code == 200
    t1 = Ticket.get_by_id(ticket.id)
    assert t1.stage == "investigate" and t1.grade == "dissatisfied" and t1.status == "open"
    event = TicketEvent.select().where(TicketEvent.ticket == ticket.id).order_by(TicketEvent.id.desc()).get()
    assert event.role == "citizen" and event.actor_id is None and event.title == "群众追评"
    assert client.post("/track/grade", data=dict(lookup, grade="satisfied", csrf_token=t)).status_code == 409
    to_revisit()
    client.post("/track/grade", data=dict(lookup, grade="satisfied", csrf_token=t))
    t2 = Ticket.get_by_id(ticket.id)
    assert (t2.status, t2.closing_kind, t2.grade) == ("closed", "solved", "satisfied")
    wrong = client.post("/track/grade", data={"code": ticket.query_code, "last4": "0000", "grade": "satisfied",
                                              "csrf_token": t})
    assert wrong.status_code == 404


def test_a_paused_message_comes_back_with_everything_typed(app, client, county):
    app.config["MESSAGE_DEVICE_LIMIT"] = "1 per hour"
    assert post(client, "/board", kind="opinion", content="第一条").status_code == 200
    long_text = "窗口午休时间没人值班，群众来了只能等到下午，建议实行错时延时服务。" * 10
    paused = post(client, "/board", kind="suggestion", unit=str(county["hall_a"].id), content=long_text,
                  name="王建国", phone="13812345678")
    assert paused.status_code == 429 and "请稍等一分钟再点提交" in text(paused)
    page = text(paused)
    assert long_text + "</textarea>" in page and 'value="王建国"' in page and 'value="13812345678"' in page
    assert f'<option value="{county["hall_a"].id}" selected' in page
    assert Message.select().count() == 1
    # Another phone on the same hall Wi-Fi still gets through.
    assert post(app.test_client(), "/board", kind="opinion", content="另一台手机").status_code == 200


def test_a_paused_enterprise_appeal_keeps_the_company_form(app, client, county):
    app.config["MESSAGE_DEVICE_LIMIT"] = "0 per hour"
    paused = post(client, "/enterprise", company="海兴锦绣服饰有限公司", credit_code="91350100M000100Y43",
                  name="刘经理", phone="13812345678", category="物流", content="物流园区道路破损，货车进出困难")
    assert paused.status_code == 429
    page = text(paused)
    assert "物流园区道路破损，货车进出困难</textarea>" in page and 'value="91350100M000100Y43"' in page
    assert Ticket.select().count() == 0


def test_every_public_page_gives_the_browser_a_device_key_once(client, county):
    first = client.get("/board")
    cookie = client.get_cookie("ztc_device")
    assert cookie is not None and re.fullmatch(r"[0-9a-f]{32}", cookie.value) and cookie.http_only
    assert "ztc_device" not in client.get("/kiosk").headers.get("Set-Cookie", "")
    assert first.status_code == 200
