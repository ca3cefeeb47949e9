"""A citizen who complains leaves with a query code she can follow, wherever she complained."""
import json
import re

import pytest

from app import qrcodes
from models import Reason, Ticket
from tests.conftest import login
from tests.test_public_rating import form_of, text

PUBLIC = "https://zt.haixing.gov.cn"


@pytest.fixture
def app_public(app):
    app.config["PUBLIC_BASE_URL"] = PUBLIC
    return app


def code_on(page):
    match = re.search(r'id="query-code">([0-9A-Z]{12})<', page)
    assert match, "no query code on the page"
    return match.group(1)


def rate_badly(client, url):
    page = client.get(url).get_data(as_text=True)
    fields = form_of(page)
    fields.update(level="dissatisfied", reasons=str(Reason.get(Reason.title == "办理速度慢").id),
                  comment="材料齐全还让跑三趟", phone="13900001234")
    return client.post("/rate", data=fields)


@pytest.mark.parametrize("channel", ["kiosk", "qr"])
def test_a_rating_that_opens_a_ticket_hands_over_its_code_and_a_qr_of_the_track_link(client, county, app_public,
                                                                                      channel):
    url = f"/kiosk?window={county['w1'].token}" if channel == "kiosk" else f"/e/{county['w1'].token}"
    response = rate_badly(client, url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    ticket = Ticket.get()
    assert code_on(page) == ticket.query_code and ticket.source == channel
    # the QR code is that of the public /track link with the code, as the phone will read it
    assert qrcodes.svg(qrcodes.track_url(PUBLIC, ticket.query_code), fluid=True) in page
    assert "后四位" in page  # she left a phone: the lookup will ask for its last digits
    if channel == "kiosk":  # the screen resets after a minute, or at 完成, to the window it serves
        assert f'content="60;url=/kiosk?window={county["w1"].token}"' in page
        assert re.search(r'id="done" href="/kiosk\?window=', page) and "完成" in page
    else:
        assert 'http-equiv="refresh"' not in page
        assert f'href="{PUBLIC}/track?code={ticket.query_code}"' in page


def test_a_rating_that_opens_no_ticket_shows_no_code(client, county):
    page = client.get(f"/e/{county['w1'].token}").get_data(as_text=True)
    fields = form_of(page)
    fields.update(level="satisfied")
    response = client.post("/rate", data=fields)
    assert response.status_code == 200 and 'id="query-code"' not in response.get_data(as_text=True)
    assert Ticket.select().count() == 0


def test_the_track_link_brings_the_code_into_the_form(client, county):
    page = client.get("/track?code=ABCDEFGHJKMN").get_data(as_text=True)
    assert 'name="code" maxlength="12" autocomplete="off" value="ABCDEFGHJKMN"' in page
    assert "<script" not in client.get('/track?code="><script>').get_data(as_text=True).split("<main>")[1]


def test_board_and_enterprise_end_on_the_code_page(client, county, app_public):
    from tests.test_board import post
    board = post(client, "/board", kind="complaint", unit=str(county["hall_a"].id), content="窗口午休提前",
                 name="", phone="")
    code = code_on(board.get_data(as_text=True))
    assert qrcodes.svg(qrcodes.track_url(PUBLIC, code), fluid=True) in board.get_data(as_text=True)
    enterprise = post(client, "/enterprise", company="海兴锦绣服饰有限公司", credit_code="91350100M000100Y43",
                      name="王经理", phone="13812345678", category="审批", content="环评审批超期")
    assert enterprise.status_code == 200
    assert code_on(enterprise.get_data(as_text=True)) == Ticket.get(Ticket.workflow == "enterprise").query_code


def test_the_api_answer_carries_the_query_code(client, county):
    response = client.post("/api/v1/evaluations", json={
        "token": county["w1"].token, "level": "dissatisfied", "submission_key": "a" * 32,
        "reasons": [Reason.get(Reason.title == "服务态度差").id]})
    assert response.status_code == 201
    body = response.get_json()
    assert body["query_code"] == Ticket.get().query_code and body["ticket"] == Ticket.get().code
    spec = client.get("/api/v1/openapi.json").get_json()
    answer = spec["paths"]["/evaluations"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert "query_code" in answer["properties"]
    calm = client.post("/api/v1/evaluations", json={"token": county["w1"].token, "level": "satisfied",
                                                    "submission_key": "b" * 32})
    assert calm.get_json()["query_code"] is None


def test_the_hotline_officer_is_given_the_code_to_tell_the_caller(client, county, make_user):
    from models import Unit
    office = make_user("office", "office", Unit.create(code="K01", name="县纪委监委", kind="commission"))
    login(client, office.username)
    page = client.get("/admin/hotline/").get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    fields.update(window=str(county["w1"].id), level="dissatisfied", phone="13900005678",
                  reasons=str(Reason.get(Reason.title == "吃拿卡要").id))
    shown = text(client.post("/admin/hotline/rating", data=fields, follow_redirects=True))
    ticket = Ticket.get()
    assert ticket.source == "hotline" and f"请告诉来电人查询码 {ticket.query_code}" in shown
