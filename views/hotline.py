"""举报电话: the hotline officer records a caller's rating or message while on the phone."""
from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _

from app import appeals, ratings, scales
from app.roles import OFFICE
from models import LEVELS, MESSAGE_KINDS, Reason, Staff, Unit, Window
from views.base import SecureBaseView
from views.input_guard import row_id


def scale_key():
    return current_app.config["RATING_SCALE"]


class HotlineView(SecureBaseView):
    read_roles = frozenset({OFFICE})

    def page(self, errors=None, form=None, which=None, status=200):
        windows = list(Window.select(Window, Unit).join(Unit).where(Window.active).order_by(Window.number))
        staff = list(Staff.select().where(Staff.active, Staff.window.is_null(False)).order_by(Staff.number))
        units = list(Unit.select().where(Unit.active, Unit.kind.in_(("hall", "law_enforcement", "township")))
                     .order_by(Unit.kind, Unit.code))
        scale = scales.scale(scale_key())
        levels = [(level, dict(LEVELS)[level]) for level in scale.levels]
        # On the phone the officer asks what went wrong; tags of the better levels are left out.
        reasons = [r for r in Reason.offered() if r.level_set & set(scales.BAD_LEVELS)]
        return self.render("admin/hotline.html", windows=windows, staff=staff, units=units, levels=levels,
                           reasons=reasons, kinds=MESSAGE_KINDS, errors=errors or {},
                           form=form or {}, which=which, submission_key=ratings.new_submission_key()), status

    @expose("/")
    def index(self):
        return self.page()

    @expose("/rating", methods=("POST",))
    def rating(self):
        form = request.form
        window = Window.get_or_none(Window.id == form.get("window", type=row_id)) if form.get("window") else None
        try:
            evaluation, ticket, _created = ratings.submit(
                window.token if window else "", form.get("level"), form.getlist("reasons"), form.get("comment"),
                form.get("phone"), "hotline", form.get("submission_key"), staff_id=form.get("staff", type=row_id),
                channels=("hotline",), scale=scale_key())
        except ratings.RatingRefused as refused:
            return self.page(refused.errors, form, "rating", 422)
        note = _("Rating recorded.") + (" " + _("Ticket %(code)s opened; tell the caller the query code %(query)s.",
                                                 code=ticket.code, query=ticket.query_code) if ticket else "")
        flash(note, "success")
        return redirect(url_for(".index"))

    @expose("/message", methods=("POST",))
    def message(self):
        form = request.form
        try:
            message = appeals.leave_message(form.get("kind"), form.get("unit"), form.get("content"),
                                            form.get("name"), form.get("phone"), channel="hotline")
        except appeals.Refused as refused:
            return self.page(refused.errors, form, "message", 422)
        flash(_("Message recorded; tell the caller the query code %(code)s.", code=message.query_code), "success")
        return redirect(url_for(".index"))
