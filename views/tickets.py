"""Messages from the board and the tickets they become."""
import datetime

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_login import current_user
from flask_admin.contrib.peewee.filters import BasePeeweeFilter, FilterEqual
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from peewee import JOIN

from app.roles import HANDLER, INSPECTOR, LEADER, OFFICE
from models import (CHANNELS, CLOSING_KINDS, MESSAGE_KINDS, MESSAGE_STATUSES, TICKET_STATUSES,
                    Contact, Message, Ticket, Unit)
from views import contacts
from views.base import refuse_unseen, request_options
from views.handling import stage_title, ticket_link, warning_badge
from views.org import FilterUnitTree, OrgModelView, unit_options

COMMISSION_READERS = frozenset({OFFICE, LEADER, INSPECTOR})


def _contact_export(view, context, model, name):
    """Who wrote: the name and masked phone for the commission, nothing for anyone else."""
    if not contacts.sees_complainant():
        return ""
    return contacts.masked(model.contact) or _l("Anonymous")


def _contact_cell(view, context, model, name):
    shown = _contact_export(view, context, model, name)
    if not shown or model.contact is None:
        return shown
    return Markup('{} <a href="{}" class="small">{}</a>').format(
        shown, url_for(".reveal_contact", message_id=model.id), _l("Show full contact"))


class FilterInFigures(FilterEqual):
    """The problems the dashboard counts: not on a symposium's list (counted apart), not merged away."""

    def apply(self, query, value):
        counted = Ticket.symposium.is_null() & Ticket.merged_into.is_null()
        return query.where(counted if str(value) == "1" else ~counted)


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
        FilterUnitTree(Message.unit, _l("Unit addressed and those below it"), options=unit_options),
    )
    column_formatters = {"contact": _contact_cell}
    column_formatters_export = {"contact": _contact_export}
    form_columns = ("status", "reply")

    @expose("/<int:message_id>/contact", methods=("GET", "POST"))
    def reveal_contact(self, message_id):
        """The writer's full phone for this one page view, for a reason given and logged."""
        message = self.get_one(message_id)
        if message is None:
            refuse_unseen(Message, message_id)
        if not contacts.sees_complainant():
            abort(403)
        form = contacts.RevealForm()
        revealed, status = False, 200
        if request.method == "POST":
            if not form.validate():
                status = 400
            else:
                try:
                    contacts.reveal(message, message.contact, form)
                    revealed = True
                except ValueError as refused:
                    form.reason.errors, status = [str(refused)], 422
        return self.render("admin/contact_reveal.html", message=message, contact=message.contact,
                           masked=contacts.masked(message.contact), revealed=revealed, form=form), status

    @action("accept", _l("Accept as problem"), _l("Open a ticket for each selected message?"))
    def action_accept(self, ids):
        from app.tickets import open_for_message
        if current_user.role != OFFICE:
            abort(403)
        opened = [open_for_message(m, current_user) for m in self.get_query().where(Message.id.in_(ids))]
        flash(gettext("%(n)d tickets opened: %(codes)s", n=len(opened),
                      codes="、".join(t.code for t in opened)), "success")

    def is_action_allowed(self, name):
        return current_user.role == OFFICE and super().is_action_allowed(name)

    def base_query(self):
        return (Message.select(Message, Unit, Contact)
                .join(Unit, JOIN.LEFT_OUTER)
                .switch(Message).join(Contact, JOIN.LEFT_OUTER))


HandlingUnit = Unit.alias()


@request_options
def workflow_options():
    from app import procedures
    return [(key, procedures.workflow(key).title) for key in procedures.active_versions()]


@request_options
def stage_options():
    from app import procedures
    seen = {}
    for key in procedures.active_versions():
        for stage in procedures.workflow(key).stages.values():
            seen.setdefault(stage.id, stage.title)
    return sorted(seen.items())


class FilterOverdue(BasePeeweeFilter):
    """Open tickets past their stage deadline (or not)."""

    def apply(self, query, value):
        late = (Ticket.status == "open") & (Ticket.due_at < datetime.datetime.now())
        return query.where(late if value == "1" else ~late)

    def operation(self):
        return _l("is")


class TicketAdmin(OrgModelView):
    read_roles = COMMISSION_READERS | {HANDLER}
    edit_roles = frozenset()  # tickets move only through the workflow engine
    export_roles = frozenset({OFFICE, LEADER, INSPECTOR, HANDLER})
    # A handling unit sees the tickets it must handle, never who reported them.
    unit_field = Ticket.handling_unit
    prejoined = (Unit,)
    column_list = ("code", "created_at", "source", "unit", "title", "handling_unit", "stage",
                   "status", "deadline", "alert_level", "closing_kind", "closed_at")
    column_default_sort = ("created_at", True)
    column_sortable_list = ("code", "created_at", "source", "status", "deadline", "closed_at", "alert_level")
    column_searchable_list = ("code", "title", "content")
    column_formatters = {"code": ticket_link, "stage": stage_title, "alert_level": warning_badge}
    column_formatters_export = {"stage": stage_title}
    column_filters = (
        FilterEqual(Ticket.workflow, _l("Workflow"), options=workflow_options),
        FilterEqual(Ticket.stage, _l("Stage"), options=stage_options),
        FilterOverdue(Ticket.due_at, _l("Overdue"), options=[("1", _l("Yes")), ("0", _l("No"))]),
        FilterEqual(Ticket.unit, _l("Unit concerned"), options=unit_options),
        FilterEqual(Ticket.handling_unit, _l("Handling unit"), options=unit_options),
        FilterEqual(Ticket.source, _l("Source"), options=[(k, v) for k, v in CHANNELS]),
        FilterEqual(Ticket.status, _l("Status"), options=[(k, v) for k, v in TICKET_STATUSES]),
        FilterEqual(Ticket.closing_kind, _l("Closing kind"), options=[(k, v) for k, v in CLOSING_KINDS]),
        "created_at", "deadline", "closed_at",
        FilterUnitTree(Ticket.handling_unit, _l("Handling unit and those below it"), options=unit_options),
        FilterInFigures(Ticket.symposium, _l("Counted in the figures"), options=[("1", _l("Yes")), ("0", _l("No"))]),
    )

    @expose("/details/")
    def details_view(self):
        # The ticket page (facts, timeline, actions) replaces Flask-Admin's details.
        ticket = self.get_one(request.args.get("id", ""))
        if ticket is None:
            refuse_unseen(Ticket, request.args.get("id", ""))  # another unit's ticket is one that does not exist
        return redirect(url_for("handle.show", ticket_id=ticket.id))

    def scope(self, query):
        # A handler also sees the tickets its unit co-handles (协办).
        from app.roles import UNIT_BOUND
        from models import CoHandling
        from views.base import own_unit_ids, user_role
        from app.tickets import not_about
        if not_about(current_user) is not None:
            query = query.where(not_about(current_user))
        if user_role() in UNIT_BOUND:
            units = list(own_unit_ids()) or [0]
            co = CoHandling.select(CoHandling.ticket).where(CoHandling.unit.in_(units), CoHandling.active)
            return query.where(Ticket.handling_unit.in_(units) | Ticket.id.in_(co))
        return query

    def base_query(self):
        return (Ticket.select(Ticket, Unit, HandlingUnit)
                .join_from(Ticket, Unit, JOIN.LEFT_OUTER, on=(Ticket.unit == Unit.id), attr="unit")
                .join_from(Ticket, HandlingUnit, JOIN.LEFT_OUTER,
                           on=(Ticket.handling_unit == HandlingUnit.id), attr="handling_unit"))
