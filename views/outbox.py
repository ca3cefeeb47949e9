"""通知通道 and 通知发送: where notices go out, and what became of each (the office's screens).

A channel's address holds a webhook key or a password: it is typed once, checked by Apprise when
saved, and from then on shown, listed and audited only in its masked form.
"""
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from peewee import JOIN
from wtforms import SelectField, StringField
from wtforms.validators import Optional, ValidationError

from app import outbox
from app.roles import AUDITOR, OFFICE, ROLES, UNIT_BOUND, role_label
from models import DELIVERY_STATUSES, Channel, Delivery, Notification, Ticket, AuditLog, db
from views.base import SecureModelView


def _role_choices():
    """Not the auditor, who is told nothing; the two other administrators get system notices (a failed backup) only."""
    return [("", "—")] + [(r, label) for r, label in ROLES if r != AUDITOR]


class ChannelAdmin(SecureModelView):
    """The office configures the groups, mailboxes and the SMS gateway notices go to.

    Only the office: channels carry no complaint, but they decide who learns of one, which is the
    commission's call, not the system administrator's (三员分立).
    """
    read_roles = frozenset({OFFICE})
    edit_roles = frozenset({OFFICE})
    column_list = ("title", "kind", "unit", "role", "user", "masked_url", "active", "test")
    column_details_list = ("title", "kind", "unit", "role", "user", "masked_url", "active", "created_at")
    column_labels = {"masked_url": _l("Address"), "test": _l("Test")}
    column_default_sort = ("id", False)
    column_sortable_list = ("title", "kind")
    form_columns = ("title", "kind", "unit", "role", "user", "address", "active")
    form_extra_fields = {"address": StringField(
        _l("Address (Apprise URL)"),
        description=_l("For example wecombot://KEY, dingtalk://TOKEN, mailto://user:password@smtp.example.com, "
                       "json://gateway:8080/sms?:phone={phone}. Saved addresses are shown masked: leave empty "
                       "to keep the saved one."))}
    # A role is chosen from its Chinese name, never typed as an id.
    form_overrides = {"role": SelectField}
    form_args = {"role": {"label": _l("Role"), "choices": _role_choices(), "validators": [Optional()]}}

    def _format_role(view, context, model, name):
        return role_label(model.role) if model.role else ""

    def _format_test(view, context, model, name):
        phone = Markup('<input name="phone" size="11" placeholder="{}" class="form-control form-control-sm d-inline w-auto"> ') \
            .format(_("Mobile number")) if model.kind == "citizen_sms" else ""
        return Markup('<form method="post" action="{}" class="form-inline">'
                      '<input type="hidden" name="csrf_token" value="{}">{}'
                      '<button class="btn btn-sm btn-outline-primary">{}</button></form>').format(
            url_for(".send_test", channel_id=model.id), generate_csrf(), phone, _("Send a test"))

    column_formatters = {"role": _format_role, "test": _format_test,
                         "masked_url": lambda v, c, m, n: m.masked_url}
    column_formatters_detail = {"role": _format_role, "masked_url": lambda v, c, m, n: m.masked_url}

    def on_model_change(self, form, model, is_created):
        address = (form.address.data or "").strip()
        if address:
            if not outbox.valid_url(address):
                raise ValidationError(_("Apprise cannot read this address. Check how it starts (wecombot://, "
                                        "dingtalk://, mailto://, json://, smpp:// …) and its parts; nothing "
                                        "was saved."))
            model.url = address
        elif is_created or not model.url:
            raise ValidationError(_("Please enter the channel's address (an Apprise URL)."))
        problem = self.recipient_problem(model)
        if problem:
            raise ValidationError(problem)

    @staticmethod
    def recipient_problem(model):
        """Why the channel's recipient does not fit its kind, or None."""
        if model.kind == "unit" and model.unit_id is None:
            return _("A unit group needs its unit.")
        if model.kind == "role" and not model.role:
            return _("A role group needs its role.")
        if model.kind == "role" and model.role in UNIT_BOUND:
            return _("Handling units are told through their own unit group: choose the unit instead.")
        if model.kind == "account" and model.user_id is None:
            return _("An account channel needs its account.")
        if model.kind == "citizen_sms" and outbox.PHONE not in model.url:
            return _("A citizen SMS address must say where the phone number goes, with {phone}, "
                     "for example json://gateway:8080/sms?:phone={phone}.")
        return None

    def audit_detail(self, form, model):
        return f"{model.title} {model.kind} {model.masked_url}"

    @expose("/test/<int:channel_id>/", methods=("POST",))
    def send_test(self, channel_id):
        """发送测试: one message now, with the gateway's answer shown, the secret nowhere."""
        if not self.can_edit:
            abort(403)
        channel = self.get_one(str(channel_id))
        if channel is None:
            abort(404)
        url = channel.url
        if channel.kind == "citizen_sms":
            phone = request.form.get("phone", "").strip()
            if not outbox.MOBILE.match(phone):
                flash(_("Enter the mobile number the test SMS goes to (11 digits, starting with 1)."), "error")
                return redirect(url_for(".index_view"))
            url = url.replace(outbox.PHONE, phone)
        ok, answer = outbox.send(url, _("This is a test message from Zhitongche: the channel %(title)s works.",
                                        title=channel.title))
        AuditLog.record("channel_test", current_user, channel, detail=f"{channel.masked_url} {'ok' if ok else 'failed'}",
                        ip=request.remote_addr)
        if ok:
            flash(_("The test message was accepted by %(title)s.", title=channel.title), "success")
        else:
            flash(_("The test message to %(title)s failed: %(answer)s", title=channel.title, answer=answer), "error")
        return redirect(url_for(".index_view"))


STATUS_OPTIONS = [(k, v) for k, v in DELIVERY_STATUSES]
# What each kind of notice is, for the office's list (the kinds of app/workflow/schema.py and the sweep).
NOTICE_LABELS = {
    "new_work": _l("New work"), "remind": _l("Deadline reminder"), "yellow": _l("Yellow card"),
    "red": _l("Red card"), "co_handling": _l("Co-handling request"), "co_chase": _l("Co-handling chase"),
    "extension": _l("Extension request"), "extend_approved": _l("Extension approved"),
    "extend_rejected": _l("Extension rejected"), "citizen_accepted": _l("SMS: accepted"),
    "citizen_transfer": _l("SMS: transferred"), "citizen_replied": _l("SMS: answered"),
    "citizen_reopened": _l("SMS: reopened"), "backup_failed": _l("Backup failed"),
}


class DeliveryAdmin(SecureModelView):
    """What became of each notice on each channel; the office 重发 what failed. Never a phone number."""
    read_roles = frozenset({OFFICE})
    edit_roles = frozenset()
    column_list = ("created_at", "ticket", "kind", "channel", "status", "attempts", "next_attempt_at",
                   "last_error", "sent_at", "message")
    column_details_list = column_list
    column_labels = {"ticket": _l("Ticket"), "kind": _l("Kind"), "message": _l("Notice text")}
    column_default_sort = ("id", True)
    column_sortable_list = ("created_at", "status")
    column_filters = (FilterEqual(Delivery.status, _l("Status"), options=STATUS_OPTIONS),)
    column_formatters = {
        "ticket": lambda v, c, m, n: m.notification.ticket.code if m.notification.ticket_id else "",
        "kind": lambda v, c, m, n: NOTICE_LABELS.get(m.notification.kind, m.notification.kind),
        "message": lambda v, c, m, n: m.notification.message,
        "channel": lambda v, c, m, n: str(m.channel),
    }
    column_formatters_detail = column_formatters

    def base_query(self):
        return (Delivery.select(Delivery, Notification, Channel, Ticket).join(Notification)
                .join(Ticket, JOIN.LEFT_OUTER).switch(Delivery).join(Channel))

    @action("resend", _l("Resend"), _l("Send the selected notices again?"))
    def action_resend(self, ids):
        if current_user.role != OFFICE:
            abort(403)
        with db.atomic():
            chosen = [d.id for d in self.get_query().where(Delivery.id.in_([int(i) for i in ids if str(i).isdigit()]))]
            count = outbox.resend(chosen)
            AuditLog.record("delivery_resend", current_user, detail=" ".join(map(str, chosen))[:500],
                            ip=request.remote_addr)
        flash(_("%(n)d notices will be sent again.", n=count), "success")

    def is_action_allowed(self, name):
        return current_user.role == OFFICE and super().is_action_allowed(name)
