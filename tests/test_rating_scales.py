"""The national five-level 好差评 scale, 办件编号 once per case, and praise without a case flagged."""
import datetime
import re

import pytest

from app import create_app, ratings
from app.db import ConfigError
from models import Evaluation, FraudSignal, Reason, Ticket
from tests.test_public_rating import form_of, rate, text
from views.home import headline_figures


@pytest.fixture
def five(app):
    app.config["RATING_SCALE"] = "five"
    return app


def tag(title):
    return str(Reason.get(Reason.title == title).id)


def test_the_five_level_page_offers_each_level_with_its_own_tags(five, client, county):
    page = client.get(f"/e/{county['w1'].token}").get_data(as_text=True)
    levels = re.findall(r'name="level" value="([a-z_]+)"', page)
    assert levels == ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"]
    for label in ("非常满意", "基本满意", "非常不满意"):
        assert label in page
    # Each tag says which levels it goes with; the page's script shows only the chosen level's.
    assert re.search(r'data-levels="very_satisfied satisfied"><input type="checkbox" name="reasons" value="\d+"[^>]*> 办事效率高', page)
    assert re.search(r'data-levels="dissatisfied very_dissatisfied"><input[^>]*> 吃拿卡要', page)


def test_the_three_level_page_keeps_haixings_one_tap_choices(client, county):
    page = client.get(f"/e/{county['w1'].token}").get_data(as_text=True)
    assert re.findall(r'name="level" value="([a-z_]+)"', page) == ["satisfied", "average", "dissatisfied"]
    assert "办事效率高" not in page and "非常满意" not in page  # the national tags only on five levels
    assert "故意刁难" in page


def test_a_bad_rating_on_five_levels_needs_a_tag_and_opens_a_ticket(five, client, county):
    missing = rate(client, f"/e/{county['w1'].token}", level="very_dissatisfied")
    assert missing.status_code == 422 and "请至少选一个不满意原因" in text(missing)
    assert Evaluation.select().count() == 0
    done = rate(client, f"/e/{county['w1'].token}", level="very_dissatisfied", reasons=[tag("故意刁难")])
    assert done.status_code == 200 and "纪委监委将督促整改" in text(done)
    assert Ticket.get().query_code in text(done)  # she leaves with the code of the ticket it opened
    assert Ticket.select().count() == 1  # workflows.yaml opens one on either 差评 level


def test_praise_on_five_levels_keeps_its_optional_tags_and_drops_another_levels(five, client, county):
    response = rate(client, f"/e/{county['w1'].token}", level="very_satisfied",
                    reasons=[tag("办事效率高"), tag("故意刁难")])  # 故意刁难 was ticked before changing mind
    assert response.status_code == 200
    evaluation = Evaluation.get()
    assert [l.reason.title for l in evaluation.reason_links] == ["办事效率高"]
    assert Ticket.select().count() == 0
    assert rate(client, f"/e/{county['w1'].token}", level="satisfied").status_code == 200  # tags optional


def test_a_level_of_the_other_scale_is_refused(five, client, county):
    response = rate(client, f"/e/{county['w1'].token}", level="average")
    assert response.status_code == 422
    assert "请选择非常满意、满意、基本满意、不满意或非常不满意" in text(response)
    assert Evaluation.select().count() == 0


def test_figures_are_comparable_across_a_change_of_scale(app, client, county):
    for level in ("satisfied", "average", "dissatisfied"):
        rate(client, f"/e/{county['w1'].token}", level=level, reasons=[tag("办理速度慢")])
    app.config["RATING_SCALE"] = "five"
    for level in ("very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"):
        rate(client, f"/e/{county['w1'].token}", level=level, reasons=[tag("办理速度慢")])
    assert Evaluation.select().count() == 8
    figures = headline_figures()
    # 好评: 满意 ×2 and 非常满意; 中评: 一般 and 基本满意; 差评: 不满意 ×2 and 非常不满意.
    assert (figures["good"], figures["neutral"], figures["bad"]) == (3, 2, 3)
    assert figures["satisfaction_rate"] == 3 / 8


def test_an_unknown_scale_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="RATING_SCALE"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "RATING_SCALE": "stars",
                    "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})


def test_the_api_tells_a_device_which_levels_to_show(five, client):
    scale = client.get("/api/v1/scale").get_json()
    assert scale["key"] == "five" and scale["case_number"] is True
    assert [(l["id"], l["grade"], l["tags_required"]) for l in scale["levels"]][-2:] == \
        [("dissatisfied", "bad", True), ("very_dissatisfied", "bad", True)]
    assert scale["levels"][0]["title"] == "非常满意"


# --- 一次一评 -----------------------------------------------------------------------------------
def test_one_case_gets_one_rating_and_a_second_is_refused_politely(client, county):
    url = f"/kiosk?window={county['w1'].token}&case=ba-2026-000123"
    page = client.get(url).get_data(as_text=True)
    assert 'value="ba-2026-000123"' in page  # the counter pad passes the case it just served
    first = rate(client, url, level="satisfied", case_number="ba-2026-000123")
    assert first.status_code == 200
    assert Evaluation.get().case_number == "BA-2026-000123"
    second = rate(client, url, level="dissatisfied", reasons=[tag("办理速度慢")], case_number=" BA-2026-000123 ")
    assert second.status_code == 409
    assert "已经评价过了" in text(second) and "谢谢" in text(second)
    assert Evaluation.select().count() == 1 and Ticket.select().count() == 0


def test_the_same_page_sent_twice_with_a_case_number_counts_once_without_a_refusal(client, county):
    page = client.get(f"/e/{county['w1'].token}").get_data(as_text=True)
    fields = form_of(page)
    fields.update(level="satisfied", case_number="BA-0001")
    assert client.post("/rate", data=fields).status_code == 200
    assert client.post("/rate", data=fields).status_code == 200  # a double tap
    assert Evaluation.select().count() == 1


@pytest.mark.parametrize("bad", ["<script>", "1", "办件123", "A" * 41])
def test_a_malformed_case_number_is_explained_and_nothing_saved(client, county, bad):
    response = rate(client, f"/e/{county['w1'].token}", level="satisfied", case_number=bad)
    assert response.status_code == 422 and "办件编号由字母、数字" in text(response)
    assert Evaluation.select().count() == 0


def test_the_api_refuses_a_second_rating_of_a_case_with_409(client, county):
    body = {"token": county["w1"].token, "level": "satisfied", "case_number": "B7"}
    short = client.post("/api/v1/evaluations", json=dict(body, submission_key=ratings.new_submission_key()))
    assert short.status_code == 422 and "case_number" in short.get_json()["error"]["fields"]
    body["case_number"] = "BA-0007"
    first = client.post("/api/v1/evaluations", json=dict(body, submission_key=ratings.new_submission_key()))
    again = client.post("/api/v1/evaluations", json=dict(body, submission_key=ratings.new_submission_key()))
    assert first.status_code == 201 and again.status_code == 409
    assert again.get_json()["error"]["code"] == "case_rated"
    assert Evaluation.select().count() == 1


def test_without_case_numbers_the_page_does_not_ask(app, client, county):
    app.config["RATING_CASE_NUMBER"] = "off"
    page = client.get(f"/e/{county['w1'].token}").get_data(as_text=True)
    assert 'name="case_number"' not in page
    assert rate(client, f"/e/{county['w1'].token}", level="satisfied", case_number="BA-0001").status_code == 200
    assert Evaluation.get().case_number is None


# --- 无办件编号的集中好评 ---------------------------------------------------------------------------
def praise(window, n, at, cased=0):
    for i in range(n):
        Evaluation.create(unit=window.unit_id, window=window, level="satisfied", channel="kiosk",
                          created_at=at, case_number=f"BA-{window.id}-{i:05d}" if i < cased else None)


def test_many_satisfied_without_a_case_number_are_flagged_once_a_day(conn, county):
    at = datetime.datetime(2026, 11, 24, 15, 0)
    praise(county["w2"], 5, at, cased=5)  # the county's pads do pass case numbers
    praise(county["w1"], ratings.UNCASED_COUNT, at)
    assert ratings.detect_uncased_praise(at) == 1
    assert ratings.detect_uncased_praise(at + datetime.timedelta(hours=1)) == 0  # once per window and day
    signal = FraudSignal.get(FraudSignal.kind == "uncased_praise")
    assert signal.window_id == county["w1"].id and "没有办件编号" in signal.detail
    assert Evaluation.select().count() == ratings.UNCASED_COUNT + 5  # every rating kept


def test_praise_mostly_with_case_numbers_is_not_flagged(conn, county):
    at = datetime.datetime(2026, 11, 24, 15, 0)
    praise(county["w1"], 3 * ratings.UNCASED_COUNT, at, cased=2 * ratings.UNCASED_COUNT)
    assert ratings.detect_uncased_praise(at) == 0


def test_where_no_case_numbers_are_in_use_nothing_is_flagged(conn, county):
    at = datetime.datetime(2026, 11, 24, 15, 0)
    praise(county["w1"], 3 * ratings.UNCASED_COUNT, at)
    assert ratings.detect_uncased_praise(at) == 0


def test_the_commission_edits_which_levels_a_tag_goes_with(client, login_as, county):
    from tests.conftest import csrf_token
    login_as("office")
    reason = Reason.get(Reason.title == "服务态度差")
    url = f"/admin/reason/edit/?id={reason.id}"
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "title": "服务态度差", "sort_order": "40",
                                      "levels": ["very_dissatisfied"], "active": "y"})
    assert response.status_code == 302
    assert Reason.get_by_id(reason.id).levels == "very_dissatisfied"
    none = client.post(url, data={"csrf_token": token, "title": "服务态度差", "sort_order": "40", "active": "y"})
    assert none.status_code == 422 and "请至少勾选一个评价等级" in text(none)
    assert Reason.get_by_id(reason.id).levels == "very_dissatisfied"
    listing = text(client.get("/admin/reason/"))
    assert "非常不满意" in listing
