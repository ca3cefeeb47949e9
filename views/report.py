"""月度运行情况报告 on screen (printable) and as Word, for the commission."""
from flask import request, send_file
from flask_admin import expose
from flask_login import current_user

from app import report
from app.periods import month_before
from app.roles import COMMISSION
from models import AuditLog, now
from views.base import SecureBaseView


class ReportView(SecureBaseView):
    read_roles = COMMISSION

    def month(self):
        """The month asked for, else the last complete one; ValueError with a Chinese message."""
        text = request.args.get("month")
        if text:
            return report.parse_month(text)
        today = now().date()
        return month_before(today.year, today.month)

    @expose("/")
    def index(self):
        try:
            year, month = self.month()
        except ValueError as exc:
            return self.render("admin/report.html", r=None, error=str(exc), month=request.args.get("month", "")), 422
        r = report.monthly(year, month)
        return self.render("admin/report.html", r=r, words=report.lines(r), error=None, month=f"{year}-{month:02d}",
                           percent=report.percent, signed=report.signed)

    @expose("/report.docx")
    def docx(self):
        try:
            year, month = self.month()
        except ValueError as exc:
            from views.errors import render_error
            return render_error(422, str(exc))
        stream = report.write_docx(report.monthly(year, month))
        AuditLog.record("export", current_user, detail=f"月度运行情况报告 {year}-{month:02d}", ip=request.remote_addr or "")
        return send_file(stream, as_attachment=True, download_name=f"直通车{year}年{month}月运行情况报告.docx",
                         mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
