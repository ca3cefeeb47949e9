"""账号审批: the security administrator's requests about commission and auditor accounts, and a
commission leader's decision on each (two-person rule, app/account_requests.py)."""
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from app import account_requests
from app.roles import AUDITOR, LEADER, SECADMIN, role_label
from models import ACCOUNT_REQUEST_STATUSES, AccountRequest, User
from views.base import SecureBaseView

SHOWN_DECIDED = 100


class AccountRequestView(SecureBaseView):
    read_roles = frozenset({SECADMIN, LEADER, AUDITOR})

    @expose("/")
    def index(self):
        waiting = list(account_requests.pending().order_by(AccountRequest.requested_at, AccountRequest.id))
        decided = list(AccountRequest.select().where(AccountRequest.status != "pending")
                       .order_by(AccountRequest.id.desc()).limit(SHOWN_DECIDED))
        users = {u.id: u for u in User.select().where(User.id.in_(
            [r.user_id for r in waiting + decided] + [r.requested_by_id for r in waiting + decided]
            + [r.decided_by_id for r in decided if r.decided_by_id] or [0]))}
        return self.render("admin/account_requests.html", waiting=waiting, decided=decided, users=users,
                           describe=account_requests.describe, role_label=role_label, statuses=dict(ACCOUNT_REQUEST_STATUSES),
                           may_decide=current_user.role == LEADER, may_withdraw=current_user.role == SECADMIN)

    @expose("/<int:request_id>/decide/", methods=("POST",))
    def decide(self, request_id):
        if current_user.role != LEADER:
            abort(403)
        choice = request.form.get("decision")
        if choice not in ("approve", "reject"):
            flash(_("Choose to approve or to reject."), "error")
            return redirect(url_for(".index")), 303
        try:
            decided, password = account_requests.decide(request_id, current_user, choice == "approve",
                                                         (request.form.get("note") or "").strip(),
                                                         ip=request.remote_addr)
        except account_requests.Refused as exc:
            flash(str(exc), "error")
            return self.render_index_refused()
        holder = User.get_by_id(decided.user_id)
        if password is None:
            flash(_("Decided: %(what)s for %(user)s.", what=account_requests.describe(decided), user=str(holder)),
                  "success")
            return redirect(url_for(".index"))
        # The one-time password, shown to the approving leader once and never stored in clear.
        response = self.render("admin/account_password.html", holder=holder, password=password,
                               what=account_requests.describe(decided))
        return response, 200, {"Cache-Control": "no-store"}

    @expose("/<int:request_id>/withdraw/", methods=("POST",))
    def withdraw(self, request_id):
        if current_user.role != SECADMIN:
            abort(403)
        try:
            account_requests.withdraw(request_id, current_user, ip=request.remote_addr)
        except account_requests.Refused as exc:
            flash(str(exc), "error")
            return self.render_index_refused()
        flash(_("Request withdrawn."), "success")
        return redirect(url_for(".index"))

    def render_index_refused(self):
        response = self.index()
        return response, 409
