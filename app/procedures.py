"""Accepted procedures, stored immutably: each workflow version once, each file text once.

The API the rule screens (text view and form editor) save through:

- `save(text, base, user, origin="editor", stage_map=None, at=None)` stores a new text of
  workflows.yaml and returns its WorkflowFile. `base` is the id of the WorkflowFile the editor
  started from (None only for the file read at start, which names no base). Raises
  `StaleBase` when someone saved since (never merges), `WorkflowFileError` for an invalid or
  incomplete file, `StagesNeedMapping` when open tickets sit in a stage the new text removes
  and `stage_map` ({workflow: {old_stage: new_stage}}) does not say where they go.
  Version numbers are the system's: a workflow whose content changed becomes max stored + 1,
  an unchanged one keeps its number, a new one keeps the number its text gives, and the `version:` line is rewritten in the text (nothing
  else of the office's text changes). The returned file carries `.versions` ({key: number} of
  the versions this save created), `.moved` (codes of the tickets moved) and `.file_problem`
  (None, or why workflows.yaml on disk could not be written).
- `restore(file_id, user, base)`: an old text becomes the new version(s), same errors.
- `active_versions(at=None)`: per workflow, the version tickets registered at `at` follow:
  the highest one whose `effective` date has come (a workflow's first version serves from the
  day it is saved, there being no other). `scheduled()` lists the versions still to come.

A ticket keeps the version it started on: `workflow(key, version)` rebuilds any stored version.
"""
import datetime
import difflib
import hashlib
import json
import os
import re
import tempfile
import threading
import time

from app.i18n import in_chinese
from app.roles import CASE_ROLES, role_label
from app.workflow.errors import Problem, WorkflowFileError
from app.workflow.schema import DEFAULT_CLASSIFICATIONS, DEFAULT_NOTICES, from_canonical, load_text
from models import SystemSetting, Ticket, Unit, User, WorkflowFile, WorkflowVersion, db, now

ACTIVE_KEY = "active_workflows"      # {"problem": 1, ...}: the latest version of each, as saved
DISK_SHA_KEY = "workflows_file_sha"  # the last text read from (or written to) the disk file
LATEST_KEY = "workflows_latest_file"  # the latest file's id: two saves on one base, one wins
FILE_ERROR_KEY = "workflows_file_error"  # why the disk file was not taken at start ("" when fine)

# The parts of the product that open tickets in a named workflow, and what stops without it.
REQUIRED = {
    "message": "留言板（/board）将无法受理留言",
    "enterprise": "涉企诉求渠道（企业诉求登记、政企座谈会）将无法登记诉求",
    "appeal": "评价申诉将无法受理",
}

_versions = {}  # (key, version) -> Workflow; versions never change, so this never goes stale
_rules = {}     # file sha -> (auto_open rules, notice texts, classifications)
_active = {"at": 0.0, "versions": None, "rules": None, "schedule": None}  # re-read every few seconds
ACTIVE_SECONDS = 5  # another process's save is seen within seconds; this process's at once
_lock = threading.Lock()


class StaleBase(Exception):
    """The editor's text was based on an older file: `latest`, `diff` (base → latest), `message`."""

    def __init__(self, latest, diff, message):
        self.latest, self.diff, self.message = latest, diff, message
        super().__init__(message)


class StagesNeedMapping(Exception):
    """Open tickets sit in stages the new text removes; `groups` says which, and the choices."""

    def __init__(self, groups):
        self.groups = groups
        super().__init__("；".join(f"{g['workflow']} 第 {g['version']} 版环节“{g['stage_title']}”有 {g['count']} 件在办工单"
                                  for g in groups))


def clear_cache():
    """Forget parsed versions: for a new app bound to another database (tests, tools)."""
    with _lock:
        _versions.clear()
        _rules.clear()
        _forget_active()


def _forget_active():
    _active.update(at=0.0, versions=None, rules=None, schedule=None)


def _fresh_active():
    """The latest versions, their schedule and the auto_open rules, read at most every few seconds."""
    with _lock:
        if _active["versions"] is not None and time.monotonic() - _active["at"] < ACTIVE_SECONDS:
            return _active["versions"], _active["schedule"], _active["rules"]
    versions = json.loads(SystemSetting.read(ACTIVE_KEY, "{}"))
    schedule = {}
    for key, version, effective in (WorkflowVersion.select(WorkflowVersion.key, WorkflowVersion.version,
                                                           WorkflowVersion.effective)
                                    .order_by(WorkflowVersion.version.desc()).tuples()):
        if isinstance(effective, str):
            effective = datetime.date.fromisoformat(effective[:10])
        schedule.setdefault(key, []).append((version, effective))
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
        _active.update(at=time.monotonic(), versions=versions, schedule=schedule, rules=rules)
    return versions, schedule, rules


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def role_labels():
    """The roles a procedure may name, with their Chinese labels (the checker's "did you mean leader?")."""
    with in_chinese():
        return {role: str(role_label(role)) for role in CASE_ROLES}


def unit_codes():
    return {code for (code,) in Unit.select(Unit.code).tuples()}


def _day(at):
    at = at or now()
    return at.date() if isinstance(at, datetime.datetime) else at


# --- what is in force -------------------------------------------------------------------------
def active_versions(at=None):
    """{key: version} for a ticket registered at `at` (now): the newest version in force that day."""
    latest, schedule, _ = _fresh_active()
    day = _day(at)
    result = {}
    for key, newest in latest.items():
        known = [(v, eff) for v, eff in schedule.get(key, ()) if v <= newest]
        in_force = [v for v, eff in known if eff <= day]
        if in_force or known:
            result[key] = in_force[0] if in_force else known[-1][0]  # before any date: the first version
    return result


def scheduled(at=None):
    """[(key, version, effective)] saved but not yet in force, soonest first."""
    latest, schedule, _ = _fresh_active()
    day, current = _day(at), active_versions(at)
    return sorted(((key, v, eff) for key in latest for v, eff in schedule.get(key, ())
                   if current.get(key) is not None and v > current[key] and v <= latest[key] and eff > day),
                  key=lambda row: (row[2], row[0]))


def workflow(key, version=None, at=None):
    """A stored workflow version (the one in force at `at`, now, when no version is given)."""
    if version is None:
        version = active_versions(at).get(key)
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
    return _fresh_active()[2][0]


def notices():
    """The notice texts of the active file, by kind (defaults for the kinds it does not write)."""
    return _fresh_active()[2][1]


def classifications():
    """The classification list of the active file (分类处置), or the program's own list."""
    return _fresh_active()[2][2] or DEFAULT_CLASSIFICATIONS


def file_error():
    """Why the disk file was not taken at start ("" when it was, or has been fixed since)."""
    return SystemSetting.read(FILE_ERROR_KEY, "") or ""


# --- checking a text --------------------------------------------------------------------------
def _content(canonical):
    """A version's definition without its number: what decides whether it changed."""
    data = json.loads(canonical)
    data.pop("version", None)
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _stored_latest(key):
    return WorkflowVersion.select().where(WorkflowVersion.key == key).order_by(WorkflowVersion.version.desc()).first()


def _rt_document(text):
    from ruamel.yaml import YAML
    return YAML(typ="rt").load(text)


def _where(doc, *keys):
    """(line, col), 1-based, of a key in the round-trip document; (1, 1) when not found."""
    try:
        node = doc
        for key in keys[:-1]:
            node = node[key]
        line, col = node.lc.key(keys[-1])
        return line + 1, col + 1
    except (AttributeError, KeyError, TypeError):
        return 1, 1


def _completeness(definitions, doc, source):
    """A Problem for each part of the product the text would leave without its procedure."""
    problems = []
    line, col = _where(doc, "workflows")
    for key, what in REQUIRED.items():
        if key not in definitions.workflows:
            problems.append(Problem(source, line, col, ("workflows",), f"缺少流程 {key}：{what}"))
    for rule in definitions.auto_open:
        if rule.workflow not in definitions.workflows:
            problems.append(Problem(source, line, col, ("workflows",),
                                    f"缺少流程 {rule.workflow}：auto_open 规定的差评自动立案将无法办理"))
    return problems


def _renumber(text, definitions, doc):
    """The text with the system's version numbers, and {key: number} of the new versions."""
    lines = text.split("\n")
    created = {}
    for key, wf in definitions.workflows.items():
        latest = _stored_latest(key)
        if latest is None:  # a workflow's first version keeps the file's number (the shipped file's 2)
            number = created[key] = wf.version
        elif _content(latest.canonical) == _content(wf.canonical()):
            number = latest.version
        else:
            number = created[key] = latest.version + 1
        if number == wf.version:
            continue
        row, col = doc["workflows"][key].lc.value("version")
        old = lines[row]
        match = re.compile(r"[^\s,}#]+").match(old, col)
        lines[row] = old[:col] + str(number) + old[match.end() if match else col:]
    return "\n".join(lines), created


def prepare(text, source="workflows.yaml"):
    """(final text, Definitions, {key: new version}) of a text, or WorkflowFileError.

    Checks shape, references and completeness; gives the version numbers. Reads, never writes.
    """
    text = text.replace("\r\n", "\n")
    definitions = load_text(text, source=source, unit_codes=unit_codes(), roles=role_labels())
    doc = _rt_document(text)
    problems = _completeness(definitions, doc, source)
    if problems:
        raise WorkflowFileError(problems)
    final, created = _renumber(text, definitions, doc)
    if final != text:
        definitions = load_text(final, source=source, unit_codes=unit_codes(), roles=role_labels())
    return final, definitions, created


def validate(text, source="workflows.yaml"):
    """Definitions of a text, or WorkflowFileError (a check: nothing is written)."""
    return prepare(text, source)[1]


# --- open tickets in removed stages ---------------------------------------------------------
def _mapping_groups(definitions, created, at):
    """Groups of open tickets sitting in stages the new versions (in force now) no longer have."""
    groups = []
    for key, number in created.items():
        new = definitions.workflows[key]
        if new.effective > _day(at):
            continue  # a scheduled version: tickets registered before keep theirs
        previous = workflow(key, number - 1) if WorkflowVersion.select().where(
            WorkflowVersion.key == key, WorkflowVersion.version == number - 1).exists() else None
        removed = [s for s in (previous.stages if previous else {}) if s not in new.stages]
        if not removed:
            continue
        choices = [(s.id, s.title) for s in new.stages.values() if not s.final]
        rows = (Ticket.select(Ticket.code, Ticket.workflow_version, Ticket.stage)
                .where(Ticket.workflow == key, Ticket.status == "open", Ticket.stage.in_(removed))
                .order_by(Ticket.workflow_version, Ticket.stage, Ticket.id).tuples())
        by_group = {}
        for code, version, stage in rows:
            by_group.setdefault((version, stage), []).append(code)
        for (version, stage), codes in by_group.items():
            old_stage = workflow(key, version).stages.get(stage)
            groups.append({"workflow": key, "workflow_title": new.title, "version": version, "stage": stage,
                           "stage_title": old_stage.title if old_stage else stage, "count": len(codes),
                           "codes": codes, "choices": choices})
    return groups


def _uncovered(groups, stage_map):
    stage_map = stage_map or {}
    return [g for g in groups
            if stage_map.get(g["workflow"], {}).get(g["stage"]) not in {c[0] for c in g["choices"]}]


# --- saving ---------------------------------------------------------------------------------
def _stale(base, latest):
    old = WorkflowFile.get_or_none(WorkflowFile.id == base) if base is not None else None
    diff = list(difflib.unified_diff((old.text if old else "").splitlines(), latest.text.splitlines(),
                                     "您开始修改时的文本", "现在的最新文本", lineterm="", n=2))
    who = User.get_or_none(User.id == latest.created_by_id) if latest.created_by_id else None
    name = (who.full_name or who.username) if who else "workflows.yaml 文件"
    return StaleBase(latest, diff, f"没有保存：在您修改期间，{name} 已于 {latest.created_at:%Y-%m-%d %H:%M} "
                                   "保存了新的流程规则。")  # each screen says how its own kept work goes on


def _claim_latest(base_id, new_id):
    """Compare-and-set of the latest file id: of two saves on one base, the second finds 0 rows."""
    if base_id is None:
        SystemSetting.write(LATEST_KEY, new_id)
        return True
    SystemSetting.insert(key=LATEST_KEY, value=str(base_id)).on_conflict_ignore().execute()
    return SystemSetting.update(value=str(new_id)).where(SystemSetting.key == LATEST_KEY,
                                                         SystemSetting.value == str(base_id)).execute() == 1


def save(text, base, user, origin="editor", stage_map=None, at=None, source="workflows.yaml"):
    """Check, number and store a new text of the procedures (see the module's docstring)."""
    from app import tickets  # tickets reads procedures at import; moving tickets is tickets' work
    at = at or now()
    with db.atomic():
        latest = latest_file()
        if base is not None and (latest is None or latest.id != base):
            raise _stale(base, latest) if latest is not None else WorkflowFileError(
                [Problem(source, 1, 1, (), "没有找到您开始修改时的流程文本，请重新打开编辑页面。")])
        final, definitions, created = prepare(text, source)
        # the file read at start cannot ask: its tickets keep the version they are on
        groups = _mapping_groups(definitions, created, at) if origin != "file" else []
        if _uncovered(groups, stage_map):
            raise StagesNeedMapping(groups)
        if latest is not None and latest.sha256 == sha256(final):
            stored = latest
        else:
            for key, number in created.items():
                wf = definitions.workflows[key]
                WorkflowVersion.create(key=key, version=number, title=wf.title, note=wf.note,
                                       effective=wf.effective, canonical=wf.canonical(),
                                       sha256=sha256(wf.canonical()), created_by=user, created_at=at)
            stored = WorkflowFile.create(text=final, sha256=sha256(final), origin=origin, created_by=user,
                                         created_at=at)
            if not _claim_latest(latest.id if latest is not None and base is not None else None, stored.id):
                raise _stale(base, latest_file())
        SystemSetting.write(ACTIVE_KEY, json.dumps({k: w.version for k, w in definitions.workflows.items()}))
        with _lock:
            _forget_active()
        moved = []
        for group in groups:
            target = workflow(group["workflow"], created[group["workflow"]])
            new_stage = stage_map[group["workflow"]][group["stage"]]
            comment = (f"流程调整：环节“{group['stage_title']}”已删除，改到“{target.stages[new_stage].title}”办理，"
                       f"时限重新计算")
            for ticket in Ticket.select().where(Ticket.code.in_(group["codes"]), Ticket.status == "open",
                                                Ticket.stage == group["stage"]):
                tickets.move_ticket(ticket, target, new_stage, user, at, comment)
                moved.append(ticket.code)
    with _lock:
        _forget_active()
    stored.versions, stored.moved = created, moved
    stored.file_problem = _write_disk(final) if origin != "file" else None
    return stored


def restore(file_id, user, base):
    """An earlier text of the procedures becomes the new version(s), renumbered."""
    old = WorkflowFile.get_or_none(WorkflowFile.id == file_id)
    if old is None:
        raise WorkflowFileError([Problem("workflows.yaml", 1, 1, (), f"没有第 {file_id} 号流程文本。")])
    return save(old.text, base, user, origin="restore")


def accept(text, origin="editor", user=None, source="workflows.yaml"):
    """Store a text on whatever is latest (scripts and tests); returns its Definitions."""
    stored = save(text, None, user, origin=origin, source=source)
    return load_text(stored.text, source=source, roles=CASE_ROLES)


# --- the file on disk -----------------------------------------------------------------------
def disk_path():
    from flask import current_app, has_app_context
    return current_app.config.get("WORKFLOWS_PATH") if has_app_context() else None


def _write_disk(text, path=None):
    """Write workflows.yaml atomically (temp file, then rename); None, or why it could not."""
    path = path or disk_path()
    if not path:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=".workflows-",
                                         suffix=".tmp", delete=False, newline="\n") as f:
            f.write(text)
            temp = f.name
        try:
            if os.path.exists(path):
                os.chmod(temp, os.stat(path).st_mode & 0o777)
            os.replace(temp, path)
        except OSError:
            os.unlink(temp)
            raise
    except OSError as exc:
        return f"流程已保存到数据库，但无法写入文件 {path}（{exc.strerror or exc}）：请让管理员检查该文件的写入权限。"
    SystemSetting.write(DISK_SHA_KEY, sha256(text))
    SystemSetting.write(FILE_ERROR_KEY, "")
    return None


def read_disk(path):
    """The text of the disk file, or WorkflowFileError with one Chinese line (missing, unreadable)."""
    name = str(path).replace("\\", "/").rsplit("/", 1)[-1]
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise WorkflowFileError([Problem(name, 1, 1, (), f"找不到流程文件 {path}")])
    except OSError as exc:
        raise WorkflowFileError([Problem(name, 1, 1, (), f"无法读取流程文件 {path}（{exc.strerror or exc}）")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise WorkflowFileError([Problem(name, line, 1, (), "文件不是 UTF-8 编码：请用记事本“另存为”并选择 UTF-8 编码")])


def import_disk_file(path):
    """At start: take workflows.yaml when its text differs from the latest stored text.

    A text already read once is not taken again (the screen may have saved since, and the file
    could not be written). Raises WorkflowFileError; the caller decides whether to go on.
    """
    text = read_disk(path)
    name = str(path).replace("\\", "/").rsplit("/", 1)[-1]
    with db.connection_context():
        latest = latest_file()
        digest = sha256(text)
        if latest is not None and (latest.sha256 == digest or SystemSetting.read(DISK_SHA_KEY) == digest) \
                and SystemSetting.read(ACTIVE_KEY):
            if file_error():
                SystemSetting.write(FILE_ERROR_KEY, "")
            return False
        stored = save(text, None, None, origin="file", source=name)
        SystemSetting.write(DISK_SHA_KEY, digest)
        SystemSetting.write(FILE_ERROR_KEY, "")
        if stored.text != text:  # renumbered: the file says what the database says
            _write_disk(stored.text, path)
        return True


def record_file_error(message):
    with db.connection_context():
        SystemSetting.write(FILE_ERROR_KEY, message)
