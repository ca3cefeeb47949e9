"""座谈会清单: register a meeting and its issues (pasted from Excel), follow each to its result."""
import datetime

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from app import symposia, tickets
from app.appeals import ENTERPRISE_CATEGORIES
from app.roles import INSPECTOR, LEADER, OFFICE
from models import Symposium
from views import contacts
from views.base import SecureBaseView


class SymposiumView(SecureBaseView):
    read_roles = frozenset({OFFICE, LEADER, INSPECTOR})

    @expose("/")
    def index(self):
        meetings = list(Symposium.select().order_by(Symposium.held_on.desc()))
        return self.render("admin/symposia.html", meetings=meetings, counts=symposia.counts_by_meeting(),
                           may_edit=current_user.role == OFFICE)

    @expose("/new/", methods=("GET", "POST"))
    def new(self):
        if current_user.role != OFFICE:
            abort(403)
        form, errors = request.form, []
        if request.method == "POST":
            rows, errors = symposia.parse_rows(form.get("rows"))
            try:
                held_on = datetime.date.fromisoformat(form.get("held_on", ""))
            except ValueError:
                held_on = None
            if not errors:
                try:
                    meeting = symposia.register(form.get("title"), form.get("place"), held_on, rows, current_user)
                except symposia.Refused as refused:
                    errors = refused.errors
                else:
                    flash(_("%(n)d issues registered and handed to their units.", n=len(rows)), "success")
                    return redirect(url_for(".show", meeting_id=meeting.id))
        return self.render("admin/symposium_new.html", form=form, errors=errors,
                           categories=ENTERPRISE_CATEGORIES), 422 if errors else 200

    @expose("/<int:meeting_id>/")
    def show(self, meeting_id):
        meeting = Symposium.get_or_none(Symposium.id == meeting_id)
        if meeting is None:
            abort(404)
        rows, counts = symposia.checklist(meeting)
        stages = {t.id: tickets.workflow_of(t).stages.get(t.stage) for t in rows}
        return self.render("admin/symposium.html", meeting=meeting, rows=rows, counts=counts, stages=stages,
                           agreed=symposia.agreed_dates(rows), sees_company=contacts.sees_complainant())
