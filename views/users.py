"""Officer accounts (system administrator) and the audit trail (auditor)."""
from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import JOIN
from wtforms import BooleanField, PasswordField, SelectField
from wtforms.validators import ValidationError

from app import audit, passwords
from app.roles import ADMINISTRATORS, AUDITOR, ROLES, SECADMIN, SYSADMIN, UNIT_BOUND, role_label
from models import AuditLog, Unit, User
from views.base import SecureModelView
from views.validators import NotBlank, Unique, strip

class UserAdmin(SecureModelView):
    read_roles = frozenset({SYSADMIN, SECADMIN, AUDITOR})
    edit_roles = frozenset({SYSADMIN, SECADMIN})
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
        FilterEqual(User.role, _l("Role"), options=list(ROLES)),
        FilterEqual(User.active, _l("Active"), options=[("1", _l("Yes")), ("0", _l("No"))]),
    )
    form_columns = ("username", "full_name", "role", "unit", "staff", "active")
    form_extra_fields = {"new_password": PasswordField(_l("New password")),
                         "reset_second_factor": BooleanField(_l("Reset the second factor (lost phone)"))}
    form_overrides = {"role": SelectField}
    form_args = {
        "username": {"validators": [NotBlank(), Unique(User.username, _l("Username %(value)s is already taken."))],
                     "filters": [strip]},
        "role": {"choices": list(ROLES)},
    }

    def base_query(self):
        return User.select(User, Unit).join(Unit, JOIN.LEFT_OUTER)

    def _handle_join(self, query, field, joins):
        return query if getattr(field, "model", None) is Unit else super()._handle_join(query, field, joins)

    def on_model_change(self, form, model, is_created):
        before = None if is_created else User.get_by_id(model.id).role
        if current_user.role == SYSADMIN and ADMINISTRATORS & {model.role, before}:
            raise ValidationError(_("Accounts of the system administrator, the security administrator and the "
                                    "auditor are made and changed by the security administrator."))
        if not is_created and model.id == current_user.id and model.role != before:
            raise ValidationError(_("Nobody changes his own role: ask the security administrator."))
        password = form.new_password.data or ""
        if is_created and not password:
            raise ValidationError(_("A new account needs a password."))
        if password:
            found = passwords.problems(password, model.username)
            if found:
                raise ValidationError(" ".join(found))
            model.set_password(password)
            # Given by an administrator: its owner chooses a new one at the next login,
            # and the sessions opened with the old one end.
            model.must_change_password = True
            model.end_sessions()
        if form.reset_second_factor.data and model.totp_secret:
            # The owner sets the app up again at the next login; sessions opened with the old one end.
            model.totp_secret, model.totp_last_step = "", 0
            model.end_sessions()
        if model.staff is not None and (model.unit is None or model.staff.unit_id not in Unit.subtree_ids(model.unit_id)):
            raise ValidationError(_("The staff record must be of the account's own unit or a unit below it."))
        if model.role in UNIT_BOUND and model.unit is None:
            raise ValidationError(_("A handling unit officer must belong to a unit."))
        if model.id == current_user.id and not model.active:
            raise ValidationError(_("You cannot deactivate your own account."))

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
