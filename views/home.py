"""The admin home: the article's headline figures for what the officer may see."""
import datetime

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import gettext as _
from flask_login import current_user
from peewee import fn

from app import dashboard
from app.figures import headline as figures_for
from app.left_out import leaving_out as figures_leaving_out
from app.periods import month_before, month_bounds
from app.roles import AUDITOR, BUREAU, COMMISSION, LEADER, NO_ROLE, OFFICE, SECADMIN, SYSADMIN, UNIT_BOUND, role_label
from models import UNIT_KINDS, AccountRequest, Evaluation, Message, Staff, Ticket, Unit, Window
from views.base import list_url, own_unit_ids, period_filter, read_period
from views.input_guard import row_id

# Roles that read the county's rating and problem figures.
FIGURE_READERS = COMMISSION | {BUREAU, AUDITOR} | UNIT_BOUND


def headline_figures(unit_ids=None, start=None, end=None):
    """Evaluations and suggestions collected, problems accepted and solved, satisfaction."""
    figures = figures_for(start, end, unit_ids)
    figures["symposia"] = symposium_figures(unit_ids)
    return figures


def symposium_figures(unit_ids=None):
    from app.symposia import tally
    query = (Ticket.select(Ticket.status, Ticket.closing_kind, fn.COUNT(Ticket.id))
             .where(Ticket.symposium > 0))  # not IS NOT NULL, which SQLite answers by reading every ticket
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


def period_choices(today):
    """Quick periods: (label, first day, last day), as an officer would type them."""
    month_start = today.replace(day=1)
    last_month, _end = month_bounds(*month_before(today.year, today.month))
    year_ago = month_bounds(*month_before(today.year - 1, today.month))[1]
    return [(_("All"), None, None), (_("This month"), month_start, None),
            (_("Last month"), last_month, month_start - datetime.timedelta(days=1)),
            (_("This year"), today.replace(month=1, day=1), None), (_("Last 12 months"), year_ago, None)]


RANKED_SHOWN = 10  # per ranking on the dashboard; the monthly report and publication list them all


def figure_links(first, last, unit_id):
    """The list behind each figure, filtered to the period and unit shown (with the units under it)."""
    from flask_admin.contrib.peewee.filters import FilterEqual

    from views.evaluations import FilterGrade
    from views.org import FilterUnitTree
    from views.tickets import FilterInFigures, FilterOverdue
    today = datetime.date.today()
    rated = period_filter(Evaluation.created_at, first, last, today)
    accepted = period_filter(Ticket.created_at, first, last, today)
    closed = period_filter(Ticket.closed_at, first, last, today)
    rating_unit = (Evaluation.unit, FilterUnitTree, unit_id) if unit_id else None
    handling_unit = (Ticket.handling_unit, FilterUnitTree, unit_id) if unit_id else None
    counted = (Ticket.symposium, FilterInFigures, "1")
    links = {"evaluations": list_url("evaluation", rated, rating_unit),
             "messages": list_url("message", period_filter(Message.created_at, first, last, today),
                                  (Message.unit, FilterUnitTree, unit_id) if unit_id else None),
             "bad": list_url("evaluation", (Evaluation.level, FilterGrade, "bad"), rated, rating_unit),
             "accepted": list_url("ticket", counted, accepted, handling_unit),
             "solved": list_url("ticket", counted, (Ticket.closing_kind, FilterEqual, "solved"), closed,
                                handling_unit),
             "explained": list_url("ticket", counted, (Ticket.closing_kind, FilterEqual, "explained"), closed,
                                   handling_unit),
             "open": list_url("ticket", counted, (Ticket.status, FilterEqual, "open"), handling_unit),
             "overdue": list_url("ticket", (Ticket.due_at, FilterOverdue, "1"), handling_unit)}
    for by, column in (("unit", Evaluation.unit), ("window", Evaluation.window), ("staff", Evaluation.staff)):
        links[by] = _ranked_link(column, rated)
    return links


def _ranked_link(column, rated):
    """id -> the list of its ratings: the URL built once per ranking, the id put in (45 links a page)."""
    from flask_admin.contrib.peewee.filters import FilterEqual
    pattern = list_url("evaluation", (column, FilterEqual, "ZTCID"), rated)
    return lambda key: pattern.replace("ZTCID", str(int(key)))


def approvals_waiting(user):
    """The account requests a leader may decide now (not those about his own account)."""
    if user.role != LEADER:
        return 0
    from app.account_requests import pending
    return pending().where(AccountRequest.user != user.id).count()


def backup_status():
    """The last backup for the two administrators: when, how long ago, where, and whether it is overdue."""
    from app import backup_schedule
    state = backup_schedule.status()
    if state["age"] is not None:
        minutes = int(state["age"].total_seconds() // 60)
        state["age_text"] = (_("%(n)d minutes ago", n=minutes) if minutes < 60 else
                             _("%(n)d hours ago", n=minutes // 60) if minutes < 48 * 60 else
                             _("%(n)d days ago", n=minutes // (24 * 60)))
    return state


def calendar_notice_missing(user):
    """From 1 November, for the office: next year, when its holiday notice is not in the calendar yet."""
    if user.role != OFFICE:
        return None
    from app import calendar_edits
    return calendar_edits.missing_notice_year()


class HomeView(AdminIndexView):
    @expose("/")
    def index(self):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        unit_ids = own_unit_ids() if current_user.role in UNIT_BOUND else None
        org = organisation_figures(unit_ids)
        context = dict(org=org, role=role_label(current_user.role), figures=None, error=None,
                       scope_unit=current_user.unit if unit_ids is not None else None,
                       no_role=current_user.role == NO_ROLE, approvals=approvals_waiting(current_user),
                       backup=backup_status() if current_user.role in (SYSADMIN, SECADMIN) else None,
                       notice_missing=calendar_notice_missing(current_user))
        if current_user.role not in FIGURE_READERS:
            return self.render("admin/home.html", **context)
        try:
            start, last = read_period(request.args)
        except ValueError as exc:
            return self.render("admin/home.html", **dict(context, error=str(exc))), 422
        end = last + datetime.timedelta(days=1) if last else None  # the figures take [start, end)
        unit_id = request.args.get("unit", type=row_id)
        if unit_id:  # one unit (and those under it), within what the officer may see
            chosen = set(Unit.subtree_ids(unit_id))
            unit_ids = chosen if unit_ids is None else chosen & set(unit_ids)
        units = Unit.select(Unit.id, Unit.name).where(Unit.active).order_by(Unit.kind, Unit.code)
        if current_user.role in UNIT_BOUND:
            units = units.where(Unit.id.in_(own_unit_ids()))
        # An officer on the roster reads his unit's figures without what was said about him.
        with figures_leaving_out(current_user.staff_id):
            figures = headline_figures(unit_ids, start, end)
            context.update(
                figures=figures, start=start, last=last, unit_id=unit_id, units=list(units),
                links=figure_links(start, last, unit_id),
                periods=period_choices(datetime.date.today()),
                national=dashboard.national(start, end, unit_ids, figures),
                active=dashboard.active_rating_rate(start, end, unit_ids),
                on_time=dashboard.on_time_rate(start, end, unit_ids, figures), overdue=dashboard.overdue_now(unit_ids),
                by_unit=dashboard.rankings(start, end, unit_ids, "unit", top=RANKED_SHOWN),
                by_window=dashboard.rankings(start, end, unit_ids, "window", top=RANKED_SHOWN),
                by_staff=dashboard.rankings(start, end, unit_ids, "staff", top=RANKED_SHOWN),
                trend=dashboard.monthly_trend(start, end, unit_ids),
                weekly=dashboard.weekly_trend(start, end, unit_ids), channels=dashboard.channels(start, end, unit_ids),
                reasons=dashboard.reasons(start, end, unit_ids), min_sample=dashboard.MIN_SAMPLE)
        return self.render("admin/home.html", **context)
