"""What the procedure editor saves through: `procedures.save` and its refusals.

# stand-in until procedures.save lands
The store (app/procedures.py) gives version numbers, refuses a save on an old base and asks where
open tickets go when a stage goes away. Until it lands this module stands in with the smallest
part of it the editor needs: the base check and the version bump; it never asks for a stage map.
Once `procedures.save` exists, the real one is used and this stand-in can be deleted.
"""
import difflib
import json

from app import procedures, workflow_form
from app.roles import CASE_ROLES
from app.workflow.errors import WorkflowFileError  # noqa: F401 (the editor catches it from here)
from app.workflow.schema import load_text
from models import WorkflowFile, WorkflowVersion


class _StaleBase(Exception):
    """The form was loaded from an older file: someone else saved in between."""

    def __init__(self, latest, diff, message):
        self.latest, self.diff, self.message = latest, diff, message
        super().__init__(message)


class _StagesNeedMapping(Exception):
    """Open tickets sit in stages this save removes: where does each group go?"""

    def __init__(self, groups):
        self.groups = groups
        super().__init__("stages need mapping")


def _changed_versions(text):
    """{key: new version} for each procedure whose content differs from its stored version."""
    definitions = load_text(text, unit_codes=procedures.unit_codes(), roles=CASE_ROLES)
    bumps = {}
    for key, wf in definitions.workflows.items():
        mine = json.loads(wf.canonical())
        mine.pop("version", None)
        stored = WorkflowVersion.get_or_none(WorkflowVersion.key == key, WorkflowVersion.version == wf.version)
        if stored is None:
            continue
        theirs = json.loads(stored.canonical)
        theirs.pop("version", None)
        if mine != theirs:
            latest = WorkflowVersion.select(WorkflowVersion.version).where(WorkflowVersion.key == key) \
                .order_by(WorkflowVersion.version.desc()).scalar()
            bumps[key] = latest + 1
    return bumps


def _save(text, base, user, origin="editor", stage_map=None):
    latest = procedures.latest_file()
    if latest is not None and base != latest.id:
        base_file = WorkflowFile.get_or_none(WorkflowFile.id == base)
        diff = list(difflib.unified_diff((base_file.text if base_file else "").splitlines(),
                                         latest.text.splitlines(), "你打开时的版本", "别人保存的版本",
                                         lineterm="", n=2))
        raise _StaleBase(latest, diff, "你打开表单之后，别人已经保存了新的流程规则；你的修改没有保存。")
    bumps = _changed_versions(text)
    if bumps:
        data = workflow_form._load(text)
        for key, version in bumps.items():
            data["workflows"][key]["version"] = version
        text = workflow_form._dump(data)
    procedures.accept(text, origin=origin, user=user)
    return procedures.latest_file()


save = getattr(procedures, "save", None) or _save
StaleBase = getattr(procedures, "StaleBase", _StaleBase)
StagesNeedMapping = getattr(procedures, "StagesNeedMapping", _StagesNeedMapping)
