"""The two-person rule of 三员分立: no single administrator reaches a complaint.

A commission (office, leader, inspector) or auditor account reads complaints. Giving an account
such a role, or resetting its password or second factor, would let whoever does it log in as that
officer; so the security administrator asks (a request with its reason), a commission leader
approves, and only then is the change made. Every step is in the audit trail and told to the
account's holder.

A new password is made by the system at approval (of a grant, too: the system administrator made
the account and may know or have changed its password) and shown to the approving leader once, to
hand to the holder in person: no administrator ever knows a commission officer's password. The holder must
choose his own at the next login, and passes his second factor (kept, or enrolled again) before
he sees any complaint.
"""
import secrets

from flask_babel import gettext as _

from app import outbox
from app.roles import LEADER, SECADMIN, TWO_PERSON, role_label
from models import AccountRequest, AuditLog, User, db, now


class Refused(ValueError):
    """The request cannot be made or decided; the message is for the officer."""


KIND_TEXT = {"grant": "授予“{role}”角色", "password": "重置登录密码", "second_factor": "重置动态验证码"}


def describe(request):
    return KIND_TEXT[request.kind].format(role=role_label(request.role))


def needs_approval(role):
    """Whether granting `role`, or resetting an account that holds it, waits for a leader."""
    return role in TWO_PERSON


def temporary_password():
    """Twelve characters of four kinds, none easily confused when read out or copied by hand."""
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789", "@#%+"
    chars = [secrets.choice(kind) for kind in letters]
    chars += [secrets.choice("".join(letters)) for _ in range(8)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def check(user, kind, requester, reason, role=""):
    """Raise Refused if the security administrator may not make this request."""
    reason = (reason or "").strip()
    if requester.role != SECADMIN:
        raise Refused(_("Only the security administrator makes such requests."))
    if user.id == requester.id:
        raise Refused(_("Nobody makes a request about his own account."))
    if kind == "grant":
        if not needs_approval(role):
            raise Refused(_("This role needs no approval: set it on the account."))
        if user.role == role:
            raise Refused(_("The account already holds the role %(role)s.", role=role_label(role)))
    elif kind in ("password", "second_factor"):
        if not needs_approval(user.role):
            raise Refused(_("This is not a commission or auditor account: no approval is needed."))
        if kind == "second_factor" and not user.totp_secret:
            raise Refused(_("The account has no second factor to reset."))
    else:
        raise Refused(_("Unknown kind of request."))
    if len(reason) < 4:
        raise Refused(_("Please give the reason (at least %(n)d characters) for the approving leader.", n=4))
    if AccountRequest.select().where(AccountRequest.user == user.id, AccountRequest.kind == kind,
                                     AccountRequest.status == "pending").exists():
        raise Refused(_("A request of this kind for the account is already awaiting approval."))


def ask(user, kind, requester, reason, role="", ip=""):
    """The security administrator's request, told to the leaders and the holder; or raises Refused."""
    check(user, kind, requester, reason, role)
    reason = reason.strip()
    with db.atomic():
        request = AccountRequest.create(user=user, kind=kind, role=role if kind == "grant" else "",
                                        reason=reason[:500], requested_by=requester, requested_at=now())
        what = describe(request)
        AuditLog.record("account_request", requester, user, detail=f"#{request.id} {kind} role={request.role} "
                                                                  f"reason={reason[:200]}", ip=ip)
        outbox.notify_system(LEADER, "account_request",
                           f"安全管理员 {requester.username} 申请为账号 {user.username}（{user.full_name}）{what}，"
                           f"理由：{reason[:100]}。请在“系统 → 账号审批”中审批。")
        outbox.notify_account(user, "account_notice",
                              f"安全管理员 {requester.username} 申请为您的账号{what}，待纪委领导审批。"
                              "如非您本人知情，请立即向纪委报告。")
    return request


def decide(request_id, leader, approve, note="", ip=""):
    """A leader approves or rejects a pending request: (request, one-time password or None)."""
    with db.atomic():
        request = AccountRequest.get_or_none(AccountRequest.id == request_id)
        if request is None:
            raise Refused(_("No such request."))
        if leader.role != LEADER:
            raise Refused(_("Only a commission leader approves requests."))
        if request.user_id == leader.id:
            raise Refused(_("A request about your own account is approved by another leader."))
        if request.status != "pending":
            raise Refused(_("This request has already been decided."))
        status = "approved" if approve else "rejected"
        # Guarded like a workflow step: two leaders deciding at once, one of them wins.
        changed = (AccountRequest.update(status=status, decided_by=leader, decided_at=now(),
                                         decision=(note or "")[:500])
                   .where(AccountRequest.id == request.id, AccountRequest.status == "pending").execute())
        if not changed:
            raise Refused(_("This request has already been decided."))
        request = AccountRequest.get_by_id(request.id)
        user = User.get_by_id(request.user_id)
        what = describe(request)
        AuditLog.record(f"account_request_{status}", leader, user, detail=f"#{request.id} {request.kind} "
                                                                        f"role={request.role} note={note[:200]}", ip=ip)
        password = _apply(request, user) if approve else None
        if approve:
            AuditLog.record("account_changed", leader, user, detail=f"#{request.id} {what} by two-person rule", ip=ip)
            outbox.notify_account(user, "account_notice",
                                  f"您的账号已{what}（纪委领导 {leader.username} 批准）。" +
                                  ("临时密码由批准的领导当面交给您；" if password else "") +
                                  "下次登录时须先设置新密码。如非您本人知情，请立即向纪委报告。")
        else:
            outbox.notify_account(user, "account_notice", f"为您的账号{what}的申请未获批准。")
    return request, password


def withdraw(request_id, requester, ip=""):
    with db.atomic():
        changed = (AccountRequest.update(status="withdrawn", decided_at=now())
                   .where(AccountRequest.id == request_id, AccountRequest.requested_by == requester.id,
                          AccountRequest.status == "pending").execute())
        if not changed:
            raise Refused(_("Only your own requests awaiting approval can be withdrawn."))
        request = AccountRequest.get_by_id(request_id)
        AuditLog.record("account_request_withdrawn", requester, request.user, detail=f"#{request.id}", ip=ip)
    return request


def _apply(request, user):
    """Make the approved change; the one-time password, where one was made."""
    password = None
    if request.kind == "grant":
        user.role = request.role
        # Whoever set or used the account's password before (the system administrator made it)
        # might know it: the holder gets a new one from the approving leader's hand, in person.
        password = temporary_password()
    elif request.kind == "password":
        password = temporary_password()
    elif request.kind == "second_factor":
        user.totp_secret, user.totp_last_step = "", 0
    if password is not None:
        user.set_password(password)
    # Changed by an administrator: the holder chooses a new password before anything else, and
    # every session opened before ends.
    user.must_change_password = True
    user.end_sessions()
    user.save()
    return password


def pending():
    return AccountRequest.select().where(AccountRequest.status == "pending")

