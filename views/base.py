"""The secure base of every admin view: role check, unit scoping, Chinese refusals."""
import datetime
import functools
import json
import re

from flask import abort, flash, g, has_request_context, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.contrib.peewee import ModelView
from flask_babel import gettext as _
from flask_login import current_user
from peewee import AutoField, ForeignKeyField, IntegrityError
from wtforms.validators import ValidationError

from app.periods import FIRST_DAY, LAST_DAY
from app.roles import UNIT_BOUND
from app.spreadsheet import safe_cell
from models import AuditLog, Unit, db, mask_phone, mask_url


def read_period(args):
    """(first day, last day) an officer typed as start and end, either empty; ValueError in Chinese."""
    try:
        first = datetime.date.fromisoformat(args["start"]) if args.get("start") else None
        last = datetime.date.fromisoformat(args["end"]) if args.get("end") else None
    except ValueError:
        raise ValueError(_("Dates are written as 2026-10-31.")) from None
    if any(day is not None and not FIRST_DAY <= day <= LAST_DAY for day in (first, last)):
        raise ValueError(_("Dates lie between %(first)s and %(last)s.", first=FIRST_DAY, last=LAST_DAY))
    if first and last and first > last:
        raise ValueError(_("The period ends before it starts."))
    return first, last


def user_role():
    if not has_request_context() or not current_user.is_authenticated:
        return None
    return current_user.role


def request_options(func):
    """Filter options read per request: Flask-Admin would otherwise read them once at start."""
    @functools.wraps(func)
    def options():
        return func() if has_request_context() else []
    return options


def own_unit_ids():
    """The units a unit-bound officer acts for: its own and those below it (once per request)."""
    if current_user.unit_id is None:
        return set()
    if "own_unit_ids" not in g:  # a list page asks for it for rows, count and every filter
        g.own_unit_ids = frozenset(Unit.subtree_ids(current_user.unit_id))
    return g.own_unit_ids


def _is_id(value):
    # ASCII digits: "²".isdigit() is true too, and int() refuses it.
    return re.fullmatch(r"[0-9]{1,19}", str(value)) is not None and int(value) < 2 ** 63


def refuse_unseen(model, row_id):
    """404 for a row the officer may not see, as for one that does not exist; a row that does exist
    is a look-up outside his scope, counted for the audit trail (app/probes.py)."""
    from app import probes
    if current_user.is_authenticated and _is_id(row_id) and \
            model.select().where(model._meta.primary_key == int(row_id)).exists():
        probes.note(current_user, model.__name__, int(row_id), ip=request.remote_addr or "")
    abort(404)


PAGE_MAX = 10 ** 9  # no list has more pages, and its OFFSET still fits a 64-bit integer


def list_url(endpoint, *conditions):
    """The admin list `endpoint` filtered by (column, filter class, value) conditions, in the URL
    its own filter form writes: each figure on the dashboard opens the rows behind it."""
    from flask import current_app
    view = next(v for v in current_app.extensions["admin"][0]._views if getattr(v, "endpoint", None) == endpoint)
    args = {}
    for position, (column, kind, value) in enumerate(c for c in conditions if c is not None):
        index, flt = next((i, f) for i, f in enumerate(view._filters) if type(f) is kind and f.column is column)
        args[f"flt{position}_{view.get_filter_arg(index, flt)}"] = value
    return url_for(f"{endpoint}.index_view", **args)


def period_filter(column, first, last, today):
    """A list's condition for the days [first, last] (either None), for list_url; None for all time."""
    from flask_admin.contrib.peewee.filters import DateTimeBetweenFilter
    if first is None and last is None:
        return None
    first = first or datetime.date(2000, 1, 1)
    last = last or max(today, first)
    return column, DateTimeBetweenFilter, f"{first} 00:00:00 to {last} 23:59:59"


# Never written to the audit trail: secrets; a phone only as 138****5678, a channel's URL masked.
UNAUDITED = frozenset({"password_hash", "totp_secret", "totp_last_step", "session_token", "token", "token_hash"})


def audited_changes(before, model):
    """{field: [before, after]} of what an edit changed, fit for the audit trail."""
    changed = {}
    for name, new in model.__data__.items():
        old = before.get(name)
        if name in UNAUDITED or old == new:
            continue
        if name == "phone":
            old, new = mask_phone(old), mask_phone(new)
        if name == "url":  # a channel's address holds its secret (views/outbox.py)
            old, new = mask_url(old), mask_url(new)
        changed[name] = [None if old is None else str(old), None if new is None else str(new)]
    return changed


class RoleGate:
    """Mixin: `read_roles` may open the view; anonymous users go to the login page."""
    read_roles = frozenset()

    def is_accessible(self):
        return current_user.is_authenticated and current_user.role in self.read_roles

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)


class SecureBaseView(RoleGate, BaseView):
    """A non-model admin page behind the role gate."""


class SecureModelView(RoleGate, ModelView):
    """Role-gated, unit-scoped, never deleting, every write in one transaction."""
    edit_roles = frozenset()
    create_roles = None  # None: the same as edit_roles
    export_roles = frozenset()
    # Field whose unit decides whether a unit-bound officer may see a row.
    unit_field = None

    can_delete = False
    can_view_details = True
    page_size = 50
    can_set_page_size = True
    page_size_options = (20, 50, 100, 200)
    export_types = ["csv", "xlsx"]
    export_max_rows = 0

    # Permissions are decided per request, from the logged-in officer's role.
    @property
    def can_edit(self):
        return user_role() in self.edit_roles

    @property
    def can_create(self):
        roles = self.edit_roles if self.create_roles is None else self.create_roles
        return user_role() in roles

    @property
    def can_export(self):
        return user_role() in self.export_roles

    def __init__(self, model, *args, **kwargs):
        # Column labels come from the models' verbose names, so each is written once.
        labels = {f.name: f.verbose_name for f in model._meta.sorted_fields if f.verbose_name}
        labels.update(getattr(self, "column_labels", None) or {})
        self.column_labels = labels
        choices = {f.name: list(f.choices) for f in model._meta.sorted_fields if f.choices}
        choices.update(getattr(self, "column_choices", None) or {})
        self.column_choices = choices
        super().__init__(model, *args, **kwargs)

    def search_placeholder(self):
        names = [str(self.column_labels.get(c, c)) for c in self.column_searchable_list or ()]
        return _("Search: %(fields)s", fields="、".join(names)) if names else None

    # --- row scoping -------------------------------------------------------------------
    def scope(self, query):
        """Restrict a query to the rows the current officer may see."""
        if user_role() in UNIT_BOUND:
            if self.unit_field is None:
                return query.where(False)
            return query.where(self.unit_field.in_(own_unit_ids()))
        return query

    def base_query(self):
        return self.model.select()

    def get_query(self):
        return self.scope(self.base_query())

    def _get_filter_groups(self):
        # Options change (new units, a unit-bound officer sees only its own): refresh them.
        for group in (self._filter_groups or {}).values():
            for item in group.filters:
                flt = self._filters[item["index"]]
                if callable(flt.options):
                    item["options"] = flt.get_options(self) or None
        return super()._get_filter_groups()

    def _get_list_filter_args(self):
        # An id that is no number, or too big for a database integer, is refused like any other bad
        # filter value (a message, the list unfiltered by it), never passed on to fail with a 500.
        kept = []
        for index, name, value in super()._get_list_filter_args() or ():
            flt = self._filters[index]
            if isinstance(getattr(flt, "column", None), (ForeignKeyField, AutoField)) and not _is_id(value):
                flash(self.get_invalid_value_msg(value, flt), "error")
                continue
            kept.append((index, name, value))
        return kept

    def _get_list_extra_args(self):
        # ?page= typed by hand: before the first page reads as the first (PostgreSQL refuses a
        # negative OFFSET), past any list as an empty page (SQLite refuses an OFFSET beyond 64 bits).
        args = super()._get_list_extra_args()
        args.page = min(max(args.page or 0, 0), PAGE_MAX)
        return args

    def get_one(self, id):
        if not _is_id(id):
            return None
        return self.get_query().where(self.model._meta.primary_key == int(id)).first()

    # --- writes ------------------------------------------------------------------------
    def create_model(self, form):
        with db.atomic() as tx:
            model = super().create_model(form)
            if not model:
                tx.rollback()
            return model

    def update_model(self, form, model):
        g.audit_before = dict(model.__data__)  # for the before/after in the audit row
        with db.atomic() as tx:
            ok = super().update_model(form, model)
            if not ok:
                tx.rollback()
            return ok

    def after_model_change(self, form, model, is_created):
        # Inside the write's transaction: the change and its audit row land together.
        detail = self.audit_detail(form, model)
        if not is_created:
            detail += " " + json.dumps(audited_changes(g.pop("audit_before", {}), model), ensure_ascii=False)
        AuditLog.record("create" if is_created else "update", current_user, model, detail=detail,
                        ip=request.remote_addr)

    def audit_detail(self, form, model):
        return str(model)

    def _unprocessable(self, response):
        # A re-shown form after a POST means the input was refused: say so with a 4xx.
        if request.method == "POST" and isinstance(response, str):
            return response, 422
        return response

    def _refuse_unseen_row(self):
        # Another unit's row answers as a row that does not exist: 404, confirming nothing.
        if request.args.get("id") is not None and self.get_one(request.args["id"]) is None:
            refuse_unseen(self.model, request.args["id"])

    # A refused action answers 403 instead of Flask-Admin's quiet redirect to the list.
    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            abort(403)
        return self._unprocessable(super().create_view())

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        if not self.can_edit:
            abort(403)
        self._refuse_unseen_row()
        return self._unprocessable(super().edit_view())

    @expose("/details/")
    def details_view(self):
        self._refuse_unseen_row()
        return super().details_view()

    # Nothing is deleted from the screens, whatever a view's can_delete says: complaints, tickets,
    # their events, accounts and the audit trail are evidence.
    @expose("/delete/", methods=("POST",))
    def delete_view(self):
        abort(403)

    def delete_model(self, model):
        abort(403)

    def is_action_allowed(self, name):
        return name != "delete" and super().is_action_allowed(name)

    @expose("/action/", methods=("POST",))
    def action_view(self):
        name = request.form.get("action", "")
        if name not in self._actions_data or not self.is_action_allowed(name):
            abort(403)
        return super().action_view()

    @expose("/ajax/update/", methods=("POST",))
    def ajax_update(self):
        # Flask-Admin checks no permission here and answers bad input with a 500.
        if not self.can_edit:
            abort(403)
        response = super().ajax_update()
        if isinstance(response, tuple) and response[1] == 500:
            missing = self.get_one(request.form.get("list_form_pk", "")) is None
            return response[0], 404 if missing else 422
        return response

    @expose("/export/<export_type>/")
    def export(self, export_type):
        if not self.can_export or export_type not in self.export_types:
            abort(403)
        AuditLog.record("export", current_user, detail=f"{self.endpoint} {export_type} "
                        f"{request.query_string.decode(errors='replace')[:200]}", ip=request.remote_addr)
        return super().export(export_type)

    def get_export_value(self, model, name):
        # Before Flask-Admin turns every value into text: numbers stay numbers, citizen text stays text.
        return safe_cell(super().get_export_value(model, name))

    def handle_view_exception(self, exc):
        if isinstance(exc, ValidationError):
            flash(str(exc), "error")
            return True
        if isinstance(exc, IntegrityError):
            flash(_("The record conflicts with an existing one (for example a duplicate number) "
                    "and was not saved."), "error")
            return True
        return super().handle_view_exception(exc)
