"""The admin home: the article's headline figures for what the officer may see."""
from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from peewee import fn

from app.figures import headline as figures_for
from app.roles import COMMISSION, UNIT_BOUND, AUDITOR, BUREAU, role_label
from models import UNIT_KINDS, Staff, Ticket, Unit, Window
from views.base import own_unit_ids

# Roles that read the county's rating and problem figures.
FIGURE_READERS = COMMISSION | {BUREAU, AUDITOR} | UNIT_BOUND


def headline_figures(unit_ids=None):
    """Evaluations and suggestions collected, problems accepted and solved, satisfaction."""
    figures = figures_for(unit_ids=unit_ids)
    figures["symposia"] = symposium_figures(unit_ids)
    return figures


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
