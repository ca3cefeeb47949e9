"""工作日历: the office marks holidays and 调休 days, a range at once or from the State Council's notice.

Every change counts the open tickets' deadlines again (app/calendar_edits.py).
"""
import calendar as month_calendar
import datetime

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.widgets import DateInput

from app import calendar_edits, holiday_notice, workdays
from app.roles import AUDITOR, BUREAU, INSPECTOR, LEADER, OFFICE
from models import CalendarDay
from views.base import SecureModelView

WEEKDAY_NAMES = "一二三四五六日"
RANGE_MAX_DAYS = 366
ORIGIN_LABELS = {workdays.NOTICE: _l("State Council notice"), workdays.LIBRARY: _l("State Council notice (built in)"),
                 workdays.OFFICE: _l("Entered by the office"), workdays.WEEKEND_RULE: _l("Estimated (weekend rule)")}


class RangeForm(FlaskForm):
    first = StringField(_l("From"), widget=DateInput())
    last = StringField(_l("To"), widget=DateInput())
    kind = RadioField(_l("Mark as"), default="holiday", validate_choice=False,
                      choices=[("holiday", _l("Holiday (放假)")), ("workday", _l("Make-up working day (上班)"))])
    name = StringField(_l("Name"))


class NoticeForm(FlaskForm):
    text = TextAreaField(_l("Text of the notice"))


class ConfirmNoticeForm(FlaskForm):
    text = HiddenField()


def read_range(form):
    """(first, last, workday, name) from the range form, or {field: Chinese message}."""
    errors, dates = {}, {}
    for field in ("first", "last"):
        raw = (form[field].data or "").strip()
        try:
            dates[field] = datetime.date.fromisoformat(raw)
        except ValueError:
            errors[field] = _("Write the date as 2027-01-01.") if raw else _("Please enter a date.")
            continue
        if not calendar_edits.FIRST_YEAR <= dates[field].year <= calendar_edits.LAST_YEAR:
            errors[field] = _("Please enter a date from %(first)d to %(last)d.",
                              first=calendar_edits.FIRST_YEAR, last=calendar_edits.LAST_YEAR)
    if not errors and dates["last"] < dates["first"]:
        errors["last"] = _("The end date is before the start date.")
    elif not errors and (dates["last"] - dates["first"]).days >= RANGE_MAX_DAYS:
        errors["last"] = _("One range covers at most %(n)d days.", n=RANGE_MAX_DAYS)
    if form.kind.data not in ("holiday", "workday"):
        errors["kind"] = _("Choose holiday or make-up working day.")
    name = (form.name.data or "").strip()
    if not name:
        errors["name"] = _("Please give the name, for example 春节 or 国庆节调休上班.")
    elif len(name) > 50:
        errors["name"] = _("The name is at most %(n)d characters.", n=50)
    if errors:
        return errors
    return dates["first"], dates["last"], form.kind.data == "workday", name


def month_grid(year, month):
    """The weeks of a month, Monday first, each day a date or None."""
    return [[datetime.date(year, month, d) if d else None for d in week]
            for week in month_calendar.Calendar(firstweekday=0).monthdayscalendar(year, month)]


def _weekday(view, context, model, name):
    return "周" + WEEKDAY_NAMES[model.day.weekday()]


def _origin(view, context, model, name):
    label = ORIGIN_LABELS.get(model.origin, model.origin)
    if model.origin == workdays.WEEKEND_RULE:
        return Markup('<span class="badge badge-warning" title="{}">{}</span>').format(
            _("Not yet from the State Council's notice: counted by the weekend rule"), _("estimated"))
    return label


class CalendarDayAdmin(SecureModelView):
    read_roles = frozenset({OFFICE, LEADER, INSPECTOR, BUREAU, AUDITOR})
    edit_roles = frozenset({OFFICE})
    create_roles = frozenset()  # whole years, ranges and notices are added at once, below
    export_roles = frozenset({OFFICE})
    list_template = "admin/calendar_list.html"
    column_list = ("day", "weekday", "workday", "name", "origin")
    column_labels = {"weekday": _l("Weekday")}
    column_formatters = {"weekday": _weekday, "origin": _origin}
    column_default_sort = ("day", False)
    column_sortable_list = ("day",)
    column_editable_list = ("workday", "name")
    column_searchable_list = ("name",)
    column_filters = (
        "day",
        FilterEqual(CalendarDay.workday, _l("Working day"), options=[("1", _l("Yes")), ("0", _l("No"))]),
    )
    form_columns = ("workday", "name")
    page_size = 100

    def get_one(self, id):
        try:
            day = datetime.date.fromisoformat(str(id))
        except ValueError:
            return None
        return self.get_query().where(CalendarDay.day == day).first()

    def shown_month(self):
        """The month the list shows (this month unless ?month= says another), or None for a filtered list."""
        if request.args.get("show_all") or request.args.get("search") or \
                any(k.startswith("flt") for k in request.args):
            return None
        try:
            first = datetime.datetime.strptime(request.args.get("month", ""), "%Y-%m").date()
        except ValueError:
            first = calendar_edits.clock().date().replace(day=1)
        if not calendar_edits.FIRST_YEAR <= first.year <= calendar_edits.LAST_YEAR:
            first = calendar_edits.clock().date().replace(day=1)
        return first

    def get_query(self):
        # Open on this month: officers look at what comes next, not at January or 2020.
        query = super().get_query()
        first = g.get("calendar_month")  # set by the list page only: a single day is found in any month
        if first is not None:
            last = first.replace(day=month_calendar.monthrange(first.year, first.month)[1])
            query = query.where(CalendarDay.day.between(first, last))
        return query

    @expose("/")
    def index_view(self):
        first = self.shown_month()
        if first is not None:
            g.calendar_month = first
            g.calendar_prev = (first - datetime.timedelta(days=1)).replace(day=1)
            g.calendar_next = (first + datetime.timedelta(days=32)).replace(day=1)
        g.calendar_reminder = calendar_edits.missing_notice_year() if self.can_edit else None
        g.range_form = RangeForm() if self.can_edit else None
        return super().index_view()

    def update_model(self, form, model):
        # The day as it was, to count the open deadlines again against it; all in one transaction.
        from models import db
        with db.atomic():
            g.calendar_before = workdays.load()
            return super().update_model(form, model)

    def after_model_change(self, form, model, is_created):
        super().after_model_change(form, model, is_created)
        moved = calendar_edits.edit_day(g.pop("calendar_before"), model.day, user=current_user)
        if moved:
            flash(_("%(n)d open problem deadline(s) were counted again.", n=moved), "info")

    def audit_detail(self, form, model):
        return f"{model.day} workday={model.workday} {model.name}"

    def _refuse_edit(self):
        if not self.can_edit:
            abort(403)

    @expose("/add-year/", methods=("POST",))
    def add_year(self):
        if not self.can_edit:
            return self.inaccessible_callback("add_year")
        year = request.form.get("year", type=int)
        if year is None or not calendar_edits.FIRST_YEAR <= year <= calendar_edits.LAST_YEAR:
            flash(_("Please enter a year from %(first)d to %(last)d.",
                    first=calendar_edits.FIRST_YEAR, last=calendar_edits.LAST_YEAR), "error")
            return redirect(url_for(".index_view")), 302
        added, _moved = calendar_edits.add_year(year, user=current_user, ip=request.remote_addr)
        flash(_("Generated %(n)d days of %(year)d by the weekend rule. They stay marked “estimated” until the "
                "State Council's notice for %(year)d is imported (导入放假通知).", n=added, year=year), "success")
        return redirect(url_for(".index_view", month=f"{year}-01"))

    @expose("/range/", methods=("GET", "POST"))
    def range_view(self):
        """批量设置: a range of days marked as holidays or make-up working days in one step."""
        self._refuse_edit()
        form = RangeForm()
        errors = {}
        if request.method == "POST":
            if not form.validate_on_submit():  # the CSRF token
                errors = {"form": _("The form expired; please try again.")}
            else:
                result = read_range(form)
                if isinstance(result, dict):
                    errors = result
                else:
                    first, last, workday, name = result
                    moved = calendar_edits.set_range(first, last, workday, name, user=current_user,
                                                     ip=request.remote_addr)
                    flash(_("%(first)s to %(last)s (%(n)d days) marked as %(kind)s. %(moved)d open problem "
                            "deadline(s) were counted again.", first=first, last=last, n=(last - first).days + 1,
                            kind=_("make-up working days") if workday else _("holidays"), moved=moved), "success")
                    return redirect(url_for(".index_view", month=f"{first:%Y-%m}"))
        return self.render("admin/calendar_range.html", form=form, errors=errors), 400 if errors else 200

    @expose("/notice/", methods=("GET", "POST"))
    def notice_view(self):
        """导入放假通知: paste, preview on a calendar of the year, then confirm."""
        self._refuse_edit()
        form, error, notice = NoticeForm(), None, None
        if request.method == "POST":
            confirming = "confirm" in request.form
            if not form.validate_on_submit():
                error = _("The form expired; please try again.")
            else:
                try:  # parsed again from the text itself: nothing the page sent back is trusted as days
                    notice = holiday_notice.parse(form.text.data)
                except holiday_notice.NoticeError as exc:
                    error = str(exc)
            if notice is not None and confirming:
                moved = calendar_edits.import_notice(notice, user=current_user, ip=request.remote_addr)
                flash(_("The %(year)d notice was imported: %(h)d holidays and %(w)d make-up working days; every "
                        "other day of %(year)d follows the weekend rule. %(moved)d open problem deadline(s) were "
                        "counted again.", year=notice.year, h=len(notice.holidays), w=len(notice.workdays),
                        moved=moved), "success")
                return redirect(url_for(".index_view", month=f"{notice.year}-01"))
        preview = None
        if notice is not None:
            changed, replaced = calendar_edits.preview_changes(notice)
            preview = dict(notice=notice, changed=changed, replaced=replaced, ranges=_ranges(notice),
                           months=[(m, month_grid(notice.year, m)) for m in range(1, 13)], days=notice.days(),
                           confirm=ConfirmNoticeForm(text=form.text.data))
        status = 400 if error else 200
        return self.render("admin/calendar_notice.html", form=form, error=error, preview=preview,
                           weekday_names=WEEKDAY_NAMES), status


def _ranges(notice):
    """[(name, [(first, last)], [make-up days])] in the order of the year, for the preview's list."""
    by_name = {}
    for day in sorted(notice.holidays):
        spans = by_name.setdefault(notice.holidays[day], ([], []))[0]
        if spans and spans[-1][1] + datetime.timedelta(days=1) == day:
            spans[-1][1] = day
        else:
            spans.append([day, day])
    for day in sorted(notice.workdays):
        name = notice.workdays[day].removesuffix("调休上班")
        by_name.setdefault(name, ([], []))[1].append(day)
    return [(name, spans, work) for name, (spans, work) in by_name.items()]
