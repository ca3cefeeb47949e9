"""Every officer sees what waits for him, in Chinese, and the lead unit can press its co-handlers."""
import re

from models import Notification, TicketEvent
from tests.conftest import PASSWORD, csrf_token, login
from tests.workflows.test_engine import at, step


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def with_co_handler(o, county, open_problem):
    t = open_problem()
    t = step(t, o["office"], "submit", at(0), comment="呈报")
    t = step(t, o["leader"], "dispatch", at(0), classification="作风", comment="调查")
    t = step(t, o["inspector"], "assign", at(1), unit=county["hall_a"].id, comment="审批局主办，医保局协办",
             co_units=[county["hall_b"].id])
    return step(t, o["handler_a"], "sign", at(1, 14))


def test_a_handler_lands_on_his_to_do_and_every_page_counts_it(client, officers, county, open_problem):
    t = with_co_handler(officers, county, open_problem)
    response = login(client, "handler_a")
    assert response.headers["Location"].endswith("/admin/todo/")
    page = text(client.get("/admin/notifications/"))
    badge = re.search(r'id="nav-todo"[^>]*>我的待办 <span class="badge[^"]*">(\d+)</span>', page)
    assert badge and badge.group(1) == "1"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/todo/")})
    assert login(client, "office").headers["Location"].endswith("/admin/")  # the dashboard
    assert re.search(r'id="nav-todo"[^>]*>我的待办 <span class="badge[^"]*">0</span>', text(client.get("/admin/")))


def test_my_notifications_name_their_kind_in_chinese_and_link_the_ticket(client, officers, county, open_problem):
    t = with_co_handler(officers, county, open_problem)
    login(client, "handler_b")
    page = text(client.get("/admin/notifications/"))
    assert "协办请求" in page and "co_handling" not in page
    assert f'href="/admin/handle/{t.id}/">{t.code}</a>' in page


def test_the_lead_unit_sees_whom_it_waits_for_and_presses_it(client, officers, county, open_problem):
    o = officers
    t = with_co_handler(o, county, open_problem)
    login(client, "handler_a")
    page = text(client.get(f"/admin/handle/{t.id}/"))
    assert "等待协办单位答复：县医疗保障局" in page and "催办县医疗保障局" in page
    co_id = re.search(r'action="/admin/handle/%d/chase/(\d+)"' % t.id, page).group(1)
    token = csrf_token(client, f"/admin/handle/{t.id}/")
    assert client.post(f"/admin/handle/{t.id}/chase/{co_id}", data={}).status_code == 400  # no CSRF token
    response = client.post(f"/admin/handle/{t.id}/chase/{co_id}", data={"csrf_token": token})
    assert response.status_code == 302
    chase = TicketEvent.get(TicketEvent.action == "co_chase")
    assert chase.title == "催办协办单位（县医疗保障局）" and chase.actor_id == o["handler_a"].id
    sent = Notification.get(Notification.kind == "co_chase")
    assert sent.unit_id == county["hall_b"].id and sent.role == "handler" and "催办" in sent.message
    assert "催办协办单位（县医疗保障局）" in text(client.get(f"/admin/handle/{t.id}/"))

    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/todo/")})
    login(client, "handler_b")  # the co-handler itself cannot press anyone
    token = csrf_token(client, f"/admin/handle/{t.id}/")
    assert client.post(f"/admin/handle/{t.id}/chase/{co_id}", data={"csrf_token": token}).status_code == 403
    step(t, o["handler_b"], "co_answer", at(2), comment="医保局已配合核实")
    page = text(client.get(f"/admin/handle/{t.id}/"))
    assert "协办答复（县医疗保障局）" in page and "等待协办单位答复" not in page
    client.post("/logout", data={"csrf_token": token})
    login(client, "handler_a")
    token = csrf_token(client, f"/admin/handle/{t.id}/")
    refused = client.post(f"/admin/handle/{t.id}/chase/{co_id}", data={"csrf_token": token})
    assert refused.status_code == 409 and "已经答复" in text(refused)
