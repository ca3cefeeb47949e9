"""The hotline officer records a caller's rating or message, channel 电话, with the caller's number."""
import re

from models import Evaluation, Message, Reason, Ticket
from tests.conftest import csrf_token


def test_a_rating_by_phone(client, login_as, county):
    login_as("office")
    page = client.get("/admin/hotline/").get_data(as_text=True)
    key = re.search(r'name="submission_key" value="([0-9a-f]{32})"', page).group(1)
    token = csrf_token(client, "/admin/hotline/")
    missing = client.post("/admin/hotline/rating", data={"csrf_token": token, "submission_key": key,
                                                         "window": county["w2"].id, "level": "dissatisfied"})
    assert missing.status_code == 422 and "请至少选一个不满意原因" in missing.get_data(as_text=True)
    rude = Reason.get(Reason.title == "服务态度差")
    response = client.post("/admin/hotline/rating", data={
        "csrf_token": token, "submission_key": key, "window": county["w2"].id, "level": "dissatisfied",
        "reasons": [rude.id], "phone": "13700001234", "comment": "来电称窗口人员态度生硬"})
    assert response.status_code == 302
    e = Evaluation.get()
    assert (e.channel, e.window_id, e.contact.phone) == ("hotline", county["w2"].id, "13700001234")
    assert Ticket.get(Ticket.evaluation == e).source == "hotline"


def test_a_message_by_phone(client, login_as, county):
    login_as("office")
    token = csrf_token(client, "/admin/hotline/")
    response = client.post("/admin/hotline/message", data={
        "csrf_token": token, "kind": "complaint", "unit": county["hall_b"].id, "content": "报销一直没到账",
        "phone": "13700005678"}, follow_redirects=True)
    message = Message.get()
    assert message.channel == "hotline" and message.query_code in response.get_data(as_text=True)


def test_only_the_office_takes_calls(client, login_as, county):
    login_as("leader")
    assert client.get("/admin/hotline/").status_code == 403
