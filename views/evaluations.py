"""Citizens' evaluations: read-only grid with filters, search and Excel export."""
import functools
import operator
from collections import defaultdict

from flask import abort, flash, url_for
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import (DateTimeBetweenFilter, DateTimeEqualFilter, DateTimeGreaterFilter,
                                                DateTimeSmallerFilter, FilterEqual)
from flask_admin.contrib.peewee.tools import parse_like_term
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from peewee import JOIN

from app import paging, scales
from app.periods import FIRST_DAY, LAST_DAY
from app.roles import BUREAU, HANDLER, INSPECTOR, LEADER, OFFICE, UNIT_BOUND
from app.tallies import LEVEL_COLUMNS
from models import CHANNELS, LEVELS, Evaluation, EvaluationReason, Reason, Staff, Unit, Window
from views.base import own_unit_ids, request_options, user_role
from views.org import FilterUnitTree, OrgModelView, unit_options, window_options


@request_options
def staff_options():
    query = Staff.select(Staff.id, Staff.name, Staff.number).order_by(Staff.number)
    if user_role() in UNIT_BOUND:
        query = query.where(Staff.unit.in_(own_unit_ids()))
    if accused_staff_id():
        query = query.where(Staff.id != accused_staff_id())
    # As tuples: a province's thousands of officers are in every page's filter menu.
    return [(str(i), f"{name}（{number}）") for i, name, number in query.tuples()]  # as Staff.__str__


class FilterGrade(FilterEqual):
    """好评 / 中评 / 差评 whatever the scale: the grade's levels of both scales."""

    def levels(self, value):
        return [level for level, grade in scales.GRADE_OF.items() if grade == value]

    def apply(self, query, value):
        return query.where(Evaluation.level.in_(self.levels(value)))


def accused_staff_id():
    """The roster officer the logged-in account is: ratings of him never reach it (v21), or None."""
    return getattr(current_user, "staff_id", None) if current_user.is_authenticated else None


def about_someone_else(query, staff_id):
    """`query` of evaluations less those of the officer `staff_id` (None: all of them)."""
    if not staff_id:
        return query
    return query.where(Evaluation.staff.is_null() | (Evaluation.staff != staff_id))


def appeal_link(view, context, model, name):
    """A unit handler may appeal a rating of its own unit (误评/恶意差评)."""
    if current_user.role != HANDLER or scales.GRADE_OF[model.level] == scales.GOOD or model.excluded:
        return ""
    return Markup('<a href="{}">{}</a>').format(url_for("handle.appeal", evaluation_id=model.id), _l("Appeal this rating"))


class EvaluationAdmin(OrgModelView):
    read_roles = frozenset({OFFICE, LEADER, INSPECTOR, BUREAU, HANDLER})
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
        FilterUnitTree(Evaluation.unit, _l("Unit and those below it"), options=unit_options),
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

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Flask-Admin's list, counted and paged without stepping through the rows before the page (app.paging)."""
        if page_size is None:
            page_size = self.page_size
        field, desc = self._list_order(sort_column, sort_desc)
        narrow = functools.partial(self._narrow, search=search, filters=filters)
        offset = (page or 0) * page_size if page_size else 0
        tallied = self._tallied(search, filters)
        timeline = None
        if tallied is not None and (offset or not self.simple_list_pager):
            timeline = paging.Timeline(narrow, **tallied)
            if timeline.total < paging.EXACT_BELOW:
                timeline = None
        count = None
        if not self.simple_list_pager:
            count = timeline.total if timeline else paging.count(narrow)
        if not execute or not page_size:
            query = narrow(self.base_query()).order_by(*paging.ordering(field, desc))
            if page_size:
                query = query.limit(page_size).offset(offset)
            if not execute:
                return count, query
            rows = list(query)
        elif timeline and field is Evaluation.created_at:
            rows = self._rows(timeline.page_ids(offset, page_size, desc))
        else:
            rows = self._rows(paging.page_ids(narrow, field, desc, offset, page_size, count))
        attach_reasons(rows)
        return count, rows

    def _list_order(self, sort_column, sort_desc):
        name, desc = ((self._sortable_columns[sort_column], sort_desc) if sort_column is not None
                      else self._get_default_order()[0])
        return (getattr(Evaluation, name) if isinstance(name, str) else name), bool(desc)

    def scope(self, query):
        # The officer a rating is about never reads it, on any list, page or export of his account.
        return about_someone_else(super().scope(query), accused_staff_id())

    def _narrow(self, query, search=None, filters=None):
        """The conditions of Flask-Admin's get_list, on any query of evaluations: scope, search, filters."""
        query = self.scope(query)
        joins = set()
        if self._search_supported and search:
            for word in search.split(" "):
                if word:
                    term = parse_like_term(word)
                    for field in self._search_fields:
                        query = self._handle_join(query, field, joins)
                    query = query.where(functools.reduce(operator.or_, (f ** term for f in self._search_fields)))
        for index, _name, value in filters or ():
            flt = self._filters[index]
            query = self._handle_join(query, flt.column, joins)
            query = flt.apply(query, flt.clean(value))
        return query

    def _tallied(self, search, filters):
        """What the rating tallies can answer of the list (paging.Timeline's arguments), or None."""
        if search or accused_staff_id():  # the tallies count every officer's ratings
            return None
        units = set(own_unit_ids()) if user_role() in UNIT_BOUND else None
        levels, first, last = set(LEVEL_COLUMNS), None, None
        for index, _name, value in filters or ():
            flt = self._filters[index]
            value, kind = flt.clean(value), type(flt)
            if kind is FilterEqual and flt.column is Evaluation.unit and str(value).isdigit():
                units = {int(value)} if units is None else units & {int(value)}
            elif kind is FilterUnitTree:
                tree = Unit.subtree_ids(value)
                units = tree if units is None else units & tree
            elif kind is FilterEqual and flt.column is Evaluation.level:
                levels &= {value}
            elif kind is FilterGrade:
                levels &= set(flt.levels(value))
            elif kind in (DateTimeGreaterFilter, DateTimeSmallerFilter, DateTimeEqualFilter, DateTimeBetweenFilter):
                start, end = value if kind is DateTimeBetweenFilter else (value, value)
                if kind is not DateTimeSmallerFilter:
                    first = start.date() if first is None else max(first, start.date())
                if kind is not DateTimeGreaterFilter:
                    last = end.date() if last is None else min(last, end.date())
            else:
                return None
        if any(day is not None and not FIRST_DAY <= day <= LAST_DAY for day in (first, last)):
            return None  # beyond the calendar (9999-12-31 has no next day): counted from the rows themselves
        return {"units": units, "levels": levels, "first_day": first, "last_day": last}

    def _rows(self, ids):
        """The page's evaluations with their unit, window and officer, in the order of `ids`."""
        if not ids:
            return []
        rows = {e.id: e for e in self.get_query().where(Evaluation.id.in_(ids))}
        return [rows[i] for i in ids if i in rows]

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
