"""A citizen rates a window or an officer at the kiosk or by scanning a QR code."""
import re

import pytest

from models import Contact, Evaluation, EvaluationReason, Reason, Staff, Ticket, Window


def form_of(page):
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return fields


def rate(client, url, **data):
    page = client.get(url).get_data(as_text=True)
    fields = form_of(page)
    fields.update(data)
    return client.post("/rate", data=fields)


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_kiosk_leads_from_unit_to_window_to_rating(client, county):
    start = text(client.get("/kiosk"))
    assert "县行政审批局" in start and "县医疗保障局" in start
    windows = text(client.get(f"/kiosk?unit={county['hall_a'].id}"))
    assert "企业开办窗口" in windows and "医保报销窗口" not in windows
    page = text(client.get(f"/kiosk?window={county['w1'].token}&browse=1"))
    assert "满意" in page and "一般" in page and "不满意" in page and "张丽娜" in page
    for reason in ("办理速度慢", "故意刁难", "吃拿卡要", "服务态度差"):
        assert reason in page


def test_a_satisfied_rating_by_qr_is_stored_once(client, county):
    url = f"/e/{county['w1'].token}"
    page = client.get(url).get_data(as_text=True)
    fields = form_of(page)
    fields.update(level="satisfied", staff=str(county["s1"].id), comment="办事效率高")
    first = client.post("/rate", data=fields)
    again = client.post("/rate", data=fields)  # a double tap / a resent form
    assert first.status_code == again.status_code == 200 and "感谢您的评价" in text(first)
    e = Evaluation.get()
    assert Evaluation.select().count() == 1
    assert (e.level, e.channel, e.window_id, e.staff_id, e.unit_id) == \
        ("satisfied", "qr", county["w1"].id, county["s1"].id, county["hall_a"].id)


def test_an_officers_badge_code_rates_that_officer(client, county):
    response = rate(client, f"/e/{county['s2'].token}", level="average")
    assert response.status_code == 200
    e = Evaluation.get()
    assert e.staff_id == county["s2"].id and e.window_id == county["w2"].id and e.unit_id == county["hall_b"].id


def test_dissatisfied_needs_a_reason_and_opens_a_ticket_by_the_rules(client, county):
    missing = rate(client, f"/kiosk?window={county['w1'].token}", level="dissatisfied")
    assert missing.status_code == 422 and "请至少选一个不满意原因" in text(missing)
    assert Evaluation.select().count() == 0
    slow = Reason.get(Reason.title == "办理速度慢")
    response = rate(client, f"/kiosk?window={county['w1'].token}", level="dissatisfied",
                    reasons=[str(slow.id)], phone="13912345678", comment="等了两个小时")
    assert response.status_code == 200
    e = Evaluation.get()
    assert e.channel == "kiosk" and e.contact.phone == "13912345678"
    assert [l.reason.title for l in EvaluationReason.select()] == ["办理速度慢"]
    assert Ticket.get(Ticket.evaluation == e).workflow == "evaluation"
    bribe = Reason.get(Reason.title == "吃拿卡要")
    rate(client, f"/e/{county['w2'].token}", level="dissatisfied", reasons=[str(bribe.id)])
    assert Ticket.select().where(Ticket.workflow == "problem").count() == 1  # straight to the commission


@pytest.mark.parametrize("data, message", [
    ({"level": "great"}, "请选择满意、一般或不满意"),
    ({"level": "satisfied", "comment": "很" * 501}, "意见最多 500 字"),
    ({"level": "satisfied", "phone": "12345"}, "请填写正确的手机号"),
    ({"level": "dissatisfied", "reasons": ["99999"]}, "所选的原因已不再使用"),
    ({"level": "satisfied", "submission_key": "x"}, "页面已过期"),
])
def test_bad_input_is_explained_and_nothing_saved(client, county, data, message):
    response = rate(client, f"/e/{county['w1'].token}", **data)
    assert response.status_code == 422 and message in text(response)
    assert Evaluation.select().count() == 0 and Contact.select().count() == 0


def test_a_retired_window_or_a_replaced_code_is_refused_kindly(client, county):
    old = county["w1"].token
    Window.update(token="replacedtoken0000").where(Window.id == county["w1"].id).execute()
    assert client.get(f"/e/{old}").status_code == 404
    assert "二维码已失效" in text(client.get(f"/e/{old}"))
    Staff.update(active=False).where(Staff.id == county["s2"].id).execute()
    assert client.get(f"/e/{county['s2'].token}").status_code == 404


def test_rating_without_the_csrf_token_is_refused(client, county):
    page = client.get(f"/e/{county['w1'].token}").get_data(as_text=True)
    fields = form_of(page)
    fields.pop("csrf_token")
    fields["level"] = "satisfied"
    assert client.post("/rate", data=fields).status_code == 400
    assert Evaluation.select().count() == 0


def test_citizen_text_is_escaped(client, county):
    rate(client, f"/e/{county['w1'].token}", level="satisfied", comment="<script>alert(1)</script>")
    assert Evaluation.get().comment == "<script>alert(1)</script>"  # stored as given


def test_too_many_ratings_from_one_device_get_a_friendly_pause(app, client, county):
    app.config["RATING_DEVICE_LIMIT"] = "3 per minute"
    codes = [rate(client, f"/e/{county['w1'].token}", level="satisfied").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    # The page comes back as the citizen filled it in, with the pause explained.
    paused = rate(client, f"/e/{county['w1'].token}", level="average", comment="排队时间有点长")
    assert paused.status_code == 429 and paused.headers["Retry-After"] == "60"
    assert "请稍等" in text(paused) and "排队时间有点长</textarea>" in text(paused)
    assert 'id="level-average" checked' in text(paused)
    assert Evaluation.select().count() == 3
    # Another phone on the same hall Wi-Fi (one address behind NAT) is not held up.
    assert rate(app.test_client(), f"/e/{county['w1'].token}", level="satisfied").status_code == 200


def test_a_device_that_drops_its_cookie_still_meets_the_address_limit(app, county):
    app.config["RATING_RATE_LIMIT"] = "4 per minute"
    codes = [rate(app.test_client(), f"/e/{county['w1'].token}", level="satisfied").status_code
             for _ in range(6)]  # a fresh browser each time: no device cookie to count
    assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]
    assert Evaluation.select().count() == 4


def test_a_rating_that_opens_a_ticket_while_the_calendar_cache_is_cold(client, county):
    """The calendar is reloaded inside the rating's transaction: that must not close the connection."""
    from app import workdays
    workdays.invalidate()
    slow = Reason.get(Reason.title == "办理速度慢")
    response = rate(client, f"/e/{county['w1'].token}", level="dissatisfied", reasons=[str(slow.id)])
    assert response.status_code == 200 and Ticket.select().count() == 1


def test_a_ten_megabyte_comment_is_refused_with_a_chinese_page(client, county):
    page = client.get(f"/e/{county['w1'].token}").get_data(as_text=True)
    fields = form_of(page)
    fields.update(level="satisfied", comment="很" * (10 * 1024 * 1024 // 3))
    response = client.post("/rate", data=fields)
    assert response.status_code == 413 and "上传的内容太大" in text(response)
    assert Evaluation.select().count() == 0


def test_a_burst_of_ratings_is_flagged_once_and_every_rating_kept(app, client, county):
    from app import ratings
    from models import FraudSignal
    for _ in range(ratings.BURST_COUNT + 3):  # from as many phones
        assert rate(app.test_client(), f"/e/{county['w1'].token}", level="satisfied").status_code == 200
    rate(client, f"/e/{county['w2'].token}", level="satisfied")
    assert Evaluation.select().count() == ratings.BURST_COUNT + 4
    assert ratings.detect_bursts() == 1
    assert ratings.detect_bursts() == 0  # the sweeper's next round does not repeat it
    signals = list(FraudSignal.select().where(FraudSignal.kind == "burst"))
    assert len(signals) == 1 and signals[0].window_id == county["w1"].id


def test_a_rating_from_an_officers_browser_is_flagged(client, login_as, county):
    from models import FraudSignal
    login_as("handler", county["hall_a"])
    rate(client, f"/e/{county['w1'].token}", level="satisfied")
    signal = FraudSignal.get(FraudSignal.kind == "officer_device")
    assert signal.evaluation.window_id == county["w1"].id and "handler_HA" in signal.detail
    assert Evaluation.select().count() == 1
