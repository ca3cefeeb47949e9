"""等保 2.0 accounts: the password rule, lockout, timeouts, and sessions that really end."""

import pytest

from app import passwords
from models import AuditLog, User
from tests.conftest import PASSWORD, csrf_token, login




def post(client, url, data):
    return client.post(url, data=dict(data, csrf_token=csrf_token(client, "/password" if url == "/logout" else url)))


def logged_in(client):
    return client.get("/admin/").status_code == 200


@pytest.mark.parametrize("password, wrong", [
    ("Short1!", "at least 8"),
    ("onlylowercase", "three of"),
    ("lower2026case", "three of"),
    ("Zhang3@county", "username"),
    ("P@ssw0rd", "too common"),
    ("1qaz@WSX", "too common"),
])
def test_weak_passwords_are_refused_with_the_reason(app, password, wrong):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        app.config["BABEL_DEFAULT_LOCALE"] = "en"
        found = " ".join(passwords.problems(password, "zhang3"))
    assert wrong in found


def test_a_good_password_passes(app):
    with app.test_request_context():
        assert passwords.problems("Qingshui-2026", "zhang3") == []
        assert passwords.problems("青水县2026ab", "zhang3") == []  # Chinese characters count as symbols


def test_five_wrong_passwords_lock_the_name_for_fifteen_minutes(client, make_user, clock):
    make_user("wang5", "office")
    for _ in range(4):
        assert login(client, "wang5", "Wrong@2026x").status_code == 401
    locked = login(client, "wang5", "Wrong@2026x")
    assert locked.status_code == 429 and "15 分钟" in locked.get_data(as_text=True)
    # Even the right password is refused while the lock lasts.
    assert login(client, "wang5", PASSWORD).status_code == 429 and not logged_in(client)
    clock.advance(minutes=14)
    assert login(client, "wang5", PASSWORD).status_code == 429
    clock.advance(minutes=2)
    assert login(client, "wang5", PASSWORD).status_code == 302 and logged_in(client)
    assert AuditLog.select().where(AuditLog.action == "login_locked").count() == 2


def test_an_unknown_username_gets_exactly_the_answers_of_a_known_one(app, make_user, clock):
    make_user("wang5", "office")
    answers = {}
    for name in ("wang5", "nobody9"):
        client = app.test_client()
        answers[name] = [(r.status_code, _flash(r)) for r in
                         (login(client, name, "Wrong@2026x") for _ in range(7))]
    assert answers["wang5"] == answers["nobody9"]
    assert [status for status, _ in answers["wang5"]] == [401] * 4 + [429] * 3


def _flash(response):
    page = response.get_data(as_text=True)
    start = page.find('class="alert')
    return page[start:page.find("</div>", start)]


def test_a_right_password_clears_the_count(client, make_user, clock):
    make_user("wang5", "office")
    for _ in range(4):
        login(client, "wang5", "Wrong@2026x")
    assert login(client, "wang5", PASSWORD).status_code == 302
    post(client, "/logout", {})
    for _ in range(4):
        assert login(client, "wang5", "Wrong@2026x").status_code == 401


def test_fifteen_idle_minutes_end_the_session(client, make_user, clock):
    make_user("wang5", "office")
    login(client, "wang5")
    clock.advance(minutes=14)
    assert logged_in(client)  # a request within 15 minutes keeps the session going
    clock.advance(minutes=14)
    assert logged_in(client)
    clock.advance(minutes=15, seconds=1)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "超时" in client.get("/login").get_data(as_text=True)
    assert not logged_in(client)


def test_eight_hours_end_the_session_however_busy(client, make_user, clock):
    make_user("wang5", "office")
    login(client, "wang5")
    for _ in range(47):  # a request every ten minutes for 7 h 50 min
        clock.advance(minutes=10)
        assert logged_in(client)
    clock.advance(minutes=10, seconds=1)
    assert not logged_in(client)


def test_logout_refuses_a_replayed_cookie(app, make_user):
    make_user("wang5", "office")
    client = app.test_client()
    login(client, "wang5")
    stolen = client.get_cookie("session").value
    post(client, "/logout", {})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_password_change_ends_every_other_session(app, make_user):
    make_user("wang5", "office")
    office, home = app.test_client(), app.test_client()
    login(office, "wang5")
    login(home, "wang5")
    response = post(office, "/password", {"current": PASSWORD, "new": "Qingshui-2026", "again": "Qingshui-2026"})
    assert response.status_code == 302
    assert logged_in(office)  # the one who changed it goes on
    assert not logged_in(home)
    assert User.get(User.username == "wang5").check_password("Qingshui-2026")
    assert AuditLog.select().where(AuditLog.action == "password_change").count() == 1


@pytest.mark.parametrize("data, message", [
    ({"current": "Wrong@2026x", "new": "Qingshui-2026", "again": "Qingshui-2026"}, "当前密码不对"),
    ({"current": PASSWORD, "new": "Qingshui-2026", "again": "Qingshui-2027"}, "两次输入的新密码不一致"),
    ({"current": PASSWORD, "new": "qingshui", "again": "qingshui"}, "三种"),
    ({"current": PASSWORD, "new": PASSWORD, "again": PASSWORD}, "不能与当前密码相同"),
])
def test_a_bad_password_change_is_refused_and_keeps_the_old_one(client, make_user, data, message):
    make_user("wang5", "office")
    login(client, "wang5")
    response = post(client, "/password", data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert User.get(User.username == "wang5").check_password(PASSWORD)
    assert logged_in(client)


def test_an_administrators_reset_forces_a_change_and_ends_the_old_sessions(app, client, login_as, make_user):
    officer = make_user("wang5", "bureau")  # a commission officer's takes a leader's approval (test_two_person)
    theirs = app.test_client()
    login(theirs, "wang5")
    login_as("sysadmin")
    response = client.post(f"/admin/user/edit/?id={officer.id}", data={
        "username": "wang5", "full_name": "王五", "active": "y", "new_password": "Reset-2026a",
        "csrf_token": csrf_token(client, f"/admin/user/edit/?id={officer.id}")})
    assert response.status_code == 302
    assert not logged_in(theirs)
    assert login(theirs, "wang5", "Reset-2026a").headers["Location"] == "/password"
    for url in ("/admin/", "/admin/ticket/", "/admin/evaluation/export/csv/"):
        assert theirs.get(url).headers["Location"] == "/password", url


def test_login_starts_a_new_session_and_never_remembers(client, make_user):
    make_user("wang5", "office")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    response = login(client, "wang5")
    with client.session_transaction() as session:
        assert "planted" not in session
    assert "remember_token" not in response.headers.get("Set-Cookie", "")
    assert client.get_cookie("remember_token") is None


def test_wrong_passwords_at_the_same_moment_all_count(app, make_user, clock):
    import threading
    make_user("wang5", "office")
    statuses = []

    def try_once():
        statuses.append(login(app.test_client(), "wang5", "Wrong@2026x").status_code)
    threads = [threading.Thread(target=try_once) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [401] * 4 + [429] * 2
    assert login(app.test_client(), "wang5", PASSWORD).status_code == 429
