"""The admin home: the article's headline figures for what the officer may see."""
from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from peewee import fn

from app import scales
from app.roles import COMMISSION, UNIT_BOUND, AUDITOR, BUREAU, role_label
from models import UNIT_KINDS, Evaluation, Message, Staff, Ticket, Unit, Window
from views.base import own_unit_ids

# Roles that read the county's rating and problem figures.
FIGURE_READERS = COMMISSION | {BUREAU, AUDITOR} | UNIT_BOUND


def headline_figures(unit_ids=None):
    """Evaluations and suggestions collected, problems accepted and solved, satisfaction."""
    evaluations = Evaluation.select()
    messages = Message.select()
    # Problems raised by the public; a symposium's list is reported beside them, as the article does.
    tickets = Ticket.select().where(Ticket.symposium.is_null())
    if unit_ids is not None:
        evaluations = evaluations.where(Evaluation.unit.in_(unit_ids))
        messages = messages.where(Message.unit.in_(unit_ids))
        tickets = tickets.where(Ticket.handling_unit.in_(unit_ids))
    # By grade, so that a county's figures mean the same on the three- and the five-level scale.
    grades = scales.grade_counts(dict(evaluations.select(Evaluation.level, fn.COUNT(Evaluation.id))
                                      .group_by(Evaluation.level).tuples()))
    closing = dict(tickets.select(Ticket.closing_kind, fn.COUNT(Ticket.id))
                   .where(Ticket.status == "closed").group_by(Ticket.closing_kind).tuples())
    n_evaluations = sum(grades.values())
    n_messages = messages.count()
    n_tickets = tickets.count()
    return {
        "collected": n_evaluations + n_messages,
        "evaluations": n_evaluations,
        "messages": n_messages,
        "good": grades[scales.GOOD],
        "neutral": grades[scales.NEUTRAL],
        "bad": grades[scales.BAD],
        "satisfaction_rate": (grades[scales.GOOD] / n_evaluations) if n_evaluations else None,
        "accepted": n_tickets,
        "solved": closing.get("solved", 0),
        "explained": closing.get("explained", 0),
        "open": n_tickets - sum(closing.values()),
        "symposia": symposium_figures(unit_ids),
    }


def symposium_figures(unit_ids=None):
    from app.symposia import tally
    query = (Ticket.select(Ticket.status, Ticket.closing_kind, fn.COUNT(Ticket.id))
             .where(Ticket.symposium.is_null(False)))
    if unit_ids is not None:
        query = query.where(Ticket.handling_unit.in_(unit_ids))
    return tally(query.group_by(Ticket.status, Ticket.closing_kind).tuples())


def organisation_figures(unit_ids=None):
    units = Unit.select(Unit.kind, fn.COUNT(Unit.id)).where(Unit.active)
    windows = Window.select().where(Window.active)
    staff = Staff.select().where(Staff.active)
    if unit_ids is not None:
        units = units.where(Unit.id.in_(unit_ids))
        windows = windows.where(Window.unit.in_(unit_ids))
        staff = staff.where(Staff.unit.in_(unit_ids))
    by_kind = dict(units.group_by(Unit.kind).tuples())
    return {"kinds": [(label, by_kind.get(kind, 0)) for kind, label in UNIT_KINDS if by_kind.get(kind)],
            "windows": windows.count(), "staff": staff.count()}


class HomeView(AdminIndexView):
    @expose("/")
    def index(self):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        unit_ids = own_unit_ids() if current_user.role in UNIT_BOUND else None
        figures = headline_figures(unit_ids) if current_user.role in FIGURE_READERS else None
        return self.render("admin/home.html", figures=figures, org=organisation_figures(unit_ids),
                           role=role_label(current_user.role),
                           scope_unit=current_user.unit if unit_ids is not None else None)
