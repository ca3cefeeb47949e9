"""公示: the public page of each unit's results, and the office's switch for it."""
import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from app import dashboard, publication
from app.roles import OFFICE
from models import AuditLog
from views.base import SecureBaseView

bp = Blueprint("publication", __name__)


@bp.route("/results")
def results():
    chosen = publication.settings()
    if not chosen["enabled"]:
        return render_template("public/message.html", title=_("Nothing is published at present"),
                               text=_("The discipline commission has not published the units' results.")), 404
    start, last, rows = publication.table(chosen["period"], datetime.date.today())
    return render_template("public/results.html", start=start, last=last, rows=rows,
                           minimum=dashboard.MIN_SAMPLE)


class PublicationView(SecureBaseView):
    read_roles = frozenset({OFFICE})

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if request.method == "POST":
            try:
                publication.save(request.form.get("enabled") == "1", request.form.get("period"))
            except ValueError as exc:
                flash(str(exc), "error")
                return self.render("admin/publication.html", chosen=publication.settings()), 422
            chosen = publication.settings()
            AuditLog.record("publication", current_user, detail=f"公示 {'开启' if chosen['enabled'] else '关闭'}，"
                            f"期间 {chosen['period']}", ip=request.remote_addr or "")
            flash(_("Saved."), "success")
            return redirect(url_for(".index"))
        return self.render("admin/publication.html", chosen=publication.settings())
