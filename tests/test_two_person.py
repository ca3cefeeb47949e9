"""三员分立 in fact: no single administrator reaches a complaint (the outside probe's finding 1).

A commission or auditor role, and a new password or second factor for such an account, take the
security administrator's request and a commission leader's approval; the new password is shown to
that leader only, and the holder chooses his own before he sees anything.
"""
import re

import pytest

from app import tickets
from models import AccountRequest, AuditLog, Contact, Notification, User
from tests.conftest import PASSWORD, csrf_token, login
from tests.test_second_factor import enrol, logged_in, required  # noqa: F401

CANARY_NAME, CANARY_PHONE = "金丝雀", "13900001234"
ONE_TIME_RE = re.compile(r'id="one-time-password"><code>([^<]+)</code>')


def save(client, url, **fields):
    data = {"active": "y", **fields, "csrf_token": csrf_token(client, url)}
    return client.post(url, data={k: v for k, v in data.items() if v is not None})


def decide(client, request_id, decision="approve", note=""):
    url = "/admin/account-requests/"
    return client.post(f"{url}{request_id}/decide/",
                       data={"decision": decision, "note": note, "csrf_token": csrf_token(client, url)})


@pytest.fixture
def world(app, county, make_user):
    office = make_user("office1", "office")
    ticket = tickets.open_ticket("problem", title="窗口收费不开票", content="要求补票", source="hotline",
                                 actor_user=office, unit=county["hall_a"].id,
                                 contact=Contact.create(name=CANARY_NAME, phone=CANARY_PHONE))
    users = {name: make_user(name, role) for name, role in (
        ("admin", "sysadmin"), ("sec", "secadmin"), ("leader1", "leader"), ("leader2", "leader"),
        ("insp", "inspector"))}
    clients = {}
    for name in ("admin", "sec", "leader1", "leader2"):
        clients[name] = app.test_client()
        assert login(clients[name], name).status_code == 302
    return {"ticket": ticket, "users": users, "clients": clients}


def reaches_the_complaint(app, username, password):
    """Log in as `username`, choose a new password if asked, and try to read the canary's contact."""
    client = app.test_client()
    response = login(client, username, password)
    if response.headers.get("Location") == "/password":
        client.post("/password", data={"current": password, "new": "Mine@2026own", "again": "Mine@2026own",
                                       "csrf_token": csrf_token(client, "/password")})
    pages = [client.get(url).get_data(as_text=True) for url in
             ("/admin/ticket/", "/admin/handle/1/", "/admin/handle/1/contact/")]
    return any(CANARY_NAME in page or CANARY_PHONE in page for page in pages)


def test_the_system_administrator_cannot_make_himself_a_commission_officer(app, world):
    admin = world["clients"]["admin"]
    assert save(admin, "/admin/user/new/", username="ghost", role="office",
                new_password="Qing@2026pw").status_code == 302
    assert User.get(User.username == "ghost").role == ""
    ghost = app.test_client()
    login(ghost, "ghost", "Qing@2026pw")
    ghost.post("/password", data={"current": "Qing@2026pw", "new": "Mine@2026own", "again": "Mine@2026own",
                                  "csrf_token": csrf_token(ghost, "/password")})
    assert "尚未授予角色" in ghost.get("/admin/").get_data(as_text=True)
    assert not reaches_the_complaint(app, "ghost", "Qing@2026pw")
    inspector = world["users"]["insp"]
    response = save(admin, f"/admin/user/edit/?id={inspector.id}", username="insp", new_password="Qing@2026pw")
    assert response.status_code == 422
    assert not reaches_the_complaint(app, "insp", "Qing@2026pw")


def test_the_security_administrator_alone_cannot_either(app, world):
    sec, inspector = world["clients"]["sec"], world["users"]["insp"]
    ghost = User.create(username="ghost2", role="", password_hash="x")
    url = f"/admin/user/edit/?id={ghost.id}"
    assert save(sec, url, username="ghost2", role="office", request_reason="新调入党风室").status_code == 302
    assert User.get_by_id(ghost.id).role == ""  # waits for a leader
    response = save(sec, f"/admin/user/edit/?id={inspector.id}", username="insp", role="inspector",
                    new_password="Qing@2026pw")
    assert response.status_code == 422 and User.get_by_id(inspector.id).check_password(PASSWORD)
    assert not reaches_the_complaint(app, "insp", "Qing@2026pw")
    # Nor approves his own request.
    pending = AccountRequest.get(AccountRequest.user == ghost.id)
    assert decide(sec, pending.id).status_code == 403
    assert AccountRequest.get_by_id(pending.id).status == "pending"


def test_a_password_reset_is_asked_approved_told_and_audited(app, world):
    sec, leader = world["clients"]["sec"], world["clients"]["leader1"]
    inspector = world["users"]["insp"]
    url = f"/admin/user/edit/?id={inspector.id}"
    assert save(sec, url, username="insp", role="inspector", request_password_reset="y",
                request_reason="本人忘记密码，电话申请").status_code == 302
    request = AccountRequest.get(AccountRequest.user == inspector.id)
    assert (request.kind, request.status, request.requested_by_id) == ("password", "pending", world["users"]["sec"].id)
    assert User.get_by_id(inspector.id).check_password(PASSWORD)  # nothing changed yet
    assert "1 件账号申请等待您审批" in leader.get("/admin/").get_data(as_text=True)
    waiting = leader.get("/admin/account-requests/").get_data(as_text=True)
    assert "本人忘记密码，电话申请" in waiting and "重置登录密码" in waiting
    assert Notification.select().where(Notification.role == "leader", Notification.kind == "account_request").exists()

    response = decide(leader, request.id, note="已电话核实本人")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = ONE_TIME_RE.search(response.get_data(as_text=True)).group(1)
    assert AccountRequest.get_by_id(request.id).status == "approved"
    changed = User.get_by_id(inspector.id)
    assert changed.check_password(password) and changed.must_change_password
    assert password not in leader.get("/admin/account-requests/").get_data(as_text=True)  # shown once
    told = [n.message for n in Notification.select().where(Notification.user == inspector.id)]
    assert len(told) == 2 and "待纪委领导审批" in told[0] and "leader1" in told[1]
    assert all(password not in text for text in told)
    assert [a.action for a in AuditLog.select().where(AuditLog.object_type == "User",
                                                      AuditLog.object_id == str(inspector.id))
            .order_by(AuditLog.id)] == ["update", "account_request", "account_request_approved", "account_changed"]
    # The holder's own password first, then the complaints.
    holder = app.test_client()
    assert login(holder, "insp", password).headers["Location"] == "/password"
    assert holder.get("/admin/ticket/").headers["Location"] == "/password"


def enrolled_and_asked(app, world, clock, **request):
    """The inspector's phone set up and a session open; then the security administrator's request about him."""
    holder = app.test_client()
    enrol(holder, clock, "insp")
    url = f"/admin/user/edit/?id={world['users']['insp'].id}"
    assert save(world["clients"]["sec"], url, username="insp", role="inspector", **request).status_code == 302
    return holder, AccountRequest.get()


def test_the_holder_keeps_his_second_factor_through_a_password_reset(app, world, clock, required):
    holder, request = enrolled_and_asked(app, world, clock, request_password_reset="y",
                                         request_reason="本人忘记密码")
    password = ONE_TIME_RE.search(decide(world["clients"]["leader1"], request.id).get_data(as_text=True)).group(1)
    assert not logged_in(holder)  # the old sessions ended
    someone = app.test_client()
    assert login(someone, "insp", password).headers["Location"] == "/login/code"  # the password alone is not enough
    assert someone.get("/admin/ticket/").status_code != 200


def test_a_lost_phone_is_reset_by_request_and_enrolled_again(app, world, clock, required):
    inspector = world["users"]["insp"]
    holder, request = enrolled_and_asked(app, world, clock, reset_second_factor="y", request_reason="手机丢失")
    assert User.get_by_id(inspector.id).totp_secret != ""  # not before a leader approves
    response = decide(world["clients"]["leader1"], request.id)
    assert response.status_code == 302  # no new password to hand over
    assert User.get_by_id(inspector.id).totp_secret == "" and not logged_in(holder)
    enrol(holder, clock, "insp")  # the holder sets up the new phone with his own password


def test_granting_a_commission_role_replaces_the_password_the_administrator_gave(app, world):
    admin, sec, leader = world["clients"]["admin"], world["clients"]["sec"], world["clients"]["leader2"]
    assert save(admin, "/admin/user/new/", username="newcomer", full_name="新同志",
                new_password="Admin@2026gave").status_code == 302
    newcomer = User.get(User.username == "newcomer")
    assert save(sec, f"/admin/user/edit/?id={newcomer.id}", username="newcomer", role="office",
                request_reason="新调入党风政风监督室").status_code == 302
    response = decide(leader, AccountRequest.get().id)
    password = ONE_TIME_RE.search(response.get_data(as_text=True)).group(1)
    newcomer = User.get_by_id(newcomer.id)
    assert newcomer.role == "office" and newcomer.check_password(password)
    assert not newcomer.check_password("Admin@2026gave")  # what the system administrator knew is gone
    assert not reaches_the_complaint(app, "newcomer", "Admin@2026gave")
    assert reaches_the_complaint(app, "newcomer", password)


def test_an_account_the_administrator_took_over_before_the_grant_is_no_use_to_him(app, world):
    """He logs in as the account he made and chooses its password; the grant a leader approves still
    hands a new one to the holder, in person."""
    admin, sec, leader = world["clients"]["admin"], world["clients"]["sec"], world["clients"]["leader1"]
    assert save(admin, "/admin/user/new/", username="puppet", new_password="Qing@2026pw").status_code == 302
    himself = app.test_client()
    login(himself, "puppet", "Qing@2026pw")
    himself.post("/password", data={"current": "Qing@2026pw", "new": "Mine@2026own", "again": "Mine@2026own",
                                    "csrf_token": csrf_token(himself, "/password")})
    puppet = User.get(User.username == "puppet")
    assert not puppet.must_change_password and puppet.check_password("Mine@2026own")
    assert save(sec, f"/admin/user/edit/?id={puppet.id}", username="puppet", role="inspector",
                request_reason="新调入监督检查室").status_code == 302
    assert ONE_TIME_RE.search(decide(leader, AccountRequest.get().id).get_data(as_text=True))
    assert not reaches_the_complaint(app, "puppet", "Mine@2026own")


def test_a_leader_decides_once_and_never_about_himself(app, world):
    sec, leader1, leader2 = world["clients"]["sec"], world["clients"]["leader1"], world["clients"]["leader2"]
    me = world["users"]["leader1"]
    assert save(sec, f"/admin/user/edit/?id={me.id}", username="leader1", role="leader",
                request_password_reset="y", request_reason="本人忘记密码").status_code == 302
    request = AccountRequest.get()
    refused = decide(leader1, request.id)
    assert refused.status_code == 409 and "其他纪委领导" in refused.get_data(as_text=True)
    assert decide(leader2, request.id, "reject", note="未核实本人").status_code == 302
    assert AccountRequest.get_by_id(request.id).status == "rejected"
    assert User.get_by_id(me.id).check_password(PASSWORD)
    again = decide(leader2, request.id)
    assert again.status_code == 409 and "已经处理过" in again.get_data(as_text=True)
    last = Notification.select().where(Notification.user == me.id).order_by(Notification.id.desc()).first()
    assert "未获批准" in last.message


def test_the_security_administrator_may_withdraw_his_request(world):
    sec, inspector = world["clients"]["sec"], world["users"]["insp"]
    save(sec, f"/admin/user/edit/?id={inspector.id}", username="insp", role="inspector",
         request_password_reset="y", request_reason="本人忘记密码")
    request = AccountRequest.get()
    url = "/admin/account-requests/"
    assert sec.post(f"{url}{request.id}/withdraw/", data={"csrf_token": csrf_token(sec, url)}).status_code == 302
    assert AccountRequest.get_by_id(request.id).status == "withdrawn"
    assert decide(world["clients"]["leader1"], request.id).status_code == 409


def test_an_account_notice_reaches_that_account_only(app, world):
    sec, inspector = world["clients"]["sec"], world["users"]["insp"]
    other = User.create(username="insp2", role="inspector", password_hash="x")
    save(sec, f"/admin/user/edit/?id={inspector.id}", username="insp", role="inspector",
         request_password_reset="y", request_reason="本人忘记密码")
    holder = app.test_client()
    login(holder, "insp")
    assert "待纪委领导审批" in holder.get("/admin/notifications/").get_data(as_text=True)
    other.set_password(PASSWORD)
    other.save()
    colleague = app.test_client()
    login(colleague, "insp2")
    assert "待纪委领导审批" not in colleague.get("/admin/notifications/").get_data(as_text=True)
