"""流程规则: the supervision office reads the procedures as diagrams, edits, validates, saves."""
import difflib

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from peewee import JOIN
from wtforms import TextAreaField

from app import procedures
from app.roles import AUDITOR, INSPECTOR, LEADER, OFFICE
from app.workflow import diagram
from app.workflow.errors import WorkflowFileError
from models import AuditLog, User, WorkflowFile, WorkflowVersion
from views.base import SecureBaseView
from views.errors import render_error
from views.rules_form import FormEditor


class RulesForm(FlaskForm):
    text = TextAreaField()


class WorkflowRulesView(FormEditor, SecureBaseView):
    read_roles = frozenset({OFFICE, LEADER, INSPECTOR, AUDITOR})
    edit_roles = frozenset({OFFICE})

    @expose("/")
    def index(self):
        return self.form_page(request.args.get("wf"))

    @expose("/overview/")
    def overview(self):
        workflows = [procedures.workflow(key) for key in procedures.active_versions()]
        return self.render("admin/rules.html", workflows=workflows, diagram=diagram.render,
                           history=self.history(), may_edit=current_user.role in self.edit_roles,
                           versions=list(WorkflowVersion.select().order_by(WorkflowVersion.key,
                                                                           WorkflowVersion.version.desc())))

    def history(self):
        return list(WorkflowFile.select(WorkflowFile, User)
                    .join(User, JOIN.LEFT_OUTER, on=(WorkflowFile.created_by == User.id))
                    .order_by(WorkflowFile.id.desc()).limit(50))

    @expose("/edit/", methods=("GET", "POST"))
    def edit(self):
        if current_user.role not in self.edit_roles:
            abort(403)
        form = RulesForm()
        problems, status = [], 200
        if request.method == "GET":
            form.text.data = procedures.latest_file().text
        elif form.validate():
            text = (form.text.data or "").replace("\r\n", "\n")
            try:
                if request.form.get("save"):
                    definitions = procedures.accept(text, origin="editor", user=current_user)
                    AuditLog.record("workflow_save", current_user, procedures.latest_file(),
                                    detail=", ".join(f"{k} v{w.version}" for k, w in definitions.workflows.items()),
                                    ip=request.remote_addr)
                    flash(_("Saved. New tickets follow the new version; "
                            "tickets in progress keep their original version."), "success")
                    return redirect(url_for(".index"))
                procedures.validate(text)
                flash(_("Checked: no errors found (not saved yet)."), "success")
            except WorkflowFileError as exc:
                problems, status = exc.problems, 422
        else:
            status = 400
        return self.render("admin/rules_edit.html", form=form, problems=problems), status

    @expose("/version/<key>/<int:version>/")
    def version(self, key, version):
        """Any stored version, as open tickets that started on it still follow it."""
        row = WorkflowVersion.get_or_none(WorkflowVersion.key == key[:32], WorkflowVersion.version == version)
        if row is None:
            return render_error(404, _("Procedure %(key)s has no version %(version)s.", key=key[:32], version=version))
        return self.render("admin/rules_version.html", row=row, wf=procedures.workflow(key, version),
                           diagram=diagram.render, active=procedures.active_versions().get(key))

    @expose("/history/<int:file_id>/")
    def revision(self, file_id):
        current = WorkflowFile.get_or_none(WorkflowFile.id == file_id)
        if current is None:
            abort(404)
        previous = WorkflowFile.select().where(WorkflowFile.id < file_id).order_by(WorkflowFile.id.desc()).first()
        diff = list(difflib.unified_diff((previous.text if previous else "").splitlines(),
                                         current.text.splitlines(), _("Previous version"), _("This version"),
                                         lineterm="", n=2))
        return self.render("admin/rules_history.html", current=current, previous=previous, diff=diff)
