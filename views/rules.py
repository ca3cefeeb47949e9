"""流程规则: the supervision office reads the procedures as diagrams, edits, validates, saves."""
import difflib

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from peewee import JOIN
from wtforms import HiddenField, TextAreaField

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
    base = HiddenField()  # the WorkflowFile the text was based on: a save on an older one is refused


class RestoreForm(FlaskForm):
    base = HiddenField()


def stage_map_of(form):
    """{workflow: {old stage: new stage}} from the stage map's selects (stage_map:problem:check)."""
    stage_map = {}
    for name, value in form.items():
        parts = name.split(":")
        if len(parts) == 3 and parts[0] == "stage_map" and value:
            stage_map.setdefault(parts[1], {})[parts[2]] = value
    return stage_map


def base_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(400)


FILE_ERROR_ROLES = frozenset({OFFICE, LEADER, INSPECTOR})


def workflow_file_error():
    """Why workflows.yaml was not taken at start, for the banner of every admin page ("" if fine)."""
    if not current_user.is_authenticated or current_user.role not in FILE_ERROR_ROLES:
        return ""
    return procedures.file_error()


class WorkflowRulesView(FormEditor, SecureBaseView):
    read_roles = frozenset({OFFICE, LEADER, INSPECTOR, AUDITOR})
    edit_roles = frozenset({OFFICE})

    @expose("/")
    def index(self):
        return self.form_page(request.args.get("wf"))

    @expose("/overview/")
    def overview(self):
        workflows = [procedures.workflow(key) for key in procedures.active_versions()]
        in_force = {(wf.key, wf.version) for wf in workflows}
        scheduled = procedures.scheduled()
        return self.render("admin/rules.html", workflows=workflows, diagram=diagram.render,
                           in_force=in_force, scheduled=scheduled, scheduled_ids={(k, v) for k, v, _d in scheduled},
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
        if request.method == "GET":
            latest = procedures.latest_file()
            form.text.data, form.base.data = latest.text, latest.id
            return self.render("admin/rules_edit.html", form=form, problems=[])
        if not form.validate():
            return self.render("admin/rules_edit.html", form=form, problems=[]), 400
        text = (form.text.data or "").replace("\r\n", "\n")
        if not request.form.get("save"):
            try:
                procedures.validate(text)
                flash(_("Checked: no errors found (not saved yet)."), "success")
                return self.render("admin/rules_edit.html", form=form, problems=[])
            except WorkflowFileError as exc:
                return self.render("admin/rules_edit.html", form=form, problems=exc.problems), 422
        return self.save(form, text, base_id(form.base.data), "workflow_save")

    def save(self, form, text, base, audit_action, origin="editor"):
        """Save, or show why not: the errors, the other person's change, or the stage map."""
        try:
            stored = procedures.save(text, base, current_user, origin=origin,
                                     stage_map=stage_map_of(request.form))
        except WorkflowFileError as exc:
            return self.render("admin/rules_edit.html", form=form, problems=exc.problems), 422
        except procedures.StaleBase as exc:
            return self.render("admin/rules_edit.html", form=form, problems=[], stale=exc), 409
        except procedures.StagesNeedMapping as exc:
            return self.render("admin/rules_edit.html", form=form, problems=[], groups=exc.groups,
                               chosen=stage_map_of(request.form))
        if stored.id == base:
            flash(_("Nothing changed: the text is the same as the latest version."), "info")
            return redirect(url_for(".index"))
        saved = ", ".join(f"{k} v{n}" for k, n in stored.versions.items())
        AuditLog.record(audit_action, current_user, stored,
                        detail=(saved or "-") + (f"; moved {', '.join(stored.moved)}" if stored.moved else ""),
                        ip=request.remote_addr)
        shown = "、".join(_("%(title)s version %(n)s", title=procedures.workflow(k, n).title, n=n)
                         for k, n in stored.versions.items())
        flash(_("Saved: %(versions)s. New tickets follow the new version from its effective date; "
                "tickets in progress keep their original version.", versions=shown or _("no procedure changed")),
              "success")
        if stored.moved:
            flash(_("%(n)s open ticket(s) moved to the new stages; their deadlines count from now.",
                    n=len(stored.moved)), "info")
        if stored.file_problem:
            flash(stored.file_problem, "warning")
        return redirect(url_for(".index"))

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
        latest = procedures.latest_file()
        form = RestoreForm(base=latest.id)
        return self.render("admin/rules_history.html", current=current, previous=previous, diff=diff,
                           latest=latest, form=form, may_edit=current_user.role in self.edit_roles)

    @expose("/history/<int:file_id>/restore/", methods=("POST",))
    def restore(self, file_id):
        """恢复: an earlier text becomes the new version(s); through the editor's screen if it needs asking."""
        if current_user.role not in self.edit_roles:
            abort(403)
        old = WorkflowFile.get_or_none(WorkflowFile.id == file_id)
        if old is None:
            abort(404)
        restore = RestoreForm()
        if not restore.validate():
            abort(400)
        form = RulesForm(formdata=None, text=old.text, base=restore.base.data)
        return self.save(form, old.text, base_id(restore.base.data), "workflow_restore", origin="restore")
