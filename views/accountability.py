"""问责: measures taken on a ticket, against a unit or one of its officers; listed per unit and officer."""
import datetime

from flask import request
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import JOIN
from wtforms import StringField
from wtforms.validators import ValidationError

from app.roles import INSPECTOR, LEADER, OFFICE
from models import ACCOUNTABILITY_KINDS, Accountability, Staff, Ticket, Unit
from views.evaluations import staff_options
from views.input_guard import row_id
from views.org import OrgModelView, units_hall_first, unit_options
from views.validators import NotBlank, strip

# Decided by the commission about officers: not for the units concerned to read.
READERS = frozenset({OFFICE, LEADER, INSPECTOR})
RECORDERS = frozenset({OFFICE, INSPECTOR})


def ticket_cell(view, context, model, name):
    return model.ticket.code if model.ticket_id else ""


class AccountabilityAdmin(OrgModelView):
    read_roles = READERS
    edit_roles = RECORDERS
    export_roles = frozenset({OFFICE, LEADER, INSPECTOR})
    prejoined = (Unit, Staff, Ticket)
    column_list = ("decided_on", "kind", "unit", "staff", "ticket", "document_number", "decider", "note")
    column_default_sort = ("decided_on", True)
    column_sortable_list = ("decided_on", "kind")
    column_searchable_list = ("document_number", "note")
    column_filters = (
        FilterEqual(Accountability.kind, _l("Measure"), options=list(ACCOUNTABILITY_KINDS)),
        FilterEqual(Accountability.unit, _l("Unit concerned"), options=unit_options),
        FilterEqual(Accountability.staff, _l("Person concerned"), options=staff_options),
        "decided_on",
    )
    column_formatters = {"ticket": ticket_cell}
    column_formatters_export = column_formatters
    form_columns = ("unit", "staff", "kind", "decided_on", "document_number", "decider", "note")
    form_extra_fields = {"ticket_code": StringField(_l("Ticket number (if it arose from a ticket)"),
                                                    filters=[strip])}
    form_args = {
        "document_number": {"validators": [NotBlank()], "filters": [strip]},
        "decider": {"validators": [NotBlank()], "filters": [strip]},
    }
    form_queries = {"unit": lambda: units_hall_first().where(Unit.active),
                    "staff": lambda: Staff.select().order_by(Staff.number)}

    def base_query(self):
        return (Accountability.select(Accountability, Unit, Staff, Ticket)
                .join_from(Accountability, Unit)
                .join_from(Accountability, Staff, JOIN.LEFT_OUTER)
                .join_from(Accountability, Ticket, JOIN.LEFT_OUTER))

    def create_form(self, obj=None):
        """Opened from a ticket (?ticket=<id>): its number, unit and officer filled in."""
        form = super().create_form(obj)
        ticket = Ticket.get_or_none(Ticket.id == request.args.get("ticket", type=row_id)) \
            if request.method == "GET" and request.args.get("ticket") else None
        if ticket is not None:
            form.ticket_code.data = ticket.code
            form.unit.data = ticket.handling_unit or ticket.unit
            form.staff.data = ticket.staff
            form.decided_on.data = datetime.date.today()
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if request.method == "GET" and obj is not None and obj.ticket_id:
            form.ticket_code.data = obj.ticket.code
        return form

    def on_model_change(self, form, model, is_created):
        code = (form.ticket_code.data or "").strip()
        ticket = Ticket.get_or_none(Ticket.code == code) if code else None
        if code and ticket is None:
            raise ValidationError(_("There is no ticket numbered %(code)s.", code=code))
        model.ticket = ticket
        if model.staff is not None and model.staff.unit_id != model.unit_id:
            raise ValidationError(_("%(name)s is not an officer of %(unit)s.", name=model.staff.name,
                                    unit=model.unit.name))
        if model.decided_on and model.decided_on > datetime.date.today():
            raise ValidationError(_("The decision date cannot be in the future."))
        if is_created:
            model.created_by = current_user.id
