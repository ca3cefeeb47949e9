"""流程规则 in forms: one procedure at a time, its diagram redrawn as the office types, saved safely.

The page is rendered with the current values (readable without script); views/static/rules_form.js
collects the form as JSON and posts it to `preview` (the diagram and the errors, at their fields)
and to `save` (with the id of the file the form was loaded from, so that a stale save is refused).
"""
from flask import abort, flash, jsonify, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import procedures
from app.roles import CASE_ROLES, role_label
from app.workflow import diagram
from app.workflow.engine import FIELD_TITLES
from app.workflow.errors import WorkflowFileError
from app.workflow.schema import NOTICE_KINDS, REQUIRABLE, load_text
from app.workflow_form import FormError, apply_form, to_form, workflow_keys
from models import AuditLog, Unit, WorkflowFile
from views.outbox import NOTICE_LABELS

DURATION_UNITS = (("workdays", _l("working days")), ("days", _l("calendar days")), ("hours", _l("hours")))
DURATION_FROM = (("stage_entry", _l("on entering the stage")), ("created", _l("on registration")))
FINALS = (("", _l("none")), ("solved", _l("solved")), ("explained", _l("explained")),
          ("not_accepted", _l("not accepted")))
EFFECTS = (("", _l("none")), ("transfer", _l("transfer")), ("return", _l("send back")),
           ("grade", _l("revisit grade")), ("exclude_evaluation", _l("appeal upheld")))
UNITS = (("any", _l("any unit")), ("handling", _l("the ticket's handling unit")), ("fixed", _l("a fixed unit")))
STAGE_ROLE = "stage_role"
REQUIRE_ORDER = ("comment", "result", "reply", "classification", "unit", "attachment", "grade")
assert set(REQUIRE_ORDER) == set(REQUIRABLE)


def _problem_json(problem, key):
    path = tuple(problem.path)
    if path[:2] == ("workflows", key):
        field = ["wf", *path[2:]]
    elif path[:1] in (("notices",), ("classifications",)):
        field = ["top", *path]
    else:
        field = None
    return {"line": problem.line, "col": problem.col, "path": [str(p) for p in path], "field": field,
            "label": str(getattr(problem, "label", "") or ""), "message": problem.message}


def _group_json(group):
    """A group of open tickets in a stage that goes away (procedures.StagesNeedMapping), for the page."""
    return {"id": f"{group['workflow']}:{group['stage']}", "key": group["workflow"], "stage": group["stage"],
            "title": f"{group['workflow_title']}：{group['stage_title']}", "count": group["count"],
            "version": group["version"], "tickets": list(group["codes"])[:50],
            "choices": [[sid, title] for sid, title in group["choices"]]}


def _stage_map(posted):
    """{"problem:investigate": "review"} from the page -> {"problem": {"investigate": "review"}}."""
    if not isinstance(posted, dict):
        return None
    result = {}
    for group, target in posted.items():
        key, sep, stage = str(group).partition(":")
        if sep and isinstance(target, str) and target:
            result.setdefault(key, {})[stage] = target
    return result


class FormEditor:
    """Mixin for WorkflowRulesView: the form editor routes (read_roles read, edit_roles save)."""

    def may_edit(self):
        return current_user.role in self.edit_roles

    def form_page(self, key=None):
        latest = procedures.latest_file()
        keys = workflow_keys(latest.text)
        if not keys:
            abort(404)
        key = key or keys[0][0]
        if key not in dict(keys):
            abort(404)
        form = to_form(latest.text, key)
        try:
            svg = diagram.render(load_text(latest.text, roles=CASE_ROLES).workflows[key], legend=False)
        except (WorkflowFileError, KeyError):
            svg = diagram.render(procedures.workflow(key), legend=False)
        units = list(Unit.select(Unit.code, Unit.name).where(Unit.active == True)  # noqa: E712
                     .order_by(Unit.name).tuples())
        roles = [(r, str(role_label(r))) for r in CASE_ROLES]
        in_force = procedures.workflow(key) if key in procedures.active_versions() else None
        scheduled = [(version, effective) for k, version, effective in procedures.scheduled() if k == key]
        return self.render(
            "admin/rules_form.html", form=form, key=key, keys=keys, base=latest.id, svg=svg,
            in_force=in_force, scheduled=scheduled, legend=diagram.legend(),
            may_edit=self.may_edit(), roles=roles, notify_roles=[(STAGE_ROLE, _("the stage's officer"))] + roles,
            units=units, duration_units=DURATION_UNITS, duration_from=DURATION_FROM, finals=FINALS,
            effects=EFFECTS, unit_kinds=UNITS, requirable=[(r, FIELD_TITLES[r]) for r in REQUIRE_ORDER],
            notice_kinds=[(k, NOTICE_LABELS[k]) for k in NOTICE_KINDS])

    @expose("/form/<key>/")
    def form(self, key):
        return self.form_page(key)

    def _applied(self, key):
        """(body, base file, new text) of a posted form, or a 400/403 answer raised."""
        if not self.may_edit():
            abort(403)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("form"), dict):
            abort(400)
        base_id = body.get("base")
        base = WorkflowFile.get_or_none(WorkflowFile.id == base_id) if isinstance(base_id, int) else None
        if base is None:
            abort(400)
        try:
            text = apply_form(base.text, key, body["form"])
        except FormError:
            abort(400)
        return body, base, text

    @expose("/form/<key>/preview/", methods=("POST",))
    def preview(self, key):
        _body, _base, text = self._applied(key)
        try:
            definitions = load_text(text, unit_codes=procedures.unit_codes(), roles=CASE_ROLES)
        except WorkflowFileError as exc:
            return jsonify(svg=None, errors=[_problem_json(p, key) for p in exc.problems])
        return jsonify(svg=str(diagram.render(definitions.workflows[key], legend=False)), errors=[])

    @expose("/form/<key>/save/", methods=("POST",))
    def save_form(self, key):
        body, base, text = self._applied(key)
        stage_map = _stage_map(body.get("stage_map"))
        latest = procedures.latest_file()
        if text == base.text and base.id == latest.id:
            flash(_("Nothing was changed, nothing saved."), "info")
            return jsonify(ok=True, url=url_for(".index", wf=key))
        try:
            saved = procedures.save(text, base.id, current_user, origin="editor", stage_map=stage_map)
        except procedures.StaleBase as exc:
            latest = exc.latest
            # Re-applying this form onto the newest file is offered only when the other person left
            # this procedure (and the shared texts) alone: otherwise it would undo his change.
            conflict = to_form(base.text, key) != to_form(latest.text, key)
            return jsonify(stale=True, message=str(getattr(exc, "message", exc)), diff=list(exc.diff or []),
                           latest=latest.id, conflict=conflict), 409
        except procedures.StagesNeedMapping as exc:
            return jsonify(mapping=[_group_json(g) for g in exc.groups]), 409
        except WorkflowFileError as exc:
            return jsonify(errors=[_problem_json(p, key) for p in exc.problems]), 422
        AuditLog.record("workflow_save", current_user, saved, detail=f"{key}（表单）", ip=request.remote_addr)
        flash(_("Saved. New tickets follow the new version; tickets in progress keep their original version."),
              "success")
        return jsonify(ok=True, url=url_for(".index", wf=key))
