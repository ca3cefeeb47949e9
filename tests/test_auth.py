"""Logging in and out as an officer."""
import pytest

from models import AuditLog
from tests.conftest import PASSWORD, csrf_token, login


def test_login_page_is_in_chinese(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and "用户名" in page and "密码" in page


def test_english_is_offered_second(client):
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in page and "Username" in page
    assert "Log in" in client.get("/login").get_data(as_text=True)  # the choice is remembered


def test_officer_logs_in_and_reaches_the_admin(client, make_user):
    make_user("office1", "office")
    response = login(client, "office1")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
    page = client.get("/admin/").get_data(as_text=True)
    assert "党风政风监督室" in page and "退出" in page
    assert AuditLog.select().where(AuditLog.action == "login", AuditLog.username == "office1").exists()


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make_user):
    make_user("office1", "office")
    wrong = login(client, "office1", "not-the-password")
    unknown = login(client, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.get_data(as_text=True)
    assert "用户名或密码错误" in unknown.get_data(as_text=True)
    assert AuditLog.select().where(AuditLog.action == "login_failed").count() == 2


def test_empty_login_form_explains_in_chinese(client):
    response = client.post("/login", data={"username": "", "password": "", "csrf_token": csrf_token(client)})
    page = response.get_data(as_text=True)
    assert response.status_code == 401 and "请输入用户名" in page and "请输入密码" in page


def test_login_without_csrf_token_is_refused(client, make_user):
    make_user("office1", "office")
    response = client.post("/login", data={"username": "office1", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302  # still logged out


def test_deactivated_officer_cannot_log_in(client, make_user):
    make_user("gone", "office", active=False)
    assert login(client, "gone").status_code == 401


def test_next_only_follows_paths_on_this_site(client, make_user):
    make_user("office1", "office")
    token = csrf_token(client)
    data = {"username": "office1", "password": PASSWORD, "csrf_token": token}
    response = client.post("/login?next=//evil.example/x", data=data)
    assert response.headers["Location"].endswith("/admin/")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    data["csrf_token"] = csrf_token(client)
    response = client.post("/login?next=/admin/window/", data=data)
    assert response.headers["Location"].endswith("/admin/window/")


# As an attacker writes them in a link: each reaches the browser as another site's address once it
# drops tabs and newlines, trims control characters and reads backslashes as slashes.
DISGUISED = ["//evil.example/x", "https://evil.example/", "/%09/evil.example", "/%09%09/evil.example",
             "/%0A/evil.example", "/%0D/evil.example", "/%0D%0A/evil.example", "%09//evil.example",
             "%20//evil.example", "%01//evil.example", "/%5Cevil.example", "%5C%5Cevil.example",
             "/%5C/evil.example", "/%252F/evil.example", "/%255C/evil.example", "/%25252F/evil.example",
             "/%2509/evil.example", "/%0A/x", "/%0D/x"]


@pytest.mark.parametrize("target", DISGUISED)
def test_a_disguised_address_of_another_site_is_not_followed(client, make_user, target):
    make_user("office1", "office")
    data = {"username": "office1", "password": PASSWORD, "csrf_token": csrf_token(client)}
    through_login = client.post(f"/login?next={target}", data=data)
    assert through_login.status_code == 302 and through_login.headers["Location"] == "/admin/"
    already_in = client.get(f"/login?next={target}")
    assert already_in.status_code == 302 and already_in.headers["Location"] == "/admin/"


def test_a_refused_address_sends_a_handler_to_his_todo_list(client, make_user, county):
    make_user("handler1", "handler", county["hall_a"])
    login(client, "handler1")
    response = client.get("/login?next=/%09/evil.example")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/todo/"


@pytest.mark.parametrize("target, lands", [("/admin/window/", "/admin/window/"),
                                           ("/admin/ticket/?search=a%252Fb", "/admin/ticket/?search=a%2Fb"),
                                           ("/admin/%09ticket/", "/admin/ticket/")])
def test_a_path_on_this_site_is_followed_as_the_browser_reads_it(client, make_user, target, lands):
    make_user("office1", "office")
    login(client, "office1")
    response = client.get(f"/login?next={target}")
    assert response.status_code == 302 and response.headers["Location"] == lands


def test_logout_needs_a_post_with_the_token(client, make_user):
    make_user("office1", "office")
    login(client, "office1")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token: still logged in
    assert client.get("/admin/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    make_user("office1", "office")
    response = login(client, "office1")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_create_user_on_the_command_line(runner, county):
    result = runner.invoke(args=["create-user", "zhang", "--role", "handler", "--unit", "HA",
                                 "--password", "Strong@2026"])
    assert result.exit_code == 0, result.output
    from models import AuditLog
    # The installer's root of trust, on the record like any administrator's step.
    row = AuditLog.get(AuditLog.action == "user_create")
    assert row.actor_id is None and "cli role=handler" in row.detail
    refused = runner.invoke(args=["create-user", "li", "--role", "handler", "--password", "Strong@2026"])
    assert refused.exit_code != 0 and "必须" in refused.output
    duplicate = runner.invoke(args=["create-user", "zhang", "--role", "office", "--password", "Strong@2026"])
    assert duplicate.exit_code != 0 and "已存在" in duplicate.output
