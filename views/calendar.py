"""工作日历: the office marks holidays and 调休 days, and enters next year's schedule."""
import datetime

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import workdays
from app.roles import AUDITOR, BUREAU, INSPECTOR, LEADER, OFFICE
from models import CalendarDay
from views.base import SecureModelView


class CalendarDayAdmin(SecureModelView):
    read_roles = frozenset({OFFICE, LEADER, INSPECTOR, BUREAU, AUDITOR})
    edit_roles = frozenset({OFFICE})
    create_roles = frozenset()  # whole years are added at once, below
    export_roles = frozenset({OFFICE})
    list_template = "admin/calendar_list.html"
    column_list = ("day", "workday", "name", "origin")
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

    def get_query(self):
        # Open on this year: officers look forward, not at 2020.
        query = super().get_query()
        if not request.args.get("show_all") and not any(k.startswith("flt") for k in request.args):
            query = query.where(CalendarDay.day >= datetime.date(datetime.date.today().year, 1, 1))
        return query

    def after_model_change(self, form, model, is_created):
        model.origin = "office"
        CalendarDay.update(origin="office").where(CalendarDay.day == model.day).execute()
        super().after_model_change(form, model, is_created)
        workdays.invalidate()

    def audit_detail(self, form, model):
        return f"{model.day} workday={model.workday} {model.name}"

    @expose("/add-year/", methods=("POST",))
    def add_year(self):
        if not self.can_edit:
            return self.inaccessible_callback("add_year")
        year = request.form.get("year", type=int)
        if year is None or not 2000 <= year <= 2100:
            flash(_("Please enter a year from %(first)d to %(last)d.", first=2000, last=2100), "error")
            return redirect(url_for(".index_view")), 302
        added = workdays.add_year_by_weekend_rule(year)
        from models import AuditLog
        AuditLog.record("calendar_year", current_user, None, detail=f"{year}: {added} days",
                        ip=request.remote_addr)
        flash(_("Generated %(n)d days of %(year)d by the weekend rule; now mark the public holidays and make-up "
                "working days one by one, as the State Council General Office's notice gives them.",
                n=added, year=year), "success")
        return redirect(url_for(".index_view", flt0_4=f"{year}-01-01 to {year}-12-31"))
