"""The system administrator manages officer accounts; every change is in the audit trail."""
import re

from models import AuditLog, User
from tests.conftest import csrf_token, login


def post(client, url, data):
    return client.post(url, data=dict(data, csrf_token=csrf_token(client, url)))


def test_sysadmin_creates_an_account_the_security_administrator_makes_a_handler(app, client, login_as, county,
                                                                                  make_user):
    login_as("sysadmin")
    response = post(client, "/admin/user/new/", {
        "username": "zhang3", "full_name": "张三", "role": "handler", "unit": county["hall_a"].id,
        "active": "y", "new_password": "Zhang@2026x"})
    assert response.status_code == 302
    user = User.get(User.username == "zhang3")
    assert user.role == ""  # the role he typed in by hand is not his to give
    assert user.password_hash != "Zhang@2026x" and user.check_password("Zhang@2026x")
    assert AuditLog.select().where(AuditLog.action == "create", AuditLog.object_type == "User",
                                   AuditLog.object_id == str(user.id)).exists()
    make_user("sec", "secadmin")
    security = app.test_client()
    login(security, "sec")
    url = f"/admin/user/edit/?id={user.id}"
    assert post(security, url, {"username": "zhang3", "full_name": "张三", "role": "handler",
                                "unit": county["hall_a"].id, "active": "y"}).status_code == 302
    assert User.get_by_id(user.id).role == "handler"
    other = app.test_client()
    response = login(other, "zhang3", "Zhang@2026x")
    assert response.status_code == 302 and response.headers["Location"] == "/password"
    # A password an administrator chose is changed by its owner before anything else.
    assert other.get("/admin/").headers["Location"] == "/password"
    # ...on a page that looks like one: its stylesheets load while the change is owed.
    page = other.get("/password").get_data(as_text=True)
    for sheet in re.findall(r'<link href="([^"]+\.css[^"]*)" rel="stylesheet"', page):
        response = other.get(sheet)
        response.close()  # a static file is streamed
        assert response.status_code == 200, sheet
    assert post(other, "/password", {"current": "Zhang@2026x", "new": "Zh3-own-choice",
                                     "again": "Zh3-own-choice"}).status_code == 302
    assert "县行政审批局" in other.get("/admin/").get_data(as_text=True)


def test_account_mistakes_are_refused_in_chinese(client, login_as, county):
    login_as("sysadmin")
    cases = (
        ({"username": "li4", "role": "office"}, "新账号必须设置密码"),
        ({"username": "li4", "role": "office", "new_password": "short"}, "密码至少需要 8 位"),
        ({"username": "li4", "role": "office", "new_password": "qingshui2026"}, "至少包含小写字母、大写字母、数字、符号中的三种"),
        ({"username": "li4", "role": "office", "new_password": "Li4@2026xx"}, "不得包含用户名"),
        ({"username": "li4", "role": "office", "new_password": "Admin@123"}, "太常见"),
        ({"username": "sysadmin_x", "role": "office", "new_password": "Qing@2026xx"}, "已被占用"),
    )
    for data, message in cases:
        response = post(client, "/admin/user/new/", data)
        assert response.status_code == 422, data
        assert message in re.sub(r"\s+", " ", response.get_data(as_text=True)), data
    assert not User.select().where(User.username == "li4").exists()


def test_password_hash_is_never_shown(client, login_as):
    admin = login_as("sysadmin")
    for url in ("/admin/user/", f"/admin/user/details/?id={admin.id}", "/admin/user/export/csv/"):
        assert admin.password_hash not in client.get(url).get_data(as_text=True)


def test_refusals_and_missing_pages_answer_in_chinese(client, login_as):
    login_as("handler", None, username="h_nounit")
    response = client.get("/admin/user/")
    assert response.status_code == 403 and "没有权限" in response.get_data(as_text=True)
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "没有找到" in response.get_data(as_text=True)
    response = client.post("/logout")
    assert response.status_code == 400 and "表单已过期" in response.get_data(as_text=True)
