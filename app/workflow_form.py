"""The procedure editor's forms, read from and written back into the text of workflows.yaml.

`to_form(text, key)` gives one procedure as plain data for the form; `apply_form(text, key, form)`
writes the form back with ruamel.yaml's round trip, touching only what changed: the office's
comments, key order and one-line `{amount: 1, unit: workdays}` maps stay as they were, so the file
remains the single readable, diffable source. A stage renamed keeps its id: only its title changes.
"""
import datetime
import io
import re

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from app.workflow.schema import DEFAULT_CLASSIFICATIONS, DEFAULT_NOTICES, NOTICE_KINDS, NOTIFY_KEYS, REQUIRABLE

STAGE_ORDER = ("title", "role", "unit", "deadline", "pausable", "extension", "final", "actions")
ACTION_ORDER = ("title", "to", "role", "require", "when", "effect", "deadline", "reopen_to", "reopen_on",
                "co_units", "after_co_answers")
WORKFLOW_ORDER = ("title", "version", "effective", "note", "start", "max_transfers", "escalation",
                  "templates", "stages")
ESCALATION_ORDER = ("remind_before", "red_after", "notify")
TOP_ORDER = ("workflows", "auto_open", "classifications", "notices")
IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


class FormError(ValueError):
    """The form's data cannot be written at all (not a validation problem of the procedure)."""


def _yaml():
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096  # a long Chinese text stays on its line
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _load(text):
    return _yaml().load(text)


def _dump(data):
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def _flow(mapping):
    value = CommentedMap(mapping)
    value.fa.set_flow_style()
    return value


def _flow_list(items):
    value = CommentedSeq(items)
    value.fa.set_flow_style()
    return value


# --- reading --------------------------------------------------------------------------------------
def _duration(value):
    if not isinstance(value, dict):
        return {"amount": None, "unit": "workdays", "from": "stage_entry"}
    return {"amount": value.get("amount"), "unit": value.get("unit", "workdays"),
            "from": value.get("from", "stage_entry")}


def _text(value):
    return "" if value is None else str(value)


def to_form(text, key):
    """One procedure of the file as the form's data (plain lists and dicts, JSON-ready)."""
    data = _load(text) or {}
    wf = (data.get("workflows") or {}).get(key)
    if not isinstance(wf, dict):
        raise KeyError(key)
    stages = []
    for sid, raw in (wf.get("stages") or {}).items():
        raw = raw if isinstance(raw, dict) else {}
        unit = raw.get("unit", "any")
        ext = raw.get("extension") if isinstance(raw.get("extension"), dict) else {}
        actions = []
        for aid, act in (raw.get("actions") or {}).items():
            act = act if isinstance(act, dict) else {}
            require = act.get("require") if isinstance(act.get("require"), list) else []
            actions.append({"id": str(aid), "title": _text(act.get("title")), "to": _text(act.get("to")),
                            "role": _text(act.get("role")), "require": [str(r) for r in require],
                            "effect": _text(act.get("effect")), "co_units": act.get("co_units") is True,
                            "after_co_answers": act.get("after_co_answers") is True,
                            "reopen_to": _text(act.get("reopen_to"))})
        stages.append({
            "id": str(sid), "title": _text(raw.get("title")), "role": _text(raw.get("role")),
            "unit": "fixed" if isinstance(unit, dict) else _text(unit),
            "unit_code": _text(unit.get("fixed")) if isinstance(unit, dict) else "",
            "deadline": _duration(raw.get("deadline")), "pausable": raw.get("pausable") is True,
            "extension": {"approver": _text(ext.get("approver")), **_duration(ext.get("max"))},
            "final": _text(raw.get("final")), "actions": actions})
    esc = wf.get("escalation") if isinstance(wf.get("escalation"), dict) else {}
    notify = esc.get("notify") if isinstance(esc.get("notify"), dict) else {}
    templates = [{"title": _text(t.get("title")), "text": _text(t.get("text"))}
                 for t in (wf.get("templates") or []) if isinstance(t, dict)]
    notices = data.get("notices") if isinstance(data.get("notices"), dict) else {}
    classifications = data.get("classifications")
    effective = wf.get("effective")
    return {
        "key": key, "title": _text(wf.get("title")), "note": _text(wf.get("note")),
        "version": wf.get("version"),
        "effective": effective.isoformat() if isinstance(effective, datetime.date) else _text(effective),
        "start": _text(wf.get("start")), "stages": stages,
        "escalation": {
            "remind_before": _duration(esc.get("remind_before")), "red_after": _duration(esc.get("red_after")),
            "notify": {level: [str(r) for r in (notify.get(level) or [])] for level in NOTIFY_KEYS}},
        "templates": templates,
        "notices": {kind: _text(notices.get(kind, DEFAULT_NOTICES[kind])) for kind in NOTICE_KINDS},
        "classifications": [str(c) for c in (classifications if isinstance(classifications, list)
                                             else DEFAULT_CLASSIFICATIONS)],
        "classifications_in_file": isinstance(classifications, list),
    }


def workflow_keys(text):
    """[(key, title)] of the file's procedures, in its order."""
    data = _load(text) or {}
    workflows = data.get("workflows") if isinstance(data, dict) else None
    return [(str(k), _text(v.get("title")) if isinstance(v, dict) else str(k))
            for k, v in (workflows or {}).items()]


# --- writing --------------------------------------------------------------------------------------
def _place(mapping, key, value, order):
    """Set `key` only when its value differs; a new key goes where `order` puts it."""
    if key in mapping:
        if mapping[key] != value:
            mapping[key] = value
        return
    rank = order.index(key) if key in order else len(order)
    position = sum(1 for k in mapping if (order.index(k) if k in order else len(order)) <= rank)
    mapping.insert(position, key, value)


def _put(mapping, key, value, default, order):
    """Like _place, but a value equal to the default is left out of the file."""
    if value == default:
        if key in mapping and mapping[key] != default:
            del mapping[key]
        return
    _place(mapping, key, value, order)


def _put_duration(mapping, key, form, order, with_from=True):
    """A duration `{amount, unit[, from]}` kept on one line; no amount: the key goes away."""
    amount = _amount(form.get("amount") if isinstance(form, dict) else None)
    if amount is None:
        if key in mapping:
            del mapping[key]
        return
    unit = str(form.get("unit") or "workdays")
    start = str(form.get("from") or "stage_entry") if with_from else "stage_entry"
    current = mapping.get(key)
    if isinstance(current, CommentedMap):
        if current.get("amount") != amount:
            current["amount"] = amount
        if current.get("unit") != unit:
            current["unit"] = unit
        if with_from:
            _put(current, "from", start, "stage_entry", ("amount", "unit", "from"))
        return
    value = {"amount": amount, "unit": unit}
    if with_from and start != "stage_entry":
        value["from"] = start
    _place(mapping, key, _flow(value), order)


def _amount(value):
    """The number typed (kept as typed when it is not a whole number, for the checker to name)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if re.fullmatch(r"[0-9]{1,6}", text) else text


def _reorder(mapping, keys):
    """Put the mapping's keys in `keys`' order (moving only when the order changed)."""
    if list(mapping.keys()) == list(keys):
        return
    for position, key in enumerate(keys):
        if list(mapping.keys())[position] != key:
            value = mapping.pop(key)
            mapping.insert(position, key, value)


def _ident(value, fallback):
    value = str(value or "")
    return value if IDENT.match(value) else fallback


def _row_ids(rows, prefix):
    """The id of each posted stage or action: its own, else prefix_N; never the same twice."""
    ids = []
    for i, row in enumerate(rows):
        ident = _ident(row.get("id"), f"{prefix}_{i + 1}")
        while ident in ids:
            ident += "_2"
        ids.append(ident)
    return ids


def _apply_action(mapping, aid, form, new):
    act = mapping.get(aid) if not new else None
    if not isinstance(act, CommentedMap):
        act = _flow({})
        mapping[aid] = act
    _place(act, "title", str(form.get("title") or ""), ACTION_ORDER)
    _place(act, "to", str(form.get("to") or ""), ACTION_ORDER)
    _put(act, "role", str(form.get("role") or ""), "", ACTION_ORDER)
    wanted = [r for r in form.get("require") or [] if isinstance(r, str)]
    current = act.get("require") if isinstance(act.get("require"), list) else []
    if set(wanted) != set(current) or len(wanted) != len(current):
        kept = [r for r in current if r in wanted]
        added = [r for r in REQUIRABLE if r in wanted and r not in kept] + \
            [r for r in wanted if r not in REQUIRABLE and r not in kept]
        if kept or added:
            if isinstance(act.get("require"), CommentedSeq):
                act["require"][:] = kept + added
            else:
                _place(act, "require", _flow_list(kept + added), ACTION_ORDER)
        elif "require" in act:
            del act["require"]
    _put(act, "effect", str(form.get("effect") or ""), "", ACTION_ORDER)
    _put(act, "reopen_to", str(form.get("reopen_to") or ""), "", ACTION_ORDER)
    for flag in ("co_units", "after_co_answers"):
        _put(act, flag, bool(form.get(flag)), False, ACTION_ORDER)


def _apply_stage(stage, form):
    _place(stage, "title", str(form.get("title") or ""), STAGE_ORDER)
    _place(stage, "role", str(form.get("role") or ""), STAGE_ORDER)
    unit = str(form.get("unit") or "any")
    current = stage.get("unit", "any")
    if unit == "fixed":
        code = str(form.get("unit_code") or "")
        if not (isinstance(current, dict) and current.get("fixed") == code):
            _place(stage, "unit", _flow({"fixed": code}), STAGE_ORDER)
    elif current != unit:
        _put(stage, "unit", unit, "any", STAGE_ORDER)
    _put_duration(stage, "deadline", form.get("deadline") or {}, STAGE_ORDER)
    _put(stage, "pausable", bool(form.get("pausable")), False, STAGE_ORDER)
    ext = form.get("extension") or {}
    approver = str(ext.get("approver") or "")
    if not approver:
        if "extension" in stage:
            del stage["extension"]
    else:
        current = stage.get("extension")
        if not isinstance(current, CommentedMap):
            current = _flow({})
            _place(stage, "extension", current, STAGE_ORDER)
        _place(current, "approver", approver, ("approver", "max"))
        _put_duration(current, "max", ext, ("approver", "max"), with_from=False)
    _put(stage, "final", str(form.get("final") or ""), "", STAGE_ORDER)
    actions_form = [a for a in form.get("actions") or [] if isinstance(a, dict)]
    if not actions_form:
        if "actions" in stage:
            del stage["actions"]
        return
    actions = stage.get("actions")
    if not isinstance(actions, CommentedMap):
        actions = CommentedMap()
        _place(stage, "actions", actions, STAGE_ORDER)
    ids = _row_ids(actions_form, "action")
    for aid, act in zip(ids, actions_form):
        _apply_action(actions, aid, act, new=aid not in actions)
    for aid in [a for a in actions if a not in ids]:
        del actions[aid]
    _reorder(actions, ids)


def _apply_escalation(wf, form):
    if not isinstance(form, dict):
        return
    esc = wf.get("escalation")
    created = not isinstance(esc, CommentedMap)
    if created:
        esc = CommentedMap()
    _put_duration(esc, "remind_before", form.get("remind_before") or {}, ESCALATION_ORDER, with_from=False)
    _put_duration(esc, "red_after", form.get("red_after") or {}, ESCALATION_ORDER, with_from=False)
    levels = form.get("notify") or {}
    notify = esc.get("notify")
    for level in NOTIFY_KEYS:
        wanted = [r for r in levels.get(level) or [] if isinstance(r, str)]
        current = notify.get(level) if isinstance(notify, dict) else None
        if list(current or []) == wanted or (current is not None and set(current) == set(wanted)
                                              and len(current) == len(wanted)):
            continue
        if not isinstance(notify, CommentedMap):
            notify = CommentedMap()
            _place(esc, "notify", notify, ESCALATION_ORDER)
        if wanted:
            if isinstance(current, CommentedSeq):
                current[:] = wanted
            else:
                _place(notify, level, _flow_list(wanted), ("remind", "yellow", "red"))
        elif level in notify:
            del notify[level]
    if isinstance(notify, CommentedMap) and not notify:
        del esc["notify"]
    if created and esc:
        _place(wf, "escalation", esc, WORKFLOW_ORDER)
    elif not created and not esc:
        del wf["escalation"]


def _apply_templates(wf, form):
    rows = [t for t in form if isinstance(t, dict)] if isinstance(form, list) else []
    current = wf.get("templates")
    if not rows:
        if "templates" in wf:
            del wf["templates"]
        return
    if not isinstance(current, CommentedSeq):
        current = CommentedSeq()
        _place(wf, "templates", current, WORKFLOW_ORDER)
    for i, row in enumerate(rows):
        title, text = str(row.get("title") or ""), str(row.get("text") or "")
        if i < len(current) and isinstance(current[i], CommentedMap):
            _place(current[i], "title", title, ("title", "text"))
            _place(current[i], "text", text, ("title", "text"))
        else:
            current.append(CommentedMap([("title", title), ("text", text)]))
    del current[len(rows):]


def _apply_top(data, form):
    notices_form = form.get("notices")
    if isinstance(notices_form, dict):
        notices = data.get("notices")
        for kind in NOTICE_KINDS:
            if kind not in notices_form:
                continue
            wanted = str(notices_form[kind] or "").strip()
            current = notices.get(kind) if isinstance(notices, dict) else None
            if current is not None and current == wanted:
                continue
            if current is None and wanted in ("", DEFAULT_NOTICES[kind]):
                continue
            if not isinstance(notices, CommentedMap):
                notices = CommentedMap()
                _place(data, "notices", notices, TOP_ORDER)
            if wanted:
                _place(notices, kind, wanted, NOTICE_KINDS)
            else:
                del notices[kind]  # an emptied text: the program's default again
    wanted = form.get("classifications")
    if isinstance(wanted, list):
        wanted = [str(c).strip() for c in wanted if str(c).strip()]
        current = data.get("classifications")
        if isinstance(current, CommentedSeq):
            if list(current) != wanted:
                current[:] = wanted
        elif wanted != list(DEFAULT_CLASSIFICATIONS):
            _place(data, "classifications", _flow_list(wanted), TOP_ORDER)


def apply_form(text, key, form):
    """The file's text with procedure `key` as the form says; what the form did not change stays byte for byte."""
    if not isinstance(form, dict):
        raise FormError("表单数据应当是一组键值")
    data = _load(text)
    workflows = data.get("workflows") if isinstance(data, dict) else None
    wf = workflows.get(key) if isinstance(workflows, dict) else None
    if not isinstance(wf, CommentedMap):
        raise FormError(f"文件里没有流程 {key}")
    for name in ("title", "note"):
        if name in form:
            _place(wf, name, str(form.get(name) or ""), WORKFLOW_ORDER)
    effective = str(form.get("effective") or "")
    if effective and _text(wf.get("effective")) != effective:
        try:
            _place(wf, "effective", datetime.date.fromisoformat(effective), WORKFLOW_ORDER)
        except ValueError:
            _place(wf, "effective", effective, WORKFLOW_ORDER)  # the checker names it
    if form.get("start"):
        _place(wf, "start", str(form["start"]), WORKFLOW_ORDER)
    stages_form = [s for s in form.get("stages") or [] if isinstance(s, dict)]
    if "stages" in form:
        stages = wf.get("stages")
        if not isinstance(stages, CommentedMap):
            stages = CommentedMap()
            _place(wf, "stages", stages, WORKFLOW_ORDER)
        ids = _row_ids(stages_form, "stage")
        for sid, sform in zip(ids, stages_form):
            stage = stages.get(sid)
            if not isinstance(stage, CommentedMap):
                stage = CommentedMap()
                stages[sid] = stage
            _apply_stage(stage, sform)
        for sid in [s for s in stages if s not in ids]:
            del stages[sid]
        _reorder(stages, ids)
    if "escalation" in form:
        _apply_escalation(wf, form["escalation"])
    if "templates" in form:
        _apply_templates(wf, form["templates"])
    _apply_top(data, form)
    return _dump(data)


def new_id(prefix, taken):
    """The first free `prefix_N` (stage_2, action_3…): the office never types an id."""
    n = 1
    while f"{prefix}_{n}" in taken:
        n += 1
    return f"{prefix}_{n}"
