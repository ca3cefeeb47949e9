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


@pytest.mark.parametrize("role", sorted(ROLE_IDS))
def test_the_system_administrator_makes_accounts_without_a_role(client, login_as, county, role):
    login_as("sysadmin")
    response = save_account(client, NEW, username="new1", role=role, unit=county["hall_a"].id,
                            new_password="Qing@2026xx")
    assert response.status_code == 302
    assert User.get(User.username == "new1").role == ""
    assert 'name="role"' not in client.get(NEW).get_data(as_text=True)  # nothing to choose


def test_the_system_administrator_keeps_the_case_workers_passwords(client, login_as, make_user, county):
    handler = make_user("h9", "handler", county["hall_a"])
    login_as("sysadmin")
    url = f"/admin/user/edit/?id={handler.id}"
    assert save_account(client, url, username="h9", unit=county["hall_a"].id,
                        new_password="Qing@2026yy").status_code == 302
    handler = User.get_by_id(handler.id)
    assert handler.role == "handler" and handler.check_password("Qing@2026yy") and handler.must_change_password
    from models import Notification
    [told] = Notification.select().where(Notification.user == handler.id)  # the holder is told
    assert "密码已由管理员重置" in told.message and "Qing@2026yy" not in told.message


@pytest.mark.parametrize("role", ["office", "leader", "inspector", "auditor"])
def test_the_system_administrator_sets_no_password_of_the_commission_or_auditor(client, login_as, make_user, role):
    officer = make_user("chen", role)
    before = officer.password_hash
    login_as("sysadmin")
    url = f"/admin/user/edit/?id={officer.id}"
    for change in ({"new_password": "Qing@2026yy"}, {"reset_second_factor": "y"}):
        response = save_account(client, url, username="chen", **change)
        assert response.status_code == 422, change
        assert "安全管理员" in response.get_data(as_text=True)
    assert User.get_by_id(officer.id).password_hash == before


def test_the_system_administrator_cannot_touch_an_auditors_account(client, login_as, make_user):
    auditor = make_user("sun", "auditor")
    login_as("sysadmin")
    url = f"/admin/user/edit/?id={auditor.id}"
    response = save_account(client, url, username="sun", active=None)  # deactivate
    assert response.status_code == 422 and User.get_by_id(auditor.id).active


def test_the_security_administrator_grants_roles_and_asks_for_the_commissions(client, login_as, make_user,
                                                                               county):
    waiting, officer = make_user("sun2", ""), make_user("chen", "leader")
    handler = make_user("h1", "")
    login_as("secadmin")
    assert save_account(client, f"/admin/user/edit/?id={handler.id}", username="h1", role="handler",
                        unit=county["hall_a"].id).status_code == 302
    assert User.get_by_id(handler.id).role == "handler"
    # A commission or auditor role needs a reason and then waits for a leader.
    url = f"/admin/user/edit/?id={waiting.id}"
    response = save_account(client, url, username="sun2", role="auditor")
    assert response.status_code == 422 and "申请理由" in response.get_data(as_text=True)
    assert save_account(client, url, username="sun2", role="auditor",
                        request_reason="新任审计员，接替退休的孙某").status_code == 302
    assert save_account(client, f"/admin/user/edit/?id={officer.id}", username="chen", role="inspector",
                        request_reason="调任巡察办").status_code == 302
    assert User.get_by_id(waiting.id).role == "" and User.get_by_id(officer.id).role == "leader"
    from models import AccountRequest
    assert sorted((r.user_id, r.kind, r.role, r.status) for r in AccountRequest.select()) == [
        (waiting.id, "grant", "auditor", "pending"), (officer.id, "grant", "inspector", "pending")]


def test_the_security_administrator_sets_no_officers_password(client, login_as, make_user, county):
    handler, office = make_user("h1", "handler", county["hall_a"]), make_user("o1", "office")
    login_as("secadmin")
    for user in (handler, office):
        before = user.password_hash
        response = save_account(client, f"/admin/user/edit/?id={user.id}", username=user.username,
                                role=user.role, unit=user.unit_id or "", new_password="Qing@2026yy")
        assert response.status_code == 422 and "系统管理员" in response.get_data(as_text=True)
        assert User.get_by_id(user.id).password_hash == before
    assert client.get(NEW).status_code == 403  # nor makes accounts


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


def test_the_auditor_reads_the_trail_and_no_complaint(client, login_as, make_user):
    other = make_user("chen", "leader")
    login_as("auditor")
    for url in ("/admin/auditlog/", "/admin/user/", "/admin/account-requests/"):
        assert client.get(url).status_code == 200, url
    for url in ("/admin/ticket/", "/admin/message/", "/admin/evaluation/", "/admin/handle/", "/admin/ledger/",
                "/admin/report/", "/admin/symposia/", "/admin/accountability/"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/admin/user/edit/?id={other.id}").status_code == 403
    token = csrf_token(client, "/password")
    assert client.post(NEW, data={"username": "x", "role": "office", "csrf_token": token}).status_code == 403
    assert client.post("/admin/account-requests/1/decide/",
                       data={"decision": "approve", "csrf_token": token}).status_code == 403


def test_an_account_holds_one_role_and_the_three_need_the_second_factor():
    assert len(ROLE_IDS) == len(set(ROLE_IDS)) and {"sysadmin", "secadmin", "auditor"} == ADMINISTRATORS
    assert ADMINISTRATORS <= totp.REQUIRED_ROLES
    assert isinstance(User.role.max_length, int)  # one value in one column: never a list of roles


@pytest.mark.parametrize("unit", ["abc", "1e3", "-", "99999999999999999999"])
def test_a_choice_that_is_no_id_is_refused_in_chinese(client, login_as, make_user, county, unit):
    """A browser sends '__None' for no unit; anything else that is no id is an invalid choice, not a 500."""
    officer = make_user("o1", "bureau", county["hall_a"])
    login_as("sysadmin")
    response = save_account(client, f"/admin/user/edit/?id={officer.id}", username="o1", unit=unit)
    assert response.status_code == 422 and "不是有效的选择" in response.get_data(as_text=True)
    assert User.get_by_id(officer.id).unit_id == county["hall_a"].id
    # Blank is no unit, as the blank choice is.
    assert save_account(client, f"/admin/user/edit/?id={officer.id}", username="o1", unit="").status_code == 302
    assert User.get_by_id(officer.id).unit_id is None
