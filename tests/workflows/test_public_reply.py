"""The citizen reads only the public reply (答复群众): nothing written inside ever reaches her."""
import datetime as dt
import re

from app import tickets
from models import Accountability, Contact, Ticket
from tests.test_board import post, text, token
from tests.workflows.test_engine import at, step

CANARY = "内部金丝雀"


def lookup(client, ticket):
    return client.post("/track", data={"code": ticket.query_code, "last4": "4321",
                                       "csrf_token": token(client, "/track")})


def walk_to_revisit(o, county, open_problem, make_user):
    """The whole chain, with a canary in every internal field an officer fills in."""
    t = open_problem(contact=Contact.create(name="刘桂芳", phone="13900004321"))
    t = step(t, o["office"], "submit", at(0), comment=f"{CANARY}呈报")
    t = step(t, o["leader"], "dispatch", at(0), classification=f"{CANARY}分类", comment=f"{CANARY}批办")
    t = step(t, o["inspector"], "assign", at(1), unit=county["hall_a"].id, comment=f"{CANARY}交办",
             co_units=[county["hall_b"].id])
    t = step(t, o["handler_b"], "co_answer", at(1, 11), comment=f"{CANARY}协办答复")
    t = step(t, o["handler_a"], "sign", at(1, 14))
    t = step(t, o["handler_a"], "pause", at(2), comment=f"{CANARY}中止")
    t = step(t, o["handler_a"], "resume", at(3), comment=f"{CANARY}恢复")
    t = step(t, o["handler_a"], "extend_request", at(3, 11), days="3", comment=f"{CANARY}延期理由")
    t = step(t, o["inspector"], "extend_approve", at(3, 15), comment=f"{CANARY}同意")
    t = step(t, o["handler_a"], "done", at(4), result=f"{CANARY}整改报告：对张丽娜约谈提醒")
    t = step(t, o["inspector"], "report", at(5), result=f"{CANARY}调查结论")
    Accountability.create(ticket=t, unit=county["hall_a"], staff=county["s1"], kind="reminder_talk",
                          decided_on=dt.date(2026, 3, 7), document_number="海纪〔2026〕3号", decider="县纪委监委",
                          note=f"{CANARY}问责事实")
    return t


def test_only_the_public_reply_reaches_the_track_page_and_the_api(client, officers, county, open_problem,
                                                                  make_user):
    o = officers
    t = walk_to_revisit(o, county, open_problem, make_user)
    page = text(lookup(client, t))
    assert CANARY not in page and "张丽娜" not in page
    assert "给您的答复" not in page  # nothing answered yet
    t = step(t, o["office"], "reply", at(6), reply="已督促县行政审批局整改，窗口推行一次性告知。")
    assert t.result == f"{CANARY}调查结论"  # the internal result is kept, apart
    page = text(lookup(client, t))
    assert CANARY not in page and "张丽娜" not in page and "office" not in page
    reply_at = page.index("已督促县行政审批局整改")
    assert "县行政审批局" in page[reply_at:] and "2026-03-08" in page  # the answering unit and its date
    assert reply_at < page.index("您对办理结果满意吗")  # the answer comes before the question
    api = client.get(f"/api/v1/track?code={t.query_code}&last4=4321").get_json()
    assert api["answer"] == "已督促县行政审批局整改，窗口推行一次性告知。" and api["answered_by"] == "县行政审批局"
    assert CANARY not in str(api)


def test_after_her_dissatisfied_grade_she_is_told_what_happens_next(client, officers, county, open_problem,
                                                                    make_user):
    o = officers
    t = walk_to_revisit(o, county, open_problem, make_user)
    t = step(t, o["office"], "reply", at(6), reply="已整改。")
    response = client.post("/track/grade", data={"code": t.query_code, "last4": "4321", "grade": "dissatisfied",
                                                 "csrf_token": token(client, "/track")})
    page = text(response)
    t = Ticket.get_by_id(t.id)
    assert t.stage == "investigate" and t.status == "open"
    assert "已重新办理" in page and "调查跟踪督办" in page and t.due_at.strftime("%Y-%m-%d") in page
    assert "您对办理结果满意吗" not in page and CANARY not in page


def test_reply_templates_fill_in_public_facts_only(client, officers, county, open_problem, make_user):
    from tests.conftest import login
    o = officers
    t = walk_to_revisit(o, county, open_problem, make_user)
    login(client, "office")
    page = client.get(f"/admin/handle/{t.id}/").get_data(as_text=True)
    options = re.search(r'<select class="form-control zt-template" data-target="reply-reply">(.*?)</select>',
                        page, re.S).group(1)
    assert "您于2026年3月2日反映的问题，已由县行政审批局办理完毕" in options
    assert CANARY not in options
    assert 'name="reply-reply"' in page  # the text the citizen reads is its own field


def test_a_message_answered_shows_its_reply_not_the_handlers_report(client, county, make_user):
    response = post(client, "/board", kind="complaint", unit=str(county["hall_a"].id), content="窗口午休提前",
                    name="", phone="")
    code = re.search(r'id="query-code">([0-9A-Z]{12})<', response.get_data(as_text=True)).group(1)
    ticket = Ticket.get(Ticket.query_code == code)
    office = make_user("office", "office")
    handler = make_user("h", "handler", county["hall_a"])
    tickets.act(ticket.id, office, "accept", {})
    tickets.act(ticket.id, office, "own", {"unit": county["hall_a"].id, "classification": "服务态度"})
    tickets.act(ticket.id, handler, "sign", {})
    tickets.act(ticket.id, handler, "done", {"result": f"{CANARY}已批评教育"})
    tickets.act(ticket.id, office, "reply", {"reply": "窗口已调整午休安排，保证中午有人值守。"})
    page = text(client.post("/track", data={"code": code, "csrf_token": token(client, "/track")}))
    assert "窗口已调整午休安排" in page and CANARY not in page
