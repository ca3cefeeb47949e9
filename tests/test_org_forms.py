"""Officers maintain units, windows, staff and reasons; bad input is refused in Chinese."""
import re

from models import Reason, Staff, Unit, Window
from tests.conftest import csrf_token


def post_form(client, url, data):
    data = dict(data, csrf_token=csrf_token(client, url))
    return client.post(url, data=data)


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_bureau_adds_a_window(client, login_as, county):
    login_as("bureau")
    response = post_form(client, "/admin/window/new/", {
        "unit": county["hall_a"].id, "number": "03", "name": "社会事务窗口", "services": "民办学校设立",
        "active": "y"})
    assert response.status_code == 302
    window = Window.get(Window.number == "03")
    assert window.unit_id == county["hall_a"].id and len(window.token) >= 16


def test_duplicate_window_number_is_refused_and_nothing_saved(client, login_as, county):
    login_as("bureau")
    response = post_form(client, "/admin/window/new/", {
        "unit": county["hall_b"].id, "number": "01", "name": "重复的窗口"})
    assert response.status_code == 422
    assert "大厅内已有 01 号窗口" in text(response)
    assert Window.select().where(Window.name == "重复的窗口").count() == 0


def test_editing_a_window_keeps_its_own_number(client, login_as, county):
    login_as("office")
    url = f"/admin/window/edit/?id={county['w1'].id}"
    response = post_form(client, url, {"unit": county["hall_a"].id, "number": "01",
                                       "name": "企业开办综合窗口", "active": "y"})
    assert response.status_code == 302
    assert Window.get_by_id(county["w1"].id).name == "企业开办综合窗口"


def test_staff_at_a_window_of_another_unit_is_refused(client, login_as, county):
    login_as("office")
    response = post_form(client, "/admin/staff/new/", {
        "name": "王五", "number": "S9", "unit": county["hall_a"].id, "window": county["w2"].id,
        "active": "y"})
    assert response.status_code == 422
    assert "02 号窗口属于县医疗保障局" in text(response)
    assert not Staff.select().where(Staff.number == "S9").exists()


def test_empty_or_blank_names_are_refused(client, login_as, county):
    login_as("office")
    for url, data in (
        ("/admin/window/new/", {"unit": county["hall_a"].id, "number": "09", "name": "   "}),
        ("/admin/staff/new/", {"name": "", "number": "S9", "unit": county["hall_a"].id}),
        ("/admin/unit/new/", {"code": "X1", "name": " ", "kind": "hall"}),
    ):
        response = post_form(client, url, data)
        assert response.status_code == 422, url
        assert "必填" in text(response), url
    assert Window.select().count() == 2 and Staff.select().count() == 2
    assert not Unit.select().where(Unit.code == "X1").exists()


def test_a_village_station_needs_a_township(client, login_as, county):
    login_as("office")
    response = post_form(client, "/admin/unit/new/", {"code": "V9", "name": "新村综合服务站",
                                                      "kind": "village", "parent": county["hall_a"].id})
    assert response.status_code == 422 and "必须隶属于一个乡镇" in text(response)
    response = post_form(client, "/admin/unit/new/", {"code": "V9", "name": "新村综合服务站",
                                                      "kind": "village", "parent": county["township"].id,
                                                      "active": "y"})
    assert response.status_code == 302
    assert Unit.get(Unit.code == "V9").parent_id == county["township"].id


def test_a_unit_cannot_sit_under_its_own_village(client, login_as, county):
    login_as("office")
    township = county["township"]
    response = post_form(client, f"/admin/unit/edit/?id={township.id}", {
        "code": "T1", "name": "苏基镇", "kind": "township", "parent": county["village"].id})
    assert response.status_code == 422 and "不能设为自己" in text(response)
    assert Unit.get_by_id(township.id).parent_id is None


def test_reasons_can_be_added_reordered_and_retired(client, login_as, conn):
    login_as("office")
    page = client.get("/admin/reason/new/").get_data(as_text=True)
    assert re.search(r'checked[^>]*value="very_dissatisfied"|value="very_dissatisfied"[^>]*checked', page)
    response = post_form(client, "/admin/reason/new/", {"title": "推诿扯皮", "sort_order": "50", "active": "y",
                                                        "levels": ["dissatisfied", "very_dissatisfied"]})
    assert response.status_code == 302
    duplicate = post_form(client, "/admin/reason/new/", {"title": "吃拿卡要", "sort_order": "60"})
    assert duplicate.status_code == 422 and "原因“吃拿卡要”已存在" in text(duplicate)
    reason = Reason.get(Reason.title == "推诿扯皮")
    # Reorder and retire from the list, as an officer does with the inline editor.
    token = csrf_token(client, "/admin/reason/")
    for field, value in (("sort_order", "5"), ("active", "")):
        response = client.post("/admin/reason/ajax/update/", data={
            "list_form_pk": reason.id, field: value, "csrf_token": token})
        assert response.status_code == 200, response.get_data(as_text=True)
    offered = [r.title for r in Reason.offered()]
    assert "推诿扯皮" not in offered
    reason = Reason.get_by_id(reason.id)
    assert reason.sort_order == 5 and reason.active is False


def test_a_reader_cannot_post_edits(client, login_as, county):
    login_as("leader")
    token = csrf_token(client, "/admin/")  # the leader has no edit form: take the page's token
    response = client.post(f"/admin/window/edit/?id={county['w1'].id}", data={
        "unit": county["hall_a"].id, "number": "01", "name": "改名", "csrf_token": token})
    assert response.status_code == 403
    assert Window.get_by_id(county["w1"].id).name == "企业开办窗口"


def test_inline_edits_need_the_right_to_edit_and_refuse_bad_input(client, login_as, conn):
    reason = Reason.get(Reason.title == "吃拿卡要")
    login_as("leader")
    token = csrf_token(client, "/admin/reason/")
    response = client.post("/admin/reason/ajax/update/", data={
        "list_form_pk": reason.id, "sort_order": "1", "csrf_token": token})
    assert response.status_code == 403
    assert Reason.get_by_id(reason.id).sort_order != 1
    client.post("/logout", data={"csrf_token": token})
    login_as("office")
    token = csrf_token(client, "/admin/reason/")
    bad = client.post("/admin/reason/ajax/update/", data={
        "list_form_pk": reason.id, "sort_order": "第一", "csrf_token": token})
    assert bad.status_code == 422 and "更新记录失败" in bad.get_data(as_text=True)
    missing = client.post("/admin/reason/ajax/update/", data={
        "list_form_pk": 99999, "sort_order": "3", "csrf_token": token})
    assert missing.status_code == 404
