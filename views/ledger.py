"""台账: the problems ledger as an XLSX workbook, filtered by period, unit, source and state."""
import tempfile

from flask import request, send_file
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from app import ledger
from app.roles import COMMISSION, HANDLER, UNIT_BOUND
from models import CHANNELS, AuditLog, Unit, now
from views.base import SecureBaseView, own_unit_ids, read_period
from views.errors import render_error
from views.input_guard import row_id


class LedgerView(SecureBaseView):
    read_roles = COMMISSION | {HANDLER}

    def filters(self):
        """The officer's choices, within what the role may see; ValueError with a Chinese message."""
        args = request.args
        start, end = read_period(args)
        source = args.get("source") or None
        if source and source not in dict(CHANNELS):
            raise ValueError(_("Unknown source."))
        state = args.get("state") or None
        if state and state not in ledger.STATES:
            raise ValueError(_("Unknown state."))
        try:
            unit_id = row_id(args["unit"]) if args.get("unit") else None
        except ValueError:
            raise ValueError(_("Unknown unit.")) from None
        bound = current_user.role in UNIT_BOUND
        return ledger.Filters(start=start, end=end, unit_id=unit_id, source=source, state=state,
                              unit_ids=frozenset(own_unit_ids()) if bound else None,
                              show_reporter=current_user.role in COMMISSION,  # even masked: the commission's only
                              reader_staff_id=current_user.staff_id)

    def units(self):
        query = Unit.select(Unit.id, Unit.name).where(Unit.active).order_by(Unit.kind, Unit.code)
        if current_user.role in UNIT_BOUND:
            query = query.where(Unit.id.in_(own_unit_ids()))
        return list(query)

    @expose("/")
    def index(self):
        error = None
        try:
            self.filters()
        except ValueError as exc:
            error = str(exc)
        return self.render("admin/ledger.html", units=self.units(), channels=CHANNELS, args=request.args,
                           error=error), 422 if error else 200

    @expose("/ledger.xlsx")
    def download(self):
        try:
            filters = self.filters()
        except ValueError as exc:
            return render_error(422, str(exc))
        # Written to a nameless temporary file, gone when the response is closed (Windows too).
        spool = tempfile.TemporaryFile()
        count = ledger.write_xlsx(spool, filters)
        spool.seek(0)
        AuditLog.record("export", current_user, detail=f"问题台账 {count} 条 {request.query_string.decode()[:200]}",
                        ip=request.remote_addr or "")
        return send_file(spool, as_attachment=True, download_name=f"问题台账-{now():%Y%m%d}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
