"""进度查询 locked after five wrong phone digits: a complaint's last four digits cannot be guessed (issue 17)."""
import re
import threading

import pytest

from app import tickets
from models import AuditLog, Contact
from tests.conftest import csrf_token

RIGHT, WRONG = "5678", "0000"
LOCKED = "暂停查询"



@pytest.fixture
def complaint(county, make_user):
    """A real-name complaint by phone: its query code shows it only with the digits 5678."""
    office = make_user("office1", "office")
    return tickets.open_ticket("problem", title="窗口索要好处费", content="办证时被暗示给好处", source="hotline",
                               actor_user=office, unit=county["hall_a"].id,
                               contact=Contact.create(name="王某", phone="13912345678"))


def look_up(client, code, last4, address="10.0.0.1", url="/track", **extra):
    return client.post(url, data=dict(extra, code=code, last4=last4, csrf_token=csrf_token(client, "/track")),
                       environ_base={"REMOTE_ADDR": address})


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_five_wrong_digits_lock_the_code_for_an_hour_right_digits_too(client, complaint, clock):
    code = complaint.query_code
    for _ in range(3):
        assert look_up(client, code, "").status_code == 404  # no digits: nothing guessed, nothing counted
    warnings = []
    for _ in range(4):
        response = look_up(client, code, WRONG)
        assert response.status_code == 404
        warnings.append(re.search(r"再输错 (\d) 次", text(response)))
    # Warned before the lock, not only after it.
    assert [w.group(1) if w else None for w in warnings] == [None, None, "2", "1"]
    locked = look_up(client, code, WRONG)
    assert locked.status_code == 429 and LOCKED in text(locked)
    assert "请拨打 12388" in text(locked) and "10:00 之前" in text(locked)
    clock.advance(minutes=59)
    refused = look_up(client, code, RIGHT)
    assert refused.status_code == 429 and "窗口索要好处费" not in text(refused) and LOCKED in text(refused)
    clock.advance(minutes=1, seconds=1)
    assert look_up(client, code, RIGHT).status_code == 200


def test_the_county_names_its_own_hotline(app, client, complaint, clock):
    app.config["HOTLINE"] = "0317-6612388"
    for _ in range(5):
        last = look_up(client, complaint.query_code, WRONG)
    assert last.status_code == 429 and "请拨打 0317-6612388" in text(last)


def test_wrong_digits_count_per_code_whatever_the_address(app, complaint, clock):
    for n in range(4):
        assert look_up(app.test_client(), complaint.query_code, WRONG, address=f"10.0.{n}.1").status_code == 404
    assert look_up(app.test_client(), complaint.query_code, WRONG, address="10.9.9.9").status_code == 429
    assert look_up(app.test_client(), complaint.query_code, RIGHT, address="10.8.8.8").status_code == 429


def test_tries_spread_over_more_than_an_hour_do_not_lock(client, complaint, clock):
    for _ in range(4):
        assert look_up(client, complaint.query_code, WRONG).status_code == 404
    clock.advance(minutes=61)
    assert look_up(client, complaint.query_code, WRONG).status_code == 404
    assert look_up(client, complaint.query_code, RIGHT).status_code == 200


def test_wrong_digits_at_the_same_moment_all_count(app, complaint, clock):
    statuses = []

    def try_once(n):
        statuses.append(look_up(app.test_client(), complaint.query_code, WRONG, address=f"10.1.{n}.1").status_code)
    threads = [threading.Thread(target=try_once, args=(n,)) for n in range(7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [404] * 4 + [429] * 3
    assert look_up(app.test_client(), complaint.query_code, RIGHT).status_code == 429


def test_grading_and_the_api_share_the_lock(client, complaint, clock):
    code = complaint.query_code
    for _ in range(2):
        assert client.get(f"/api/v1/track?code={code}&last4={WRONG}").status_code == 404
    for _ in range(2):
        assert look_up(client, code, WRONG).status_code == 404
    assert look_up(client, code, WRONG, url="/track/grade", grade="satisfied").status_code == 429
    api = client.get(f"/api/v1/track?code={code}&last4={RIGHT}")
    assert api.status_code == 429 and api.get_json()["error"]["code"] == "locked"
    assert "12388" in api.get_json()["error"]["message"] and int(api.headers["Retry-After"]) > 3000
    assert look_up(client, code, RIGHT, url="/track/grade", grade="satisfied").status_code == 429


def test_a_code_that_does_not_exist_is_answered_alike(client, complaint, clock):
    for _ in range(4):
        assert look_up(client, "ABCDEFGH2345", WRONG).status_code == 404
    assert LOCKED in text(look_up(client, "ABCDEFGH2345", WRONG))
    assert look_up(client, complaint.query_code, RIGHT).status_code == 200  # another code: untouched


def test_the_commission_sees_the_tries_and_the_lock_on_the_ticket(client, app, complaint, login_as, county, clock):
    for _ in range(3):
        look_up(app.test_client(), complaint.query_code, WRONG)
    login_as("office")
    page = text(client.get(f"/admin/handle/{complaint.id}/"))
    assert f"查询码 {complaint.query_code} 的电话后四位近来输错 3 次，最后一次在 2026-12-01 09:00" in page
    assert "已锁定" not in page
    clock.advance(minutes=10)
    for _ in range(2):
        look_up(app.test_client(), complaint.query_code, WRONG)
    page = text(client.get(f"/admin/handle/{complaint.id}/"))
    assert "输错 5 次" in page and "已锁定至 10:10：其间群众查不了进度，页面请其拨打 12388" in page
    line = AuditLog.get(AuditLog.action == "track_locked")
    assert (line.object_type, line.object_id, line.ip) == ("Ticket", str(complaint.id), "10.0.0.1")
    assert "锁定至 2026-12-01 10:10" in line.detail and "5678" not in line.detail
    clock.advance(minutes=61)
    assert "输错" not in text(client.get(f"/admin/handle/{complaint.id}/"))  # the lock is over


def test_a_handler_sees_no_trace_of_the_code(client, app, complaint, login_as, county, clock):
    from models import Ticket
    Ticket.update(handling_unit=county["hall_a"]).where(Ticket.id == complaint.id).execute()
    for _ in range(5):
        look_up(app.test_client(), complaint.query_code, WRONG)
    login_as("handler", county["hall_a"])
    page = client.get(f"/admin/handle/{complaint.id}/")
    assert page.status_code == 200 and "输错" not in text(page) and complaint.query_code not in text(page)
