"""Messages from the board and the tickets they become (list only until the workflow lands)."""
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from peewee import JOIN

from app.roles import AUDITOR, HANDLER, INSPECTOR, LEADER, OFFICE
from models import (CHANNELS, CLOSING_KINDS, MESSAGE_KINDS, MESSAGE_STATUSES, TICKET_STATUSES,
                    Contact, Message, Ticket, Unit, mask_phone)
from views.org import OrgModelView, unit_options

COMMISSION_READERS = frozenset({OFFICE, LEADER, INSPECTOR, AUDITOR})


def _contact_cell(view, context, model, name):
    contact = model.contact
    if contact is None:
        return _l("Anonymous")
    return " ".join(p for p in (contact.name, mask_phone(contact.phone)) if p)


class MessageAdmin(OrgModelView):
    # Messages carry the writer's identity: only the commission reads them.
    read_roles = COMMISSION_READERS
    edit_roles = frozenset({OFFICE})
    create_roles = frozenset()
    export_roles = frozenset({OFFICE, LEADER, INSPECTOR})
    unit_field = Message.unit
    prejoined = (Unit, Contact)
    column_list = ("created_at", "kind", "unit", "content", "contact", "channel", "status", "query_code")
    column_default_sort = ("created_at", True)
    column_sortable_list = ("created_at", "kind", "status", "channel")
    column_searchable_list = ("content", "query_code")
    column_filters = (
        FilterEqual(Message.kind, _l("Kind"), options=[(k, v) for k, v in MESSAGE_KINDS]),
        FilterEqual(Message.unit, _l("Unit addressed"), options=unit_options),
        FilterEqual(Message.status, _l("Status"), options=[(k, v) for k, v in MESSAGE_STATUSES]),
        FilterEqual(Message.channel, _l("Channel"), options=[(k, v) for k, v in CHANNELS]),
        "created_at",
    )
    column_formatters = {"contact": _contact_cell}
    column_formatters_export = column_formatters
    form_columns = ("status", "reply")

    def base_query(self):
        return (Message.select(Message, Unit, Contact)
                .join(Unit, JOIN.LEFT_OUTER)
                .switch(Message).join(Contact, JOIN.LEFT_OUTER))


HandlingUnit = Unit.alias()


class TicketAdmin(OrgModelView):
    read_roles = COMMISSION_READERS | {HANDLER}
    edit_roles = frozenset()  # tickets move only through the workflow engine
    export_roles = frozenset({OFFICE, LEADER, INSPECTOR, HANDLER})
    # A handling unit sees the tickets it must handle, never who reported them.
    unit_field = Ticket.handling_unit
    prejoined = (Unit,)
    # The stage column arrives with the workflow engine, which knows the stage titles.
    column_list = ("code", "created_at", "source", "unit", "title", "handling_unit",
                   "status", "deadline", "closing_kind", "closed_at")
    column_default_sort = ("created_at", True)
    column_sortable_list = ("code", "created_at", "source", "status", "deadline", "closed_at")
    column_searchable_list = ("code", "title", "content")
    column_filters = (
        FilterEqual(Ticket.unit, _l("Unit concerned"), options=unit_options),
        FilterEqual(Ticket.handling_unit, _l("Handling unit"), options=unit_options),
        FilterEqual(Ticket.source, _l("Source"), options=[(k, v) for k, v in CHANNELS]),
        FilterEqual(Ticket.status, _l("Status"), options=[(k, v) for k, v in TICKET_STATUSES]),
        FilterEqual(Ticket.closing_kind, _l("Closing kind"), options=[(k, v) for k, v in CLOSING_KINDS]),
        "created_at", "deadline",
    )
    column_details_list = ("code", "created_at", "source", "unit", "title", "content", "handling_unit",
                           "status", "deadline", "result", "closing_kind", "outcome", "closed_at")

    def base_query(self):
        return (Ticket.select(Ticket, Unit, HandlingUnit)
                .join_from(Ticket, Unit, JOIN.LEFT_OUTER, on=(Ticket.unit == Unit.id), attr="unit")
                .join_from(Ticket, HandlingUnit, JOIN.LEFT_OUTER,
                           on=(Ticket.handling_unit == HandlingUnit.id), attr="handling_unit"))
