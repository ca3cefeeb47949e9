"""Accepted procedures, stored immutably: each workflow version once, each file text once.

The active procedure is the last accepted file. workflows.yaml on disk is imported when its text
changes (the office may edit the file and restart); the rule editor saves through `accept` too.
A ticket keeps the version it started on: `workflow(key, version)` rebuilds any stored version.
"""
import hashlib
import json
import threading
import time

from app.i18n import in_chinese
from app.roles import CASE_ROLES, role_label
from app.workflow.errors import Problem, WorkflowFileError
from app.workflow.schema import DEFAULT_NOTICES, from_canonical, load_text
from models import SystemSetting, Unit, WorkflowFile, WorkflowVersion, db, now

ACTIVE_KEY = "active_workflows"      # {"problem": 1, ...} of the last accepted file
DISK_SHA_KEY = "workflows_file_sha"  # the last text imported from disk

_versions = {}  # (key, version) -> Workflow; versions never change, so this never goes stale
_rules = {}     # file sha -> (auto_open rules, notice texts, classifications)
_active = {"at": 0.0, "versions": None, "rules": None}  # what is active, re-read every few seconds
ACTIVE_SECONDS = 5  # another process's save is seen within seconds; this process's at once
_lock = threading.Lock()


def clear_cache():
    """Forget parsed versions: for a new app bound to another database (tests, tools)."""
    with _lock:
        _versions.clear()
        _rules.clear()
        _active.update(at=0.0, versions=None, rules=None)


def _fresh_active():
    """The active versions and auto_open rules, read at most every few seconds (hot paths)."""
    with _lock:
        if _active["versions"] is not None and time.monotonic() - _active["at"] < ACTIVE_SECONDS:
            return _active["versions"], _active["rules"]
    versions = json.loads(SystemSetting.read(ACTIVE_KEY, "{}"))
    latest = WorkflowFile.select(WorkflowFile.id, WorkflowFile.sha256).order_by(WorkflowFile.id.desc()).first()
    rules = ((), dict(DEFAULT_NOTICES), ())
    if latest is not None:
        with _lock:
            rules = _rules.get(latest.sha256)
        if rules is None:
            definitions = load_text(WorkflowFile.get_by_id(latest.id).text, roles=CASE_ROLES)
            rules = (definitions.auto_open, definitions.notices, definitions.classifications)
            with _lock:
                _rules[latest.sha256] = rules
    with _lock:
        _active.update(at=time.monotonic(), versions=versions, rules=rules)
    return versions, rules


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def unit_codes():
    return {code for (code,) in Unit.select(Unit.code).tuples()}


def role_labels():
    """The roles a procedure may name, with their Chinese labels (the checker's "did you mean leader?")."""
    with in_chinese():
        return {role: str(role_label(role)) for role in CASE_ROLES}


def validate(text, source="workflows.yaml"):
    """Definitions of a text, or WorkflowFileError: shape, references and version rules."""
    definitions = load_text(text, source=source, unit_codes=unit_codes(), roles=role_labels())
    problems = []
    for key, wf in definitions.workflows.items():
        stored = WorkflowVersion.get_or_none(WorkflowVersion.key == key, WorkflowVersion.version == wf.version)
        if stored is not None and stored.sha256 != sha256(wf.canonical()):
            latest = WorkflowVersion.select(WorkflowVersion.version).where(WorkflowVersion.key == key) \
                .order_by(WorkflowVersion.version.desc()).scalar()
            problems.append(Problem(source, 1, 1, ("workflows", key, "version"),
                                    f"流程 \"{key}\" 第 {wf.version} 版已经保存过，内容和现在不同："
                                    f"改了流程就要把 version 改为 {latest + 1}（在办工单仍按原版本办理）"))
    if problems:
        raise WorkflowFileError(problems)
    return definitions


def accept(text, origin="editor", user=None, source="workflows.yaml"):
    """Validate and store a new text of the procedures; returns its Definitions."""
    with db.atomic():
        definitions = validate(text, source)
        for key, wf in definitions.workflows.items():
            digest = sha256(wf.canonical())
            if not WorkflowVersion.select().where(WorkflowVersion.key == key,
                                                  WorkflowVersion.version == wf.version).exists():
                WorkflowVersion.create(key=key, version=wf.version, title=wf.title, note=wf.note,
                                       effective=wf.effective, canonical=wf.canonical(), sha256=digest,
                                       created_by=user, created_at=now())
        digest = sha256(text)
        latest = WorkflowFile.select().order_by(WorkflowFile.id.desc()).first()
        if latest is None or latest.sha256 != digest:
            WorkflowFile.create(text=text, sha256=digest, origin=origin, created_by=user, created_at=now())
        SystemSetting.write(ACTIVE_KEY, json.dumps({k: w.version for k, w in definitions.workflows.items()}))
        if origin == "file":
            SystemSetting.write(DISK_SHA_KEY, digest)
    with _lock:
        _active.update(at=0.0, versions=None, rules=None)
    return definitions


def import_disk_file(path):
    """At start: take workflows.yaml if its text changed since the last import."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with db.connection_context():
        if SystemSetting.read(DISK_SHA_KEY) == sha256(text) and SystemSetting.read(ACTIVE_KEY):
            return False
        accept(text, origin="file", source=str(path).rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
        return True


def active_versions():
    return dict(_fresh_active()[0])


def workflow(key, version=None):
    """A stored workflow version (the active one when no version is given)."""
    if version is None:
        version = active_versions().get(key)
        if version is None:
            raise KeyError(f"没有名为 {key} 的流程")
    with _lock:
        cached = _versions.get((key, version))
    if cached is not None:
        return cached
    row = WorkflowVersion.get(WorkflowVersion.key == key, WorkflowVersion.version == version)
    wf = from_canonical(key, row.canonical)
    with _lock:
        _versions[(key, version)] = wf
    return wf


def latest_file():
    return WorkflowFile.select().order_by(WorkflowFile.id.desc()).first()


def auto_open_rules():
    """The auto_open rules of the active file."""
    return _fresh_active()[1][0]


def notices():
    """The notice texts of the active file, by kind (defaults for the kinds it does not write)."""
    return _fresh_active()[1][1]


def classifications():
    """The classification list of the active file (分类处置); empty when the file does not write one."""
    return _fresh_active()[1][2]
