"""三员分立: system administrator, security administrator and auditor, each doing only his part."""
import pytest

from app import totp
from app.roles import ADMINISTRATORS, ROLE_IDS
from models import User
from tests.conftest import csrf_token

NEW = "/admin/user/new/"


def save_account(client, url, **fields):
    data = {"active": "y", **fields, "csrf_token": csrf_token(client, url)}
    return client.post(url, data={k: v for k, v in data.items() if v is not None})


@pytest.mark.parametrize("role", sorted(ADMINISTRATORS))
def test_the_system_administrator_grants_no_administrator_role(client, login_as, role):
    login_as("sysadmin")
    response = save_account(client, NEW, username="new1", role=role, new_password="Qing@2026xx")
    assert response.status_code == 422 and "由安全管理员设置和变更" in response.get_data(as_text=True)
    assert not User.select().where(User.username == "new1").exists()


def test_the_system_administrator_keeps_the_case_workers_accounts(client, login_as, county):
    login_as("sysadmin")
    assert save_account(client, NEW, username="h9", role="handler", unit=county["hall_a"].id,
                        new_password="Qing@2026xx").status_code == 302


def test_the_system_administrator_cannot_touch_an_auditors_account(client, login_as, make_user):
    auditor = make_user("sun", "auditor")
    login_as("sysadmin")
    url = f"/admin/user/edit/?id={auditor.id}"
    response = save_account(client, url, username="sun", role="auditor", active=None)  # deactivate
    assert response.status_code == 422 and User.get_by_id(auditor.id).active


def test_the_security_administrator_grants_every_role(client, login_as, make_user):
    officer = make_user("chen", "leader")
    login_as("secadmin")
    assert save_account(client, NEW, username="sun2", role="auditor", new_password="Qing@2026xx").status_code == 302
    url = f"/admin/user/edit/?id={officer.id}"
    assert save_account(client, url, username="chen", role="inspector").status_code == 302
    assert User.get(User.username == "sun2").role == "auditor" and User.get_by_id(officer.id).role == "inspector"


@pytest.mark.parametrize("role, other", [("secadmin", "auditor"), ("sysadmin", "office")])
def test_nobody_changes_his_own_role(client, login_as, role, other):
    me = login_as(role)
    url = f"/admin/user/edit/?id={me.id}"
    response = save_account(client, url, username=me.username, role=other)
    assert response.status_code == 422 and User.get_by_id(me.id).role == role


@pytest.mark.parametrize("role", ["sysadmin", "secadmin"])
def test_neither_administrator_reads_a_complaint_or_the_trail(client, login_as, role):
    login_as(role)
    for url in ("/admin/ticket/", "/admin/message/", "/admin/evaluation/", "/admin/auditlog/", "/admin/handle/",
                "/admin/ledger/", "/admin/report/", "/admin/supervision/", "/admin/symposia/"):
        assert client.get(url).status_code == 403, url


def test_the_auditor_reads_and_changes_nothing(client, login_as, make_user):
    other = make_user("chen", "leader")
    login_as("auditor")
    for url in ("/admin/auditlog/", "/admin/user/", "/admin/ticket/", "/admin/message/"):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/admin/user/edit/?id={other.id}").status_code == 403
    token = csrf_token(client, "/password")
    assert client.post(NEW, data={"username": "x", "role": "office", "csrf_token": token}).status_code == 403


def test_an_account_holds_one_role_and_the_three_need_the_second_factor():
    assert len(ROLE_IDS) == len(set(ROLE_IDS)) and {"sysadmin", "secadmin", "auditor"} == ADMINISTRATORS
    assert ADMINISTRATORS <= totp.REQUIRED_ROLES
    assert isinstance(User.role.max_length, int)  # one value in one column: never a list of roles
