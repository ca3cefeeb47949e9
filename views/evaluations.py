"""Citizens' evaluations: read-only grid with filters, search and Excel export."""
from collections import defaultdict

from flask import abort, flash, url_for
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from peewee import JOIN

from app import scales
from app.roles import AUDITOR, BUREAU, HANDLER, INSPECTOR, LEADER, OFFICE, UNIT_BOUND
from models import CHANNELS, LEVELS, Evaluation, EvaluationReason, Reason, Staff, Unit, Window
from views.base import own_unit_ids, request_options, user_role
from views.org import OrgModelView, unit_options, window_options


@request_options
def staff_options():
    query = Staff.select(Staff.id, Staff.name, Staff.number).order_by(Staff.number)
    if user_role() in UNIT_BOUND:
        query = query.where(Staff.unit.in_(own_unit_ids()))
    return [(str(s.id), str(s)) for s in query]


class FilterGrade(FilterEqual):
    """好评 / 中评 / 差评 whatever the scale: the grade's levels of both scales."""

    def apply(self, query, value):
        return query.where(Evaluation.level.in_([l for l, g in scales.GRADE_OF.items() if g == value]))


def appeal_link(view, context, model, name):
    """A unit handler may appeal a rating of its own unit (误评/恶意差评)."""
    if current_user.role != HANDLER or scales.GRADE_OF[model.level] == scales.GOOD or model.excluded:
        return ""
    return Markup('<a href="{}">{}</a>').format(url_for("handle.appeal", evaluation_id=model.id), _l("Appeal this rating"))


class EvaluationAdmin(OrgModelView):
    read_roles = frozenset({OFFICE, LEADER, INSPECTOR, BUREAU, AUDITOR, HANDLER})
    edit_roles = frozenset()  # ratings are evidence: nobody edits them
    export_roles = frozenset({OFFICE, LEADER, INSPECTOR, BUREAU, HANDLER})
    unit_field = Evaluation.unit
    prejoined = (Unit, Window, Staff)
    column_list = ("created_at", "unit", "window", "staff", "level", "reasons", "comment", "channel",
                   "case_number", "excluded", "appeal")
    column_labels = {"reasons": _l("Reasons"), "appeal": _l("Rating appeal")}
    column_export_exclude_list = ("appeal",)
    column_default_sort = ("created_at", True)
    column_sortable_list = ("created_at", "level", "channel")
    column_searchable_list = ("comment",)
    column_filters = (
        FilterEqual(Evaluation.unit, _l("Unit"), options=unit_options),
        FilterEqual(Evaluation.window, _l("Window"), options=window_options),
        FilterEqual(Evaluation.staff, _l("Staff"), options=staff_options),
        FilterEqual(Evaluation.level, _l("Rating"), options=[(k, v) for k, v in LEVELS]),
        FilterGrade(Evaluation.level, _l("Grade"), options=list(scales.GRADE_LABELS.items())),
        FilterEqual(Evaluation.channel, _l("Channel"), options=[(k, v) for k, v in CHANNELS]),
        "created_at",
    )
    column_formatters = {"reasons": lambda v, c, m, n: "、".join(getattr(m, "reason_titles", ())),
                         "appeal": appeal_link}
    column_formatters_export = {"reasons": column_formatters["reasons"]}
    column_details_list = column_list

    @action("open_ticket", _l("Open a ticket"), _l("Open a ticket for each selected evaluation, as the rules say?"))
    def action_open_ticket(self, ids):
        from app.tickets import open_for_evaluation
        if current_user.role != OFFICE:
            abort(403)
        opened = [t for t in (open_for_evaluation(e, current_user)
                              for e in self.get_query().where(Evaluation.id.in_(ids))) if t]
        flash(gettext("%(n)d tickets opened: %(codes)s", n=len(opened),
                      codes="、".join(t.code for t in opened) or "—"), "success")

    def is_action_allowed(self, name):
        return current_user.role == OFFICE and super().is_action_allowed(name)

    def base_query(self):
        return (Evaluation.select(Evaluation, Unit, Window, Staff)
                .join(Unit)
                .switch(Evaluation).join(Window, JOIN.LEFT_OUTER)
                .switch(Evaluation).join(Staff, JOIN.LEFT_OUTER))

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if kwargs.get("execute", True):
            attach_reasons(rows)
        return count, rows

    def get_one(self, id):
        row = super().get_one(id)
        if row is not None:
            attach_reasons([row])
        return row


def attach_reasons(evaluations):
    """Give each evaluation its reason titles with one query for the whole page."""
    by_id = {e.id: e for e in evaluations}
    titles = defaultdict(list)
    ids = list(by_id)
    for start in range(0, len(ids), 500):  # an export may hold more ids than one IN () takes
        links = (EvaluationReason.select(EvaluationReason.evaluation, Reason.title)
                 .join(Reason).where(EvaluationReason.evaluation.in_(ids[start:start + 500]))
                 .order_by(Reason.sort_order).tuples())
        for evaluation_id, title in links:
            titles[evaluation_id].append(title)
    for e in evaluations:
        e.reason_titles = titles[e.id]
