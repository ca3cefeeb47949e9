"""二维码: a printable sheet of every window and badge of a unit, and single codes to download."""
import io

from flask import abort, current_app, request, send_file
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup

from app import filenames, qrcodes
from app.roles import BUREAU, HANDLER, OFFICE, SYSADMIN, UNIT_BOUND
from models import Staff, Unit, Window
from views.base import SecureBaseView, own_unit_ids


def base_url():
    return current_app.config.get("PUBLIC_BASE_URL") or request.url_root


class QRCodeView(SecureBaseView):
    read_roles = frozenset({SYSADMIN, OFFICE, BUREAU, HANDLER})

    def visible_units(self):
        query = Unit.select().where(Unit.active, Unit.id.in_(Window.select(Window.unit))).order_by(Unit.code)
        if current_user.role in UNIT_BOUND:
            query = query.where(Unit.id.in_(own_unit_ids() or [0]))
        return list(query)

    @expose("/")
    def index(self):
        return self.render("admin/qr_index.html", units=self.visible_units())

    @expose("/unit/<int:unit_id>/")
    def sheet(self, unit_id):
        unit = next((u for u in self.visible_units() if u.id == unit_id), None)
        if unit is None:
            abort(404)
        windows = list(Window.select().where(Window.unit == unit, Window.active).order_by(Window.number))
        staff = list(Staff.select().where(Staff.unit == unit, Staff.active).order_by(Staff.number))
        code = lambda token: Markup(qrcodes.svg(qrcodes.rating_url(base_url(), token)))
        return self.render("admin/qr_sheet.html", unit=unit, windows=windows, staff=staff, code=code,
                           url=lambda token: qrcodes.rating_url(base_url(), token))

    @expose("/<kind>/<int:item_id>.<fmt>")
    def single(self, kind, item_id, fmt):
        model = {"window": Window, "staff": Staff}.get(kind)
        if model is None or fmt not in ("png", "svg"):
            abort(404)
        item = model.get_or_none(model.id == item_id)
        if item is None or (current_user.role in UNIT_BOUND and item.unit_id not in own_unit_ids()):
            abort(404)
        url = qrcodes.rating_url(base_url(), item.token)
        content = qrcodes.png(url) if fmt == "png" else qrcodes.svg(url, scale=8).encode()
        # The number is the officers' own text (窗口52): send_file names the file in UTF-8.
        return send_file(io.BytesIO(content), mimetype="image/png" if fmt == "png" else "image/svg+xml",
                         as_attachment=True, download_name=filenames.plain(f"{kind}-{item.number}.{fmt}", f"{kind}.{fmt}"))
