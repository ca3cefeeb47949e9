"""The optional second factor: required for administrators and the commission when the county turns it on."""
import re

import pyotp
import pytest

from app.db import ConfigError
from models import AuditLog, User
from tests.conftest import PASSWORD, csrf_token, login

SECRET_RE = re.compile(r'text-monospace text-center">([A-Z2-7]{32})<')



@pytest.fixture
def required(app):
    app.config["TOTP_REQUIRED"] = True


def code(secret, at):
    return pyotp.TOTP(secret).at(at)


def send_code(client, value, url="/login/code"):
    return client.post(url, data={"code": value, "csrf_token": csrf_token(client, url)})


def logged_in(client):
    return client.get("/admin/").status_code == 200


def enrol(client, clock, username="chen6"):
    """Log in and set the app up, as the officer would the first time; returns the secret."""
    assert login(client, username).headers["Location"] == "/login/code"
    page = client.get("/login/code").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1)
    assert "<svg" in page
    assert send_code(client, code(secret, clock.now)).status_code == 302
    return secret


def test_a_commission_officer_must_set_up_and_use_the_second_factor(client, make_user, clock, required):
    make_user("chen6", "office")
    assert login(client, "chen6").headers["Location"] == "/login/code"
    assert not logged_in(client)  # the password alone opens nothing
    secret = SECRET_RE.search(client.get("/login/code").get_data(as_text=True)).group(1)
    wrong = send_code(client, "000000" if code(secret, clock.now) != "000000" else "111111")
    assert wrong.status_code == 401 and "验证码不对" in wrong.get_data(as_text=True)
    assert send_code(client, code(secret, clock.now)).status_code == 302
    assert logged_in(client)
    assert User.get(User.username == "chen6").totp_secret == secret
    actions = [r.action for r in AuditLog.select().order_by(AuditLog.id)]
    assert actions[-2:] == ["totp_enrol", "login"] and "login_failed" in actions


def test_a_code_is_accepted_once(app, make_user, clock, required):
    make_user("chen6", "office")
    secret = enrol(app.test_client(), clock)
    again = app.test_client()
    login(again, "chen6")
    assert send_code(again, code(secret, clock.now)).status_code == 401  # seen over a shoulder: no use
    clock.advance(seconds=30)
    assert send_code(again, code(secret, clock.now)).status_code == 302 and logged_in(again)


def test_a_handler_logs_in_without_it_unless_chosen(app, client, make_user, county, clock, required):
    make_user("zhao7", "handler", county["hall_a"])
    assert login(client, "zhao7").status_code == 302 and logged_in(client)
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1)
    on = send_code(client, code(secret, clock.now), "/account/second-factor")
    assert on.status_code == 302 and User.get(User.username == "zhao7").totp_secret == secret
    other = app.test_client()
    assert login(other, "zhao7").headers["Location"] == "/login/code"
    clock.advance(seconds=30)
    off = client.post("/account/second-factor", data={
        "password": PASSWORD, "code": code(secret, clock.now),
        "csrf_token": csrf_token(client, "/account/second-factor")})
    assert off.status_code == 302 and User.get(User.username == "zhao7").totp_secret == ""
    assert AuditLog.select().where(AuditLog.action == "totp_disable").count() == 1


def test_a_required_factor_cannot_be_turned_off(client, make_user, clock, required):
    make_user("chen6", "office")
    secret = enrol(client, clock)
    clock.advance(seconds=30)
    response = client.post("/account/second-factor", data={
        "password": PASSWORD, "code": code(secret, clock.now), "csrf_token": csrf_token(client, "/password")})
    assert response.status_code == 422 and "不能关闭" in response.get_data(as_text=True) and User.get(User.username == "chen6").totp_secret == secret


def test_wrong_codes_count_towards_the_lockout(app, make_user, clock, required):
    make_user("chen6", "office")
    secret = enrol(app.test_client(), clock)
    client = app.test_client()
    login(client, "chen6")
    for _ in range(5):
        send_code(client, "12345x")
        login(client, "chen6")
    clock.advance(seconds=30)
    assert login(client, "chen6").status_code == 429
    assert not logged_in(client) and secret


def test_the_code_must_follow_the_password_within_five_minutes(client, make_user, clock, required):
    make_user("chen6", "office")
    login(client, "chen6")
    clock.advance(minutes=5, seconds=1)
    assert client.get("/login/code").headers["Location"] == "/login"


def test_the_administrator_resets_a_lost_phone(app, client, login_as, make_user, clock, county):
    """A handler's phone, by the system administrator; a commission officer's takes a leader (test_two_person)."""
    login_as("sysadmin")
    officer = make_user("chen6", "handler", county["hall_a"])
    theirs = app.test_client()
    assert login(theirs, "chen6").status_code == 302
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    User.update(totp_secret=secret).where(User.id == officer.id).execute()
    url = f"/admin/user/edit/?id={officer.id}"
    response = client.post(url, data={"username": "chen6", "full_name": "陈六", "unit": county["hall_a"].id,
                                      "active": "y", "reset_second_factor": "y", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    assert User.get_by_id(officer.id).totp_secret == ""
    assert not logged_in(theirs)  # the sessions opened with the lost phone end


def test_the_switch_only_takes_on_or_off(tmp_path):
    from app.config import load
    assert load({"INSTANCE_PATH": str(tmp_path), "TOTP_REQUIRED": "on"})["TOTP_REQUIRED"] is True
    with pytest.raises(ConfigError, match="TOTP_REQUIRED"):
        load({"INSTANCE_PATH": str(tmp_path), "TOTP_REQUIRED": "maybe"})
