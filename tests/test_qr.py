"""QR codes: a printable sheet per unit, single codes to download, replaced after a lost badge."""
from models import AuditLog, Window
from tests.conftest import csrf_token


def test_the_sheet_has_a_code_for_every_window_and_badge(client, login_as, county):
    login_as("bureau")
    page = client.get(f"/admin/qr/unit/{county['hall_a'].id}/").get_data(as_text=True)
    assert page.count("<svg") == 2  # window 01 and 张丽娜
    assert "01 企业开办窗口" in page and "张丽娜" in page


def test_a_downloaded_code_opens_the_rating_page(client, login_as, county):
    login_as("office")
    response = client.get(f"/admin/qr/window/{county['w1'].id}.png")
    assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
    svg = client.get(f"/admin/qr/window/{county['w1'].id}.svg").get_data(as_text=True)
    assert svg.lstrip().startswith("<svg")
    from app import qrcodes
    assert qrcodes.rating_url("http://localhost/", county["w1"].token) == f"http://localhost/e/{county['w1'].token}"


def test_a_handler_prints_only_its_own_units_codes(client, login_as, county):
    login_as("handler", county["hall_a"])
    assert client.get(f"/admin/qr/unit/{county['hall_b'].id}/").status_code == 404
    assert client.get(f"/admin/qr/window/{county['w2'].id}.png").status_code == 404
    assert client.get(f"/admin/qr/unit/{county['hall_a'].id}/").status_code == 200


def test_replacing_a_code_stops_the_old_one(client, login_as, county):
    login_as("bureau")
    old = county["w1"].token
    token = csrf_token(client, "/admin/window/")
    response = client.post("/admin/window/action/", data={"action": "rotate_token", "rowid": [county["w1"].id],
                                                          "csrf_token": token})
    assert response.status_code == 302
    new = Window.get_by_id(county["w1"].id).token
    assert new != old and len(new) >= 16
    assert client.get(f"/e/{old}").status_code == 404 and client.get(f"/e/{new}").status_code == 200
    assert AuditLog.select().where(AuditLog.action == "rotate_token").count() == 1


def test_a_reader_cannot_replace_codes(client, login_as, county):
    login_as("leader")
    old = county["w1"].token
    token = csrf_token(client, "/admin/window/")
    client.post("/admin/window/action/", data={"action": "rotate_token", "rowid": [county["w1"].id],
                                               "csrf_token": token})
    assert Window.get_by_id(county["w1"].id).token == old
