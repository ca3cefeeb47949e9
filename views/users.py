"""Officer accounts (system administrator) and the audit trail (auditor)."""
from flask import flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import JOIN
from wtforms import BooleanField, PasswordField, SelectField, TextAreaField
from wtforms.validators import ValidationError

from app import account_requests, audit, outbox, passwords
from app.account_requests import needs_approval
from app.roles import ADMINISTRATORS, AUDITOR, NO_ROLE, ROLES, SECADMIN, SYSADMIN, UNIT_BOUND, role_label
from models import AuditLog, Unit, User
from views.base import SecureModelView
from views.validators import NotBlank, Unique, strip

class UserAdmin(SecureModelView):
    """Accounts, split as 三员分立 wants (app/roles.py): the system administrator makes accounts
    and sets passwords, the security administrator grants roles, and what would reach complaints
    waits for a commission leader (app/account_requests.py)."""
    read_roles = frozenset({SYSADMIN, SECADMIN, AUDITOR})
    edit_roles = frozenset({SYSADMIN, SECADMIN})
    create_roles = frozenset({SYSADMIN})
    export_roles = frozenset({SYSADMIN, SECADMIN, AUDITOR})
    column_list = ("username", "full_name", "role", "unit", "active", "must_change_password", "last_login_at",
                   "created_at")
    column_details_list = ("username", "full_name", "role", "unit", "staff", "active", "must_change_password",
                           "password_changed_at", "last_login_at", "created_at")
    column_export_list = column_details_list
    column_default_sort = ("username", False)
    column_sortable_list = ("username", "full_name", "role", "active", "last_login_at")
    column_searchable_list = ("username", "full_name")
    column_formatters = {"role": lambda v, c, m, n: role_label(m.role)}
    column_formatters_export = column_formatters
    column_filters = (
        FilterEqual(User.role, _l("Role"), options=[(NO_ROLE, _l("No role yet"))] + list(ROLES)),
        FilterEqual(User.active, _l("Active"), options=[("1", _l("Yes")), ("0", _l("No"))]),
    )
    form_columns = ("username", "full_name", "role", "unit", "staff", "active")
    form_extra_fields = {
        "new_password": PasswordField(_l("New password")),
        "reset_second_factor": BooleanField(_l("Reset the second factor (lost phone)")),
        "request_password_reset": BooleanField(_l("Request a password reset (a commission leader approves)")),
        "request_reason": TextAreaField(_l("Reason for the request"), filters=[strip],
                                        description=_l("Needed when granting a commission or auditor role "
                                                       "or resetting such an account: the approving leader "
                                                       "reads it.")),
    }
    form_overrides = {"role": SelectField}
    form_args = {
        "username": {"validators": [NotBlank(), Unique(User.username, _l("Username %(value)s is already taken."))],
                     "filters": [strip]},
        "role": {"choices": [(NO_ROLE, _l("No role yet"))] + list(ROLES)},
    }

    def base_query(self):
        return User.select(User, Unit).join(Unit, JOIN.LEFT_OUTER)

    def _handle_join(self, query, field, joins):
        return query if getattr(field, "model", None) is Unit else super()._handle_join(query, field, joins)

    def create_form(self, obj=None):
        return self._fields_of_this_administrator(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._fields_of_this_administrator(super().edit_form(obj))

    def _fields_of_this_administrator(self, form):
        if current_user.role == SYSADMIN:  # he grants no role and asks nothing of the leaders
            for name in ("role", "request_password_reset", "request_reason"):
                delattr(form, name)
        return form

    def on_model_change(self, form, model, is_created):
        before = None if is_created else User.get_by_id(model.id)
        before_role = before.role if before is not None else NO_ROLE
        g.account_requests = []  # per request: one view object serves every officer
        if current_user.role == SYSADMIN:
            self._sysadmin_change(form, model, is_created, before_role)
        else:
            self._secadmin_change(form, model, before_role)
        if model.staff is not None and (model.unit is None or model.staff.unit_id not in Unit.subtree_ids(model.unit_id)):
            raise ValidationError(_("The staff record must be of the account's own unit or a unit below it."))
        if model.role in UNIT_BOUND and model.unit is None:
            raise ValidationError(_("A handling unit officer must belong to a unit."))
        if model.id == current_user.id and not model.active:
            raise ValidationError(_("You cannot deactivate your own account."))

    def _sysadmin_change(self, form, model, is_created, before_role):
        model.role = before_role  # a new account has none until the security administrator grants one
        if before_role in ADMINISTRATORS:
            raise ValidationError(_("Accounts of the system administrator, the security administrator and the "
                                    "auditor are made and changed by the security administrator."))
        password = form.new_password.data or ""
        if needs_approval(before_role) and (password or form.reset_second_factor.data):
            raise ValidationError(_("The password and second factor of a commission or auditor account are reset "
                                    "only on the security administrator's request with a commission leader's "
                                    "approval (系统 → 账号审批)."))
        if is_created and not password:
            raise ValidationError(_("A new account needs a password."))
        self._set_password(model, password, form.reset_second_factor.data)

    def _secadmin_change(self, form, model, before_role):
        if model.id == current_user.id and model.role != before_role:
            raise ValidationError(_("Nobody changes his own role: ask the security administrator."))
        password, reason = form.new_password.data or "", form.request_reason.data or ""
        if password and before_role not in (SYSADMIN, SECADMIN):
            raise ValidationError(_("The security administrator sets the password of administrator accounts only: "
                                    "for a commission or auditor account tick “request a password reset”; any "
                                    "other account's password is set by the system administrator."))
        wanted = model.role
        if wanted != before_role and needs_approval(wanted):
            model.role = before_role  # granted when a leader approves
            g.account_requests.append(("grant", wanted))
        elif wanted != before_role:
            model.must_change_password = model.must_change_password or wanted != NO_ROLE
            model.end_sessions()
        if form.request_password_reset.data:
            g.account_requests.append(("password", ""))
        if form.reset_second_factor.data and needs_approval(before_role):
            g.account_requests.append(("second_factor", ""))
            form.reset_second_factor.data = False
        self._set_password(model, password, form.reset_second_factor.data)
        for kind, role in g.account_requests:  # checked now, so that a refusal keeps the form as typed
            try:
                account_requests.check(model, kind, current_user, reason, role)
            except account_requests.Refused as exc:
                raise ValidationError(str(exc))

    def _set_password(self, model, password, reset_second_factor):
        if password:
            found = passwords.problems(password, model.username)
            if found:
                raise ValidationError(" ".join(found))
            model.set_password(password)
            # Given by an administrator: its owner chooses a new one at the next login,
            # and the sessions opened with the old one end.
            model.must_change_password = True
            model.end_sessions()
        if reset_second_factor and model.totp_secret:
            # The owner sets the app up again at the next login; sessions opened with the old one end.
            model.totp_secret, model.totp_last_step = "", 0
            model.end_sessions()

    def after_model_change(self, form, model, is_created):
        super().after_model_change(form, model, is_created)
        for kind, role in g.pop("account_requests", ()):
            made = account_requests.ask(model, kind, current_user, form.request_reason.data, role=role,
                                        ip=request.remote_addr)
            flash(_("Sent to the commission leaders for approval: %(what)s.", what=account_requests.describe(made)),
                  "info")
        told = [text for flag, text in (
            (form.new_password.data, "您的账号密码已由管理员重置，下次登录时须先设置新密码。"),
            (form.reset_second_factor.data, "您的动态验证码已由管理员重置，下次登录时须重新设置。")) if flag]
        if not is_created and told:
            outbox.notify_account(model, "account_notice", "".join(told) + "如非您本人知情，请立即报告。")

    def audit_detail(self, form, model):
        changed = (" password changed" if form.new_password.data else "") + \
            (" second factor reset" if form.reset_second_factor.data else "")
        return f"{model.username} role={model.role} unit={model.unit_id} active={model.active}{changed}"


class AuditLogAdmin(SecureModelView):
    read_roles = frozenset({AUDITOR})
    edit_roles = frozenset()
    export_roles = frozenset({AUDITOR})
    column_list = ("created_at", "username", "action", "object_type", "object_id", "detail", "ip")
    column_export_list = column_list + ("row_hash",)
    column_default_sort = ("id", True)
    column_sortable_list = ("created_at", "username", "action")
    column_searchable_list = ("username", "action", "detail")
    column_filters = ("created_at", "action", "username", "object_type", "ip")
    list_template = "admin/audit_list.html"

    @expose("/verify/", methods=("POST",))
    def verify(self):
        """Check the whole hash chain now, as `flask audit verify` does."""
        count, problems = audit.verify()
        if problems:
            for line in problems[:20]:
                flash(line, "error")
            flash(_("The audit trail has %(n)d sign(s) of change or removal (%(count)d rows).",
                    n=len(problems), count=count), "error")
        else:
            flash(_("The audit trail is complete: %(count)d rows, each seal checked.", count=count), "success")
        AuditLog.record("audit_verify", current_user, detail=f"rows={count} problems={len(problems)}",
                        ip=request.remote_addr)
        return redirect(url_for(".index_view"))
