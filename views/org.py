"""The county's organisation: units (as a tree), windows, staff, the reason tags of ratings."""
from collections import defaultdict

from flask import abort
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN, Case, fn
from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.roles import (AUDITOR, BUREAU, INSPECTOR, LEADER, OFFICE, ROLE_IDS, SYSADMIN,
                       UNIT_BOUND)
from models import LEVELS, UNIT_KINDS, Reason, Staff, Unit, Window, db
from views.base import SecureBaseView, SecureModelView, own_unit_ids, request_options, user_role
from views.validators import NoControl, NotBlank, Unique, strip

ORG_EDITORS = frozenset({SYSADMIN, OFFICE, BUREAU})
EVERYONE = frozenset(ROLE_IDS)


def units_hall_first():
    """Units, the hall's first: the order an officer looks for them in a select."""
    return (Unit.select()
            .order_by(Case(Unit.kind, (("hall", 0), ("law_enforcement", 1), ("township", 2)), 3), Unit.code))


@request_options
def unit_options():
    query = units_hall_first()
    if user_role() in UNIT_BOUND:
        query = query.where(Unit.id.in_(own_unit_ids()))
    return [(str(u.id), u.name) for u in query]


@request_options
def parent_options():
    parents = Unit.select(Unit.id, Unit.name).where(
        Unit.id.in_(Unit.select(Unit.parent).where(Unit.parent.is_null(False))))
    return [(str(u.id), u.name) for u in parents.order_by(Unit.code)]


@request_options
def window_options():
    query = Window.select(Window.id, Window.number, Window.name).order_by(Window.number)
    if user_role() in UNIT_BOUND:
        query = query.where(Window.unit.in_(own_unit_ids()))
    return [(str(w.id), str(w)) for w in query]


class FilterUnitTree(FilterEqual):
    """A unit and the units below it (a township and its village stations), as the dashboard counts them."""

    def clean(self, value):
        return int(value) if str(value).isdigit() else 0

    def apply(self, query, value):
        return query.where(self.column.in_(list(Unit.subtree_ids(value))))


class OrgModelView(SecureModelView):
    read_roles = EVERYONE
    edit_roles = ORG_EDITORS
    export_roles = EVERYONE
    # Joined models already in base_query: Flask-Admin must not join them a second time.
    prejoined = ()

    # Choices offered in a form's select, in the order an officer looks for them.
    form_queries = {}

    def _handle_join(self, query, field, joins):
        if getattr(field, "model", None) in self.prejoined:
            return query
        return super()._handle_join(query, field, joins)

    def _ordered_choices(self, form):
        for name, make_query in self.form_queries.items():
            getattr(form, name).query = make_query()
        return form

    def create_form(self, obj=None):
        return self._ordered_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._ordered_choices(super().edit_form(obj))


Parent = Unit.alias()


class UnitAdmin(OrgModelView):
    unit_field = Unit.id
    column_list = ("code", "name", "kind", "parent", "active")
    column_default_sort = ("code", False)
    column_sortable_list = ("code", "name", "kind", "active")
    column_searchable_list = ("name", "code")
    column_filters = (
        FilterEqual(Unit.kind, _l("Kind"), options=[(k, v) for k, v in UNIT_KINDS]),
        FilterEqual(Unit.parent, _l("Parent unit"), options=parent_options),
        FilterEqual(Unit.active, _l("Active"), options=[("1", _l("Yes")), ("0", _l("No"))]),
    )
    form_columns = ("code", "name", "kind", "parent", "active")
    form_args = {
        "code": {"validators": [NotBlank(), Unique(Unit.code, _l("Unit code %(value)s is already used."))],
                 "filters": [strip]},
        "name": {"validators": [NotBlank()], "filters": [strip]},
    }

    def base_query(self):
        return (Unit.select(Unit, Parent)
                .join_from(Unit, Parent, JOIN.LEFT_OUTER, on=(Unit.parent == Parent.id), attr="parent"))

    def on_model_change(self, form, model, is_created):
        parent = model.parent
        if parent is None:
            if model.kind == "village":
                raise ValidationError(_("A village service station must belong to a township."))
            return
        if model.id is not None and parent.id in Unit.subtree_ids(model.id):
            raise ValidationError(_("A unit cannot be placed under itself or under a unit below it."))
        if model.kind == "village" and parent.kind != "township":
            raise ValidationError(_("A village service station must belong to a township."))


class TokenRotation:
    """Action: replace the public token after a badge is lost; the old QR code stops at once."""

    @action("rotate_token", _l("Replace the QR code"),
            _l("The old QR codes of the selected rows will stop working at once. Continue?"))
    def action_rotate_token(self, ids):
        from flask import flash, request
        from flask_login import current_user
        from models import AuditLog, new_token
        if not self.can_edit:
            abort(403)
        rows = list(self.get_query().where(self.model.id.in_(ids)))
        with db.atomic():
            for row in rows:
                self.model.update(token=new_token()).where(self.model.id == row.id).execute()
                AuditLog.record("rotate_token", current_user, row, ip=request.remote_addr)
        flash(_("%(n)d QR codes replaced; print the new ones from 二维码.", n=len(rows)), "success")

    def is_action_allowed(self, name):
        return self.can_edit and super().is_action_allowed(name)


class WindowAdmin(TokenRotation, OrgModelView):
    unit_field = Window.unit
    prejoined = (Unit,)
    column_list = ("number", "name", "unit", "services", "active")
    column_default_sort = ("number", False)
    column_sortable_list = ("number", "name", "active")
    column_searchable_list = ("number", "name", "services")
    column_filters = (
        FilterEqual(Window.unit, _l("Unit"), options=unit_options),
        FilterEqual(Window.active, _l("Active"), options=[("1", _l("Yes")), ("0", _l("No"))]),
    )
    form_columns = ("unit", "number", "name", "services", "active")
    form_args = {
        "number": {"validators": [NotBlank(), NoControl(),
                              Unique(Window.number, _l("Window number %(value)s is already used in the hall."))],
                   "filters": [strip]},
        "name": {"validators": [NotBlank()], "filters": [strip]},
    }
    form_queries = {"unit": lambda: units_hall_first().where(Unit.active)}

    def base_query(self):
        return Window.select(Window, Unit).join(Unit)


class StaffAdmin(TokenRotation, OrgModelView):
    unit_field = Staff.unit
    prejoined = (Unit, Window)
    column_list = ("number", "name", "unit", "window", "position", "active")
    column_default_sort = ("number", False)
    column_sortable_list = ("number", "name", "position", "active")
    column_searchable_list = ("number", "name", "position")
    column_filters = (
        FilterEqual(Staff.unit, _l("Unit"), options=unit_options),
        FilterEqual(Staff.window, _l("Window"), options=window_options),
        FilterEqual(Staff.active, _l("Active"), options=[("1", _l("Yes")), ("0", _l("No"))]),
    )
    form_columns = ("name", "number", "unit", "window", "position", "active")
    form_args = {
        "number": {"validators": [NotBlank(), NoControl(),
                              Unique(Staff.number, _l("Staff number %(value)s is already used."))],
                   "filters": [strip]},
        "name": {"validators": [NotBlank()], "filters": [strip]},
    }
    form_queries = {"unit": lambda: units_hall_first().where(Unit.active),
                    "window": lambda: Window.select().where(Window.active).order_by(Window.number)}

    def base_query(self):
        return (Staff.select(Staff, Unit, Window).join(Unit)
                .switch(Staff).join(Window, JOIN.LEFT_OUTER))

    def on_model_change(self, form, model, is_created):
        if model.window is not None and model.window.unit_id != model.unit_id:
            raise ValidationError(_(
                "Window %(window)s belongs to %(unit)s, not to the unit chosen for this person.",
                window=model.window.number, unit=model.window.unit.name))


class LevelSetField(SelectMultipleField):
    """The levels a reason tag is offered with, as ticks; stored comma-separated on the row."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_data(self, value):
        self.data = [v for v in (value or "").split(",") if v] if isinstance(value, str) else value

    def populate_obj(self, obj, name):
        setattr(obj, name, ",".join(level for level, _label in LEVELS if level in (self.data or [])))


class ReasonAdmin(OrgModelView):
    read_roles = frozenset({OFFICE, LEADER, INSPECTOR, BUREAU, AUDITOR})
    edit_roles = frozenset({OFFICE, BUREAU})
    export_roles = frozenset()
    column_list = ("title", "levels", "sort_order", "active")
    column_default_sort = ("sort_order", False)
    column_editable_list = ("sort_order", "active")
    form_columns = ("title", "levels", "sort_order", "active")
    form_overrides = {"levels": LevelSetField}
    form_args = {
        "title": {"validators": [NotBlank(), Unique(Reason.title, _l("The reason %(value)s already exists."))],
                  "filters": [strip]},
        "levels": {"choices": list(LEVELS), "default": ["dissatisfied", "very_dissatisfied"], "description": _l(
            "Three-level scale: tags are offered with 不满意 only. Five-level scale: with each level ticked.")},
    }
    column_formatters = {"levels": lambda v, c, m, n: "、".join(
        str(dict(LEVELS)[level]) for level, _label in LEVELS if level in m.level_set)}

    def on_model_change(self, form, model, is_created):
        # Here, not on the field: the converter's Optional() would clear a field's own error.
        if not model.level_set:
            raise ValidationError(_("Choose at least one level this reason is offered with."))


class UnitTreeView(SecureBaseView):
    """Units as the county sees them: each township with its village stations below it."""
    read_roles = EVERYONE

    @expose("/")
    def index(self):
        units = Unit.select().order_by(Unit.code)
        if user_role() in UNIT_BOUND:
            units = units.where(Unit.id.in_(own_unit_ids()))
        units = list(units)
        ids = {u.id for u in units}
        children = defaultdict(list)
        for u in units:
            children[u.parent_id if u.parent_id in ids else None].append(u)
        windows = dict(Window.select(Window.unit, fn.COUNT(Window.id)).where(Window.active)
                       .group_by(Window.unit).tuples())
        staff = dict(Staff.select(Staff.unit, fn.COUNT(Staff.id)).where(Staff.active)
                     .group_by(Staff.unit).tuples())
        kinds = dict(UNIT_KINDS)
        groups = defaultdict(list)
        for u in children[None]:
            groups[u.kind].append(u)
        return self.render("admin/unit_tree.html", groups=groups, kinds=kinds, kind_order=[k for k, _ in UNIT_KINDS],
                           children=children, windows=windows, staff=staff)
