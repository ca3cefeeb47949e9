"""Officers handle a ticket in the admin: each sees only the buttons it may press."""
import re

from models import Contact, Message, Notification, Ticket, TicketEvent
from tests.conftest import csrf_token, login


def page_text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def act(client, ticket, action, **data):
    url = f"/admin/handle/{ticket.id}/"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'id="form-%s".*?name="%s-csrf_token"[^>]*value="([^"]+)"' % (action, action), page, re.S)
    assert token, f"no form for {action}"
    revision = re.search(r'name="%s-revision"[^>]*value="(\d+)"' % action, page).group(1)
    fields = {f"{action}-{k}": v for k, v in data.items()}
    fields.update({f"{action}-csrf_token": token.group(1), f"{action}-revision": revision})
    return client.post(f"/admin/handle/{ticket.id}/act/{action}", data=fields, content_type="multipart/form-data")


def as_user(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def test_a_message_walks_from_the_board_to_closing(app, officers, county):
    message = Message.create(kind="complaint", unit=county["hall_a"], content="营业执照办了半个月还没拿到",
                             contact=Contact.create(name="王某", phone="13900001111"))
    office = as_user(app, "office")
    token = csrf_token(office, "/admin/message/")
    response = office.post("/admin/message/action/", data={"action": "accept", "rowid": [message.id],
                                                          "csrf_token": token})
    assert response.status_code == 302
    ticket = Ticket.get(Ticket.message == message)
    assert ticket.workflow == "message" and ticket.stage == "accept"
    page = page_text(office.get(f"/admin/handle/{ticket.id}/"))
    assert "留言办理" in page and "王某 139****1111" in page and "13900001111" not in page
    assert act(office, ticket, "accept").status_code == 302
    assert act(office, ticket, "transfer", unit=county["hall_b"].id, classification="办事效率",
               comment="转医保局").status_code == 302
    handler_b = as_user(app, "handler_b")
    page = page_text(handler_b.get(f"/admin/handle/{ticket.id}/"))
    assert "签收" in page and "王某" not in page and "1111" not in page  # the unit never sees who
    assert act(handler_b, ticket, "send_back", comment="应由审批局办理").status_code == 302
    assert act(office, ticket, "own", unit=county["hall_a"].id, classification="办事效率").status_code == 302
    handler_a = as_user(app, "handler_a")
    assert act(handler_a, ticket, "sign").status_code == 302
    assert act(handler_a, ticket, "done", result="已当场发放营业执照").status_code == 302
    assert act(office, ticket, "reply", reply="已办结并电话告知").status_code == 302
    ticket = Ticket.get_by_id(ticket.id)
    assert ticket.status == "closed" and ticket.closing_kind == "solved"
    page = page_text(office.get(f"/admin/handle/{ticket.id}/"))
    for step in ("受理", "转办", "退回", "交本单位办理", "签收", "报送办理结果", "答复留言人并办结"):
        assert step in page
    assert "应由审批局办理" in page and "县医疗保障局" in page


def test_a_role_without_the_button_gets_403_and_nothing_changes(app, officers, open_problem):
    ticket = open_problem()
    office = as_user(app, "office")
    leader = as_user(app, "leader")
    assert "呈报领导批办" not in page_text(leader.get(f"/admin/handle/{ticket.id}/"))
    token = csrf_token(leader, f"/admin/handle/{ticket.id}/")
    response = leader.post(f"/admin/handle/{ticket.id}/act/submit",
                           data={"submit-comment": "越权", "submit-csrf_token": token, "submit-revision": "0"})
    assert response.status_code == 403 and "平台受理" in page_text(response)
    assert Ticket.get_by_id(ticket.id).stage == "accept"
    assert act(office, ticket, "submit", comment="呈报").status_code == 302


def test_a_handler_cannot_open_another_units_ticket(app, officers, county, open_problem):
    ticket = open_problem(handling_unit=county["hall_b"])
    assert as_user(app, "handler_a").get(f"/admin/handle/{ticket.id}/").status_code == 404
    assert as_user(app, "handler_b").get(f"/admin/handle/{ticket.id}/").status_code == 200


def test_missing_fields_are_explained_and_nothing_is_saved(app, officers, open_problem):
    ticket = open_problem()
    office = as_user(app, "office")
    response = act(office, ticket, "submit", comment="   ")
    assert response.status_code == 422 and "请填写意见" in page_text(response)
    assert Ticket.get_by_id(ticket.id).revision == 0
    assert TicketEvent.select().where(TicketEvent.ticket == ticket).count() == 1


def test_a_stale_form_is_refused_with_the_current_stage(app, officers, open_problem):
    ticket = open_problem()
    first, second = as_user(app, "office"), app.test_client()
    login(second, "office")
    page = second.get(f"/admin/handle/{ticket.id}/").get_data(as_text=True)  # the second officer reads…
    assert act(first, ticket, "submit", comment="先提交").status_code == 302  # …the first one acts
    token = re.search(r'name="reject-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = second.post(f"/admin/handle/{ticket.id}/act/reject", data={
        "reject-comment": "后提交", "reject-csrf_token": token, "reject-revision": "0"})
    assert response.status_code in (403, 409)
    assert "领导批办分类处置" in page_text(response)
    assert Ticket.get_by_id(ticket.id).stage == "approve"


def test_attachments_are_checked_and_served_to_who_may_see(app, officers, county, open_problem):
    import io
    ticket = open_problem()
    office = as_user(app, "office")
    url = f"/admin/handle/{ticket.id}/"
    page = office.get(url).get_data(as_text=True)
    token = re.search(r'name="submit-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    fake = office.post(f"{url}act/submit", content_type="multipart/form-data", data={
        "submit-comment": "附照片", "submit-csrf_token": token, "submit-revision": "0",
        "submit-attachment": (io.BytesIO(b"MZ\x90\x00 not a photo"), "photo.jpg")})
    assert fake.status_code == 422 and "只接受" in page_text(fake)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    ok = office.post(f"{url}act/submit", content_type="multipart/form-data", data={
        "submit-comment": "附照片", "submit-csrf_token": token, "submit-revision": "0",
        "submit-attachment": (io.BytesIO(png), "现场照片.png")})
    assert ok.status_code == 302
    from models import Attachment
    item = Attachment.get()
    download = office.get(f"{url}attachment/{item.id}")
    assert download.status_code == 200 and download.data == png
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()
    assert as_user(app, "handler_a").get(f"{url}attachment/{item.id}").status_code == 404


def test_todo_supervision_and_notifications_pages(app, officers, open_problem):
    import datetime as dt
    from app import tickets
    late = open_problem(at=dt.datetime(2026, 3, 2, 9, 0))
    tickets.sweep(dt.datetime(2026, 3, 10, 9, 0))
    office = as_user(app, "office")
    todo = page_text(office.get("/admin/todo/"))
    assert late.code in todo and "超期" in todo
    supervision = page_text(as_user(app, "leader").get("/admin/supervision/"))
    assert late.code in supervision and "红牌" in supervision
    notes = page_text(office.get("/admin/notifications/"))
    assert "黄牌" in notes and late.code in notes
    assert Notification.select().count() >= 3


def test_register_a_problem_by_phone(app, officers, county):
    office = as_user(app, "office")
    token = csrf_token(office, "/admin/handle/new/")
    bad = office.post("/admin/handle/new/", data={"csrf_token": token, "workflow": "problem",
                                                 "source": "hotline", "title": "", "content": "x", "unit": ""})
    assert bad.status_code == 422 and "请填写问题摘要" in page_text(bad)
    response = office.post("/admin/handle/new/", data={
        "csrf_token": token, "workflow": "problem", "source": "hotline", "title": "供暖不热",
        "content": "来电反映小区供暖温度不达标", "unit": county["hall_a"].id, "name": "", "phone": "13800002222"})
    assert response.status_code == 302
    ticket = Ticket.get(Ticket.title == "供暖不热")
    assert ticket.source == "hotline" and ticket.contact.phone == "13800002222" and ticket.stage == "accept"


def test_print_and_word_assignment_sheet(app, officers, county, open_problem):
    import io
    from docx import Document
    ticket = open_problem(handling_unit=county["hall_a"])
    office = as_user(app, "office")
    printed = page_text(office.get(f"/admin/handle/{ticket.id}/print/"))
    assert "交办单" in printed and ticket.code in printed and "县行政审批局" in printed
    word = office.get(f"/admin/handle/{ticket.id}/print.docx")
    assert word.status_code == 200
    content = word.data
    word.close()
    text = "\n".join(c.text for t in Document(io.BytesIO(content)).tables for r in t.rows for c in r.cells)
    assert "窗口办事拖拉" in text and "县行政审批局" in text


def test_a_unit_appeals_a_malicious_rating_and_the_commission_upholds_it(app, officers, county):
    from models import Evaluation
    from app.tickets import open_for_evaluation
    rating = Evaluation.create(unit=county["hall_a"], window=county["w1"], level="dissatisfied",
                               channel="qr", comment="随便打的差评")
    other = Evaluation.create(unit=county["hall_b"], level="dissatisfied", channel="qr")
    handler = as_user(app, "handler_a")
    assert "申诉" in page_text(handler.get("/admin/evaluation/"))
    assert handler.get(f"/admin/handle/appeal/{other.id}/").status_code == 404  # not its unit
    token = csrf_token(handler, f"/admin/handle/appeal/{rating.id}/")
    short = handler.post(f"/admin/handle/appeal/{rating.id}/", data={"reason": "不对", "csrf_token": token})
    assert short.status_code == 422 and "至少 10 个字" in page_text(short)
    response = handler.post(f"/admin/handle/appeal/{rating.id}/", data={
        "reason": "监控显示该群众当天未到本窗口办理任何业务，属误评", "csrf_token": token})
    assert response.status_code == 302
    appeal = Ticket.get(Ticket.workflow == "appeal")
    office = as_user(app, "office")
    assert act(office, appeal, "uphold", comment="经调取监控，申诉成立").status_code == 302
    assert Evaluation.get_by_id(rating.id).excluded is True
    assert open_for_evaluation(other) is not None  # a plain 不满意 opens the evaluation workflow
    assert Ticket.get(Ticket.evaluation == other).workflow == "evaluation"
