"""Loads workflows.yaml and checks it: a shape pass, then a cross-reference pass.

Every mistake is collected before anything is reported, each as
`workflows.yaml:LINE:COL: 流程“…”环节“…”的时限: message` in Chinese (the place named by
errors.describe), with "did you mean" for typos and the exact fix for an office worker's slips.
"""
import datetime
import difflib
import json
import re
from dataclasses import dataclass, field

import yaml

from app.workflow.errors import Problem, WorkflowFileError, describe

DURATION_UNITS = ("days", "hours", "workdays")
DURATION_FROM = ("created", "stage_entry")
CLOSING_KINDS = ("explained", "not_accepted", "solved")
REQUIRABLE = ("attachment", "classification", "comment", "grade", "reply", "result", "unit")
EFFECTS = ("exclude_evaluation", "grade", "return", "transfer")
TRANSFER_DEADLINE = ("continue", "restart")
CONDITION_KEYS = ("source",)
CHANNEL_IDS = ("hotline", "inspection", "kiosk", "qr", "symposium", "visit", "web")
LEVEL_IDS = ("average", "basically_satisfied", "dissatisfied", "satisfied", "very_dissatisfied", "very_satisfied")
GRADES = ("basically_satisfied", "dissatisfied", "satisfied")
# Ids of the actions the engine adds by itself (pause, extension, merge): not for the file.
RESERVED_ACTIONS = ("co_answer", "extend_approve", "extend_reject", "extend_request", "merge", "pause",
                    "resume")

TOP_KEYS = {"workflows": True, "auto_open": False, "notices": False, "classifications": False}
WORKFLOW_KEYS = {"title": True, "version": True, "effective": True, "note": True, "start": True,
                 "stages": True, "max_transfers": False, "escalation": False, "templates": False}
STAGE_KEYS = {"title": True, "role": True, "unit": False, "deadline": False, "final": False,
              "actions": False, "extension": False, "pausable": False}
ACTION_KEYS = {"title": True, "to": True, "role": False, "require": False, "when": False,
               "effect": False, "deadline": False, "reopen_to": False, "reopen_on": False,
               "co_units": False, "after_co_answers": False}
DURATION_KEYS = {"amount": True, "unit": True, "from": False}
ESCALATION_KEYS = {"remind_before": False, "red_after": False, "notify": False}
NOTIFY_KEYS = ("red", "remind", "yellow")
EXTENSION_KEYS = {"approver": True, "max": True}
TEMPLATE_KEYS = {"title": True, "text": True}
AUTO_OPEN_KEYS = {"when": True, "workflow": True}
AUTO_WHEN_KEYS = ("channel", "level", "reasons")

# The texts of the notices that go out (app/outbox.py), by kind, and the placeholders each may use.
# A citizen's text may name the unit, the stage, her query code, the deadline, the link and the
# public reply: never the complaint, the internal result or comments, nor an officer.
OFFICER_PLACEHOLDERS = ("code", "days", "due", "link", "stage", "title", "unit")
CITIZEN_PLACEHOLDERS = ("code", "due", "link", "reply", "stage", "unit")
OFFICER_NOTICES = ("co_chase", "co_handling", "extension", "extend_approved", "extend_rejected",
                   "new_work", "red", "remind", "yellow")
CITIZEN_NOTICES = ("citizen_accepted", "citizen_reopened", "citizen_replied", "citizen_transfer")
NOTICE_KINDS = OFFICER_NOTICES + CITIZEN_NOTICES
DEFAULT_NOTICES = {
    "new_work": "【直通车】{code}“{title}”已到“{stage}”环节，请在 {due} 前办理：{link}",
    "remind": "【直通车】{code}“{title}”在“{stage}”环节即将到期，时限 {due}：{link}",
    "yellow": "【直通车】{code}“{title}”在“{stage}”环节已到期（黄牌），时限 {due}：{link}",
    "red": "【直通车】{code}“{title}”在“{stage}”环节超期（红牌），时限 {due}：{link}",
    "co_handling": "【直通车】{code}“{title}”请{unit}协办，答复后主办单位方可报结：{link}",
    "co_chase": "【直通车】催办：{code}“{title}”仍在等待{unit}的协办答复，请尽快答复：{link}",
    "extension": "【直通车】{code}“{title}”申请延期 {days} 天，请审批：{link}",
    "extend_approved": "【直通车】{code}“{title}”的延期申请已批准，新的时限 {due}：{link}",
    "extend_rejected": "【直通车】{code}“{title}”的延期申请未获批准，时限仍为 {due}：{link}",
    "citizen_accepted": "【直通车】您反映的问题已受理，查询码 {code}，可在 {link} 查看办理进展。",
    "citizen_transfer": "【直通车】您反映的问题（查询码 {code}）已转{unit}办理，进展请见 {link}",
    "citizen_replied": "【直通车】{unit}已答复您反映的问题（查询码 {code}）：{reply} 详情和评价请见 {link}",
    "citizen_reopened": "【直通车】您对办理结果不满意，问题（查询码 {code}）已重新交{unit}办理，时限 {due}，进展请见 {link}",
}
assert set(DEFAULT_NOTICES) == set(NOTICE_KINDS)

# Offered at 批办/分类处置 while the file writes no `classifications:` of its own; any text is accepted.
DEFAULT_CLASSIFICATIONS = ("作风问题", "办事效率", "服务态度", "吃拿卡要", "故意刁难", "政策咨询", "营商环境",
                           "民生诉求", "其他")



# --- the definitions the engine works with -----------------------------------------------
@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str
    start: str = "stage_entry"

    def describe(self):
        return f"{self.amount} {dict(days='日', hours='小时', workdays='个工作日')[self.unit]}"


@dataclass(frozen=True)
class Action:
    id: str
    title: str
    to: str
    role: str
    require: tuple = ()
    sources: tuple = ()  # empty: any source
    effect: str = ""
    deadline: str = "restart"
    reopen_to: str = ""
    reopen_on: tuple = ("dissatisfied",)
    co_units: bool = False           # a transfer that may name co-handling units (协办)
    after_co_answers: bool = False   # allowed only once every co-handling unit has answered


@dataclass(frozen=True)
class Stage:
    id: str
    title: str
    role: str
    unit: str = "any"  # any | handling | a unit code
    deadline: Duration = None
    final: str = ""
    actions: dict = field(default_factory=dict)
    extension_approver: str = ""
    extension_max: Duration = None
    pausable: bool = False


@dataclass(frozen=True)
class Escalation:
    remind_before: Duration = None
    red_after: Duration = None
    notify: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Workflow:
    key: str
    title: str
    version: int
    effective: datetime.date
    note: str
    start: str
    stages: dict
    max_transfers: int = 2
    escalation: Escalation = Escalation()
    templates: tuple = ()
    data: dict = field(default_factory=dict, compare=False, repr=False)

    def canonical(self):
        """The definition as JSON, in the file's order (the order actions are offered in)."""
        return json.dumps(self.data, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class AutoOpenRule:
    workflow: str
    levels: tuple = ()
    reasons: tuple = ()
    channels: tuple = ()

    def matches(self, level, reasons, channel):
        return ((not self.levels or level in self.levels)
                and (not self.reasons or bool(set(self.reasons) & set(reasons)))
                and (not self.channels or channel in self.channels))


@dataclass(frozen=True)
class Definitions:
    workflows: dict
    auto_open: tuple = ()
    notices: dict = field(default_factory=lambda: dict(DEFAULT_NOTICES))
    classifications: tuple = ()  # offered at 分类处置; empty: the file does not write them


# --- YAML with positions --------------------------------------------------------------------
class Located:
    """Plain data plus the line and column of every key and value, by path."""

    def __init__(self):
        self.value_marks = {}
        self.key_marks = {}
        self.scalars = yaml.SafeLoader("")
        self.styles = {}  # path -> (style, single line) of a text, to point into it


def _to_data(node, path, located, problems, source):
    located.value_marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            if key in result:
                problems.append(Problem(source, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                        path + (key,), "重复的键：同一层里已经写过一次"))
                continue
            located.key_marks[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _to_data(value_node, path + (key,), located, problems, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_data(item, path + (i,), located, problems, source) for i, item in enumerate(node.value)]
    located.styles[path] = (node.style, node.start_mark.line == node.end_mark.line)
    return located.scalars.construct_object(node, deep=True)  # ints, dates, bools as YAML means them


YAML_PROBLEMS = {
    "mapping values are not allowed here": "这里不能出现“键: 值”，多半是缩进没有对齐",
    "found character '\\t' that cannot start any token": "不能用 Tab 缩进，请改用空格",
    "could not find expected ':'": "缺少冒号“:”",
    "found undefined alias": "引用了没有定义的别名",
    "expected <block end>, but found '<block mapping start>'": "缩进没有对齐",
    "did not find expected key": "缩进没有对齐，或少了冒号",
}


def _yaml_problem(exc):
    problem = str(getattr(exc, "problem", "") or exc)
    return YAML_PROBLEMS.get(problem, f"{problem}（请检查缩进和冒号）")


KEY_WITH_CHINESE_COLON = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_]\w*)\s*：\s*(.*?)\s*$")
KEY_WITHOUT_COLON = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_]\w*)\s+([^:#\s][^:#]*?)\s*$")


def _line_slip(line):
    """(column, message) when a line shows a slip YAML reports elsewhere, else None."""
    indent = line[:len(line) - len(line.lstrip(" \t\u3000"))]
    if "\t" in indent:
        return indent.index("\t") + 1, "这一行用了 Tab 缩进：缩进只能用空格"
    if "\u3000" in indent:
        return indent.index("\u3000") + 1, "这一行用了全角空格“　”缩进：缩进只能用半角空格"
    found = KEY_WITH_CHINESE_COLON.match(line)
    if found:
        return line.index("：") + 1, ("用了中文冒号“：”：键和值之间要用英文冒号加空格，写成 "
                                     f"\"{found.group(2)}: {found.group(3)}\"")
    found = KEY_WITHOUT_COLON.match(line)
    if found and ":" not in line:
        return len(found.group(1)) + 1, ("缺少冒号：键和值之间要用英文冒号加空格，写成 "
                                         f"\"{found.group(2)}: {found.group(3)}\"")
    return None


def _indent_hint(lines, n):
    """For a line indented to no level above it: how far it is indented and the levels it could align to."""
    def indent(line):
        return len(line) - len(line.lstrip(" "))
    levels, limit = [], None
    for above in reversed(lines[:n]):
        if not above.strip() or above.lstrip().startswith("#"):
            continue
        if limit is None or indent(above) < limit:
            limit = indent(above)
            levels.append(limit)
    if n >= len(lines) or indent(lines[n]) in levels or not levels:
        return ""
    shown = "、".join(str(i) for i in sorted(levels))
    return f"：这一行缩进了 {indent(lines[n])} 个空格，上面各层是 {shown} 个空格，请对齐到其中一层"


def _yaml_error(text, exc, source):
    """A YAML error on the line the office got wrong: PyYAML often marks the next line or the block's start."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    lines = text.split("\n")
    candidates = [line - 1, line - 2]  # the marked line, and the line a plain text there may have begun on
    context = getattr(exc, "context_mark", None)
    if context is not None and getattr(exc, "context", "") == "while scanning a simple key":
        candidates.insert(0, context.line)
    for n in candidates:
        slip = _line_slip(lines[n]) if 0 <= n < len(lines) else None
        if slip:
            return Problem(source, n + 1, slip[0], (), f"YAML 格式错误：{slip[1]}")
    message = _yaml_problem(exc)
    if str(getattr(exc, "problem", "")) in ("mapping values are not allowed here",
                                            "expected <block end>, but found '<block mapping start>'"):
        message += _indent_hint(lines, line - 1)
    return Problem(source, line, col, (), f"YAML 格式错误：{message}")


def parse(text, source="workflows.yaml"):
    """YAML text -> (data, located, problems) without judging the content yet."""
    problems, located = [], Located()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        problems.append(_yaml_error(text, exc, source))
        return None, located, problems
    if node is None:
        problems.append(Problem(source, 1, 1, (), "文件是空的：至少要有 workflows:"))
        return None, located, problems
    data = _to_data(node, (), located, problems, source)
    return data, located, problems


# --- the checks -----------------------------------------------------------------------------
def _suggest(word, choices):
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"，你是不是想写 \"{close[0]}\"？" if close else "。"


def _choices(choices):
    return "、".join(sorted(str(c) for c in choices))


class Checker:
    def __init__(self, located, source, roles=None, data=None):
        self.located, self.source, self.problems, self.data = located, source, [], data
        # The role ids a step may name, each with its Chinese label when the caller knows it
        # (a mapping id -> label, or just the ids); None: not checked (a stored version).
        self.roles = None if roles is None else \
            dict(roles.items()) if hasattr(roles, "items") else {r: "" for r in roles}

    def add(self, path, message, at_key=False):
        marks = self.located.key_marks if at_key else self.located.value_marks
        line, col = marks.get(path) or self.located.value_marks.get(path) or \
            self.located.key_marks.get(path) or (1, 1)
        self.problems.append(Problem(self.source, line, col, path, message, describe(path, self.data)))

    def add_in_text(self, path, offset, message):
        """A problem at a character of a one-line text (a placeholder), else at the text's start."""
        line, col = self.located.value_marks.get(path, (1, 1))
        style, one_line = self.located.styles.get(path, (None, False))
        if one_line and style in (None, "", "'", '"'):
            col += offset + (1 if style in ("'", '"') else 0)
        self.problems.append(Problem(self.source, line, col, path, message, describe(path, self.data)))

    def mapping(self, value, path, keys, what):
        """A mapping with known keys; unknown and missing keys are reported."""
        if not isinstance(value, dict):
            self.add(path, f"{what}应当是一组“键: 值”，而这里是 {_kind(value)}")
            return {}
        for key in value:
            if key not in keys:
                self.add(path + (key,), _unknown_key(key, value[key], keys), at_key=True)
        meant = {_meant_key(k) for k in value}  # "role：office" is reported once, not also as a missing role
        for key, required in keys.items():
            if required and key not in value and key not in meant:
                self.add(path, f"{what}缺少必填的键 \"{key}\"")
        return value

    def text(self, value, path):
        if not isinstance(value, str) or not value.strip():
            self.add(path, f"应当是一段文字，而这里是 {_kind(value)}")
            return False
        return True

    def role(self, value, path, extra=()):
        if self.roles is None:
            return bool(value)
        if value in self.roles or value in extra:
            return True
        by_label = {label: r for r, label in self.roles.items() if label}
        close = difflib.get_close_matches(str(value), list(by_label), n=1, cutoff=0.6)
        guess = by_label.get(value) or (by_label[close[0]] if close else None)
        if guess:
            hint = f"，你是不是想写 \"{guess}\"（{self.roles[guess]}）？这里要写角色的英文编号。"
        else:
            hint = _suggest(value, tuple(self.roles) + tuple(extra))
        named = [f"{r}（{label}）" if label else r for r, label in sorted(self.roles.items())]
        self.add(path, f"不认识的角色 \"{value}\"{hint}可选：{'、'.join(named + sorted(extra))}")
        return False

    def one_of(self, value, path, choices, what):
        if value not in choices:
            self.add(path, f"不认识的{what} \"{value}\"{_suggest(value, choices)}可选：{_choices(choices)}")
            return False
        return True

    def ident(self, value, path, what):
        if not isinstance(value, str) or not value.isascii() or not value.replace("_", "").isalnum() \
                or not value[:1].isalpha():
            self.add(path, f"{what}编号 \"{value}\" 只能用英文字母、数字和下划线，以字母开头（中文名称写在 title 里）",
                     at_key=True)
            return False
        return True

    def duration(self, value, path, with_from=True):
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            self.add(path, _duration_hint(value))
            return None
        keys = dict(DURATION_KEYS) if with_from else {"amount": True, "unit": True}
        value = self.mapping(value, path, keys, "时限")
        if not value:
            return None
        amount, unit = value.get("amount"), value.get("unit")
        ok = True
        if "amount" in value and (not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0):
            self.add(path + ("amount",), f"时长应当是正整数，而这里是 {amount!r}")
            ok = False
        if "unit" in value and not self.one_of(unit, path + ("unit",), DURATION_UNITS, "时间单位"):
            ok = False
        start = value.get("from", "stage_entry")
        if "from" in value and not self.one_of(start, path + ("from",), DURATION_FROM, "起算点"):
            ok = False
        if ok and "amount" in value and "unit" in value:
            return Duration(amount, unit, start)
        return None


def _kind(value):
    if isinstance(value, dict):
        return "一组键值"
    if isinstance(value, list):
        return "一个列表"
    if value is None:
        return "空值"
    return f"\"{value}\""


CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                  "八": 8, "九": 9}
# How a deadline is said in words; "天"/"日" alone are counted as working days (as the office does)
# and the message says how to write calendar days.
WORDS_OF_UNITS = (("个工作日", "workdays"), ("工作日", "workdays"), ("自然日", "days"), ("个小时", "hours"),
                  ("小时", "hours"), ("天", "天"), ("日", "天"), ("workdays", "workdays"), ("workday", "workdays"),
                  ("days", "days"), ("day", "days"), ("hours", "hours"), ("hour", "hours"))
UNIT_WORDS = {"workdays": "个工作日", "days": "日", "hours": "小时"}


def _chinese_number(text):
    """'七' -> 7, '十五' -> 15, '二十' -> 20, '15' or '１５' -> 15; None when it is not a number."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text or any(ch not in CHINESE_DIGITS and ch not in "十百" for ch in text):
        return None
    total = current = 0
    for ch in text:
        if ch in CHINESE_DIGITS:
            current = CHINESE_DIGITS[ch]
        else:
            total += (current or 1) * (10 if ch == "十" else 100)
            current = 0
    return total + current


def _duration_hint(value):
    """A deadline written as words ("七天", "15个工作日", 7): say exactly what to write instead."""
    text = str(value).strip()
    amount, said = _chinese_number(text), ""
    for word, meaning in WORDS_OF_UNITS:
        if amount is None and text.endswith(word):
            amount, said = _chinese_number(text[:-len(word)]), meaning
    if not amount:
        return (f"时限不能写成 \"{value}\"，要写成 {{amount: 数量, unit: 单位}}，单位是 workdays（工作日）、"
                "days（日）或 hours（小时），例如 {amount: 7, unit: workdays}")
    unit = said if said in UNIT_WORDS else "workdays"
    hint = f"时限不能写成 \"{value}\"，要写成 {{amount: {amount}, unit: {unit}}}（{amount} {UNIT_WORDS[unit]}）"
    if said == "天":
        return hint + f"；如果是 {amount} 个自然日，写 {{amount: {amount}, unit: days}}"
    if not said:
        return hint + "；自然日写 unit: days，小时写 unit: hours"
    return hint


def _looks_like_stage(value):
    return isinstance(value, dict) and "title" in value and bool({"role", "actions", "final"} & set(value))


def _meant_key(key):
    """The key an office worker meant by "　role" or "role：office"."""
    return str(key).strip(" \u3000").split("：")[0].strip()


def _unknown_key(key, value, keys):
    """Why a key is not known, saying the likely slip: a Chinese colon or space, a block indented too little."""
    key = str(key)
    if "：" in key:
        name, _, rest = key.partition("：")
        return f"用了中文冒号“：”：键和值之间要用英文冒号加空格，写成 \"{name.strip()}: {rest.strip()}\""
    if key[:1] == "\u3000":
        return f"这一行用全角空格“　”缩进了：缩进只能用半角空格（键 \"{key.strip()}\"）"
    if " " in key and key.split()[0] in keys and value is None:
        name, rest = key.split(None, 1)
        return f"缺少冒号：键和值之间要用英文冒号加空格，写成 \"{name}: {rest}\""
    if "stages" in keys and _looks_like_stage(value):
        return (f"\"{key}\" 看起来是一个环节，但缩进太少，落到了流程这一层：请把它和下面几行再缩进，"
                "与 stages 下的其他环节对齐")
    return f"不认识的键 \"{key}\"{_suggest(key, keys)}可用的键：{_choices(keys)}"


def check(data, located, source="workflows.yaml", unit_codes=None, roles=None):
    """Both passes; returns (Definitions or None, problems). `roles`: the role ids a step may name."""
    c = Checker(located, source, roles, data)
    top = c.mapping(data, (), TOP_KEYS, "文件")
    workflows = {}
    raw_workflows = top.get("workflows")
    if raw_workflows is not None and not isinstance(raw_workflows, dict):
        c.add(("workflows",), "workflows 下面应当是一个个以流程编号为键的流程")
        raw_workflows = {}
    for key, raw in (raw_workflows or {}).items():
        if c.ident(key, ("workflows", key), "流程"):
            wf = _check_workflow(c, key, raw, ("workflows", key), unit_codes)
            if wf is not None:
                workflows[key] = wf
    rules = _check_auto_open(c, top.get("auto_open"), set((raw_workflows or {}).keys()))
    notices = _check_notices(c, top.get("notices"))
    classifications = _check_classifications(c, top.get("classifications"))
    if c.problems:
        return None, sorted(c.problems, key=Problem.sort_key)
    return Definitions(workflows=workflows, auto_open=tuple(rules), notices=notices,
                       classifications=classifications), []


def _check_workflow(c, key, raw, path, unit_codes):
    before = len(c.problems)  # an unknown key (a stage indented too little) also skips the graph pass
    raw = c.mapping(raw, path, WORKFLOW_KEYS, "流程")
    if not raw:
        return None
    for name in ("title", "note"):
        if name in raw:
            c.text(raw[name], path + (name,))
    version = raw.get("version")
    if "version" in raw and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        c.add(path + ("version",), f"版本号应当是正整数（1、2、3…），而这里是 {version!r}")
    effective = raw.get("effective")
    if "effective" in raw and not isinstance(effective, datetime.date):
        c.add(path + ("effective",), f"生效日期应当写成 2026-01-01 这样的日期，而这里是 {effective!r}")
    max_transfers = raw.get("max_transfers", 2)
    if not isinstance(max_transfers, int) or isinstance(max_transfers, bool) or max_transfers < 0:
        c.add(path + ("max_transfers",), f"最多转办次数应当是 0 或正整数，而这里是 {max_transfers!r}")
    stages_raw = raw.get("stages")
    if "stages" in raw and (not isinstance(stages_raw, dict) or not stages_raw):
        c.add(path + ("stages",), "stages 下面至少要有一个环节")
        stages_raw = {}
    # A stage indented too little is reported once, where it is, not again at each `to:` naming it.
    misplaced = {k for k, v in raw.items() if k not in WORKFLOW_KEYS and _looks_like_stage(v)}
    stage_ids = set((stages_raw or {}).keys()) | misplaced
    stages = {}
    for stage_id, stage_raw in (stages_raw or {}).items():
        if c.ident(stage_id, path + ("stages", stage_id), "环节"):
            stage = _check_stage(c, stage_id, stage_raw, path + ("stages", stage_id), stage_ids, unit_codes)
            if stage is not None:
                stages[stage_id] = stage
    start = raw.get("start")
    if "start" in raw and start not in stage_ids:
        c.add(path + ("start",), f"起始环节 \"{start}\" 不存在{_suggest(start, stage_ids)}已有环节：{_choices(stage_ids)}")
    escalation = _check_escalation(c, raw.get("escalation"), path + ("escalation",))
    templates = _check_templates(c, raw.get("templates"), path + ("templates",))
    if len(c.problems) > before:
        return None
    _check_graph(c, path, start, stages)
    if len(c.problems) > before:
        return None
    return Workflow(key=key, title=raw["title"], version=version, effective=effective, note=raw["note"],
                    start=start, stages=stages, max_transfers=max_transfers, escalation=escalation,
                    templates=templates, data=raw)


def _check_stage(c, stage_id, raw, path, stage_ids, unit_codes):
    raw = c.mapping(raw, path, STAGE_KEYS, "环节")
    if not raw:
        return None
    before = len(c.problems)
    if "title" in raw:
        c.text(raw["title"], path + ("title",))
    role = raw.get("role")
    if "role" in raw:
        c.role(role, path + ("role",))
    unit = raw.get("unit", "any")
    if isinstance(unit, dict):
        unit_map = c.mapping(unit, path + ("unit",), {"fixed": True}, "办理单位")
        unit = unit_map.get("fixed", "")
        if unit_codes is not None and unit and unit not in unit_codes:
            c.add(path + ("unit", "fixed"), f"没有编码为 \"{unit}\" 的单位{_suggest(unit, unit_codes)}")
    elif unit not in ("any", "handling"):
        c.add(path + ("unit",), f"办理单位应当是 any（不限）、handling（工单的承办单位）或 {{fixed: 单位编码}}，而这里是 {unit!r}")
    deadline = c.duration(raw["deadline"], path + ("deadline",)) if "deadline" in raw else None
    final = raw.get("final", "")
    if "final" in raw:
        c.one_of(final, path + ("final",), CLOSING_KINDS, "办结方式")
    pausable = raw.get("pausable", False)
    if not isinstance(pausable, bool):
        c.add(path + ("pausable",), f"pausable 应当是 true 或 false，而这里是 {pausable!r}")
    approver, extension_max = "", None
    if "extension" in raw:
        ext = c.mapping(raw["extension"], path + ("extension",), EXTENSION_KEYS, "延期规则")
        if "approver" in ext:
            approver = ext["approver"] if c.role(ext["approver"], path + ("extension", "approver")) else ""
        if "max" in ext:
            extension_max = c.duration(ext["max"], path + ("extension", "max"), with_from=False)
    actions = {}
    actions_raw = raw.get("actions") or {}
    if not isinstance(actions_raw, dict):
        c.add(path + ("actions",), "actions 下面应当是一个个以操作编号为键的操作")
        actions_raw = {}
    if final and actions_raw:
        c.add(path + ("actions",), "办结环节不能再有操作：办结后工单就结束了", at_key=True)
    for action_id, action_raw in actions_raw.items():
        if action_id in RESERVED_ACTIONS:
            c.add(path + ("actions", action_id), f"操作编号 \"{action_id}\" 是系统自带的操作（中止计时、延期、合并），"
                  "请换一个编号；要开启中止计时或延期，请在环节上写 pausable: true 或 extension:", at_key=True)
        elif c.ident(action_id, path + ("actions", action_id), "操作"):
            action = _check_action(c, action_id, action_raw, path + ("actions", action_id),
                                   stage_ids, role)
            if action is not None:
                actions[action_id] = action
    if len(c.problems) > before:
        return None
    return Stage(id=stage_id, title=raw["title"], role=role, unit=unit, deadline=deadline, final=final,
                 actions=actions, extension_approver=approver, extension_max=extension_max,
                 pausable=pausable)


def _check_action(c, action_id, raw, path, stage_ids, stage_role):
    raw = c.mapping(raw, path, ACTION_KEYS, "操作")
    if not raw:
        return None
    before = len(c.problems)
    if "title" in raw:
        c.text(raw["title"], path + ("title",))
    to = raw.get("to")
    if "to" in raw and to not in stage_ids:
        c.add(path + ("to",), f"目标环节 \"{to}\" 不存在{_suggest(to, stage_ids)}已有环节：{_choices(stage_ids)}")
    role = raw.get("role", stage_role)
    if "role" in raw:
        c.role(role, path + ("role",))
    require = raw.get("require", [])
    if not isinstance(require, list):
        c.add(path + ("require",), "require 应当是一个列表，例如 [comment, result]")
        require = []
    for i, item in enumerate(require):
        c.one_of(item, path + ("require", i), REQUIRABLE, "必填项")
    sources = ()
    if "when" in raw:
        when = c.mapping(raw["when"], path + ("when",), {k: False for k in CONDITION_KEYS}, "条件")
        sources = when.get("source", [])
        if not isinstance(sources, list):
            sources = [sources]
        for i, item in enumerate(sources):
            c.one_of(item, path + ("when", "source", i), CHANNEL_IDS, "来源渠道")
    effect = raw.get("effect", "")
    if "effect" in raw:
        c.one_of(effect, path + ("effect",), EFFECTS, "效果")
    deadline = raw.get("deadline", "restart")
    if "deadline" in raw:
        c.one_of(deadline, path + ("deadline",), TRANSFER_DEADLINE, "转办后的时限算法")
    if effect == "transfer" and "unit" not in require:
        c.add(path + ("require",) if "require" in raw else path,
              "转办（effect: transfer）必须在 require 里写上 unit，让经办人选择转给哪个单位")
    if effect == "grade" and "grade" not in require:
        c.add(path + ("require",) if "require" in raw else path,
              "回访评价（effect: grade）必须在 require 里写上 grade")
    reopen_to = raw.get("reopen_to", "")
    if reopen_to and reopen_to not in stage_ids:
        c.add(path + ("reopen_to",), f"重新办理的环节 \"{reopen_to}\" 不存在{_suggest(reopen_to, stage_ids)}")
    if reopen_to and effect != "grade":
        c.add(path + ("reopen_to",), "reopen_to 只用于回访评价（effect: grade）", at_key=True)
    reopen_on = raw.get("reopen_on", ["dissatisfied"])
    if not isinstance(reopen_on, list):
        reopen_on = [reopen_on]
    for i, item in enumerate(reopen_on):
        c.one_of(item, path + ("reopen_on", i), GRADES, "回访评价")
    flags = {}
    for name in ("co_units", "after_co_answers"):
        flags[name] = raw.get(name, False)
        if not isinstance(flags[name], bool):
            c.add(path + (name,), f"{name} 应当是 true 或 false，而这里是 {flags[name]!r}")
    if flags["co_units"] and effect != "transfer":
        c.add(path + ("co_units",), "co_units（可指定协办单位）只用于转办（effect: transfer）", at_key=True)
    if len(c.problems) > before:
        return None
    return Action(id=action_id, title=raw["title"], to=to, role=role, require=tuple(require),
                  sources=tuple(sources), effect=effect, deadline=deadline, reopen_to=reopen_to,
                  reopen_on=tuple(reopen_on), **flags)


def _check_escalation(c, raw, path):
    if raw is None:
        return Escalation()
    raw = c.mapping(raw, path, ESCALATION_KEYS, "催办规则")
    remind = c.duration(raw["remind_before"], path + ("remind_before",), with_from=False) \
        if "remind_before" in raw else None
    red = c.duration(raw["red_after"], path + ("red_after",), with_from=False) if "red_after" in raw else None
    notify = {}
    if "notify" in raw:
        notify_raw = c.mapping(raw["notify"], path + ("notify",), {k: False for k in NOTIFY_KEYS}, "通知对象")
        for level, roles in notify_raw.items():
            roles = roles if isinstance(roles, list) else [roles]
            for i, role in enumerate(roles):
                if role != "stage_role":
                    c.role(role, path + ("notify", level, i), extra=("stage_role",))
            notify[level] = tuple(roles)
    return Escalation(remind_before=remind, red_after=red, notify=notify)


# What a reply template may fill in: public facts only, never the internal result or a name.
TEMPLATE_PLACEHOLDERS = ("received", "unit")
INTERNAL_FIELDS = ("classification", "comment", "content", "result", "title")


def _check_templates(c, raw, path):
    if raw is None:
        return ()
    if not isinstance(raw, list):
        c.add(path, "templates 应当是一个列表，每项有 title 和 text")
        return ()
    templates = []
    for i, item in enumerate(raw):
        item = c.mapping(item, path + (i,), TEMPLATE_KEYS, "答复模板")
        if "title" in item and "text" in item and c.text(item["title"], path + (i, "title")) \
                and c.text(item["text"], path + (i, "text")):
            if _check_placeholders(c, path + (i, "text"), item["text"], TEMPLATE_PLACEHOLDERS,
                                   "答复模板只能填公开的内容，不能用内部的办理结果、意见或反映内容。",
                                   INTERNAL_FIELDS):
                templates.append((item["title"], item["text"]))
    return tuple(templates)


def _check_graph(c, path, start, stages):
    """No stage out of reach, and from every stage a way to a closing stage."""
    edges = {sid: {a.to for a in s.actions.values()} | {a.reopen_to for a in s.actions.values() if a.reopen_to}
             for sid, s in stages.items()}
    reached, frontier = {start}, [start]
    while frontier:
        frontier = [t for s in frontier for t in edges.get(s, ()) if t not in reached]
        reached.update(frontier)
    for sid in stages:
        if sid not in reached:
            c.add(path + ("stages", sid), f"环节 \"{sid}\" 从起始环节 \"{start}\" 出发永远到不了：请让某个操作的 to 指向它，或删掉它",
                  at_key=True)
    finals = {sid for sid, s in stages.items() if s.final}
    if not finals:
        c.add(path + ("stages",), "没有任何办结环节：至少一个环节要写 final: solved、explained 或 not_accepted",
              at_key=True)
        return
    can_finish = set(finals)
    changed = True
    while changed:
        changed = False
        for sid, targets in edges.items():
            if sid not in can_finish and targets & can_finish:
                can_finish.add(sid)
                changed = True
    for sid, stage in stages.items():
        if sid in reached and sid not in can_finish:
            if not stage.actions:
                c.add(path + ("stages", sid), f"环节 \"{sid}\" 既不是办结环节，也没有任何操作：工单会停在这里",
                      at_key=True)
            else:
                c.add(path + ("stages", sid), f"从环节 \"{sid}\" 出发的操作只在几个环节之间打转，永远到不了办结环节",
                      at_key=True)


def _check_auto_open(c, raw, workflow_keys):
    if raw is None:
        return []
    path = ("auto_open",)
    if not isinstance(raw, list):
        c.add(path, "auto_open 应当是一个列表：每项写 when 条件和要开启的 workflow")
        return []
    rules = []
    for i, item in enumerate(raw):
        item = c.mapping(item, path + (i,), AUTO_OPEN_KEYS, "自动立案规则")
        if not item:
            continue
        workflow = item.get("workflow")
        if "workflow" in item and workflow not in workflow_keys:
            c.add(path + (i, "workflow"), f"流程 \"{workflow}\" 不存在{_suggest(workflow, workflow_keys)}")
        when = c.mapping(item.get("when", {}), path + (i, "when"), {k: False for k in AUTO_WHEN_KEYS}, "条件")
        values = {}
        for key in AUTO_WHEN_KEYS:
            v = when.get(key, [])
            values[key] = tuple(v if isinstance(v, list) else [v])
        for j, level in enumerate(values["level"]):
            c.one_of(level, path + (i, "when", "level", j), LEVEL_IDS, "评价等级")
        for j, channel in enumerate(values["channel"]):
            c.one_of(channel, path + (i, "when", "channel", j), CHANNEL_IDS, "渠道")
        rules.append(AutoOpenRule(workflow=workflow, levels=values["level"], reasons=values["reasons"],
                                  channels=values["channel"]))
    return rules


def _check_classifications(c, raw):
    """classifications: the categories offered at 分类处置, one list for every channel (the figures
    count by them); not written: () and the screen keeps its built-in list."""
    if raw is None:
        return ()
    path = ("classifications",)
    if not isinstance(raw, list) or not raw:
        c.add(path, f"分类应当是一个不空的列表，每项一个分类名称，例如 [作风问题, 办事效率]，而这里是 {_kind(raw)}")
        return ()
    seen = {}
    for i, item in enumerate(raw):
        if not isinstance(item, str) or not item.strip():
            c.add(path + (i,), f"每个分类应当是一段文字，而这里是 {_kind(item)}")
        elif item.strip() in seen:
            c.add(path + (i,), f"分类 \"{item}\" 重复了：第 {seen[item.strip()] + 1} 项已经写过")
        else:
            seen[item.strip()] = i
    return tuple(seen)


PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _check_notices(c, raw):
    """notices: {kind: text}; a kind not written keeps its default text."""
    notices = dict(DEFAULT_NOTICES)
    if raw is None:
        return notices
    path = ("notices",)
    raw = c.mapping(raw, path, {k: False for k in NOTICE_KINDS}, "通知文字")
    for kind, text in raw.items():
        if kind not in NOTICE_KINDS or not c.text(text, path + (kind,)):
            continue
        citizen = kind in CITIZEN_NOTICES
        if _check_placeholders(c, path + (kind,), text, CITIZEN_PLACEHOLDERS if citizen else OFFICER_PLACEHOLDERS,
                               "给群众的短信只能写单位、环节、查询码、时限、链接和答复。" if citizen else "",
                               OFFICER_PLACEHOLDERS if citizen else ()):
            notices[kind] = text
    return notices


def _check_placeholders(c, path, text, allowed, why_not="", unsafe=()):
    """Every {name} in a text the office writes must be one of `allowed`; False after reporting each
    one that is not. `unsafe` names are known but kept out of this text on purpose (`why_not` says why)."""
    ok = True
    for match in PLACEHOLDER.finditer(text):
        name = match.group(1)
        if name in allowed:
            continue
        ok = False
        if name in unsafe:
            why = f"这里不能用占位符 {{{name}}}：{why_not}"
        else:
            why = f"不认识的占位符 {{{name}}}{_suggest(name, allowed)}"
        c.add_in_text(path, match.start(), f"{why}可用：{_choices(['{' + a + '}' for a in allowed])}")
    return ok


def load_text(text, source="workflows.yaml", unit_codes=None, roles=None):
    """Parse and check; raise WorkflowFileError listing every problem, or return Definitions."""
    data, located, problems = parse(text, source)
    if data is not None:
        definitions, more = check(data, located, source, unit_codes, roles)
        for problem in problems:  # found while reading (a repeated key): named with the file's titles
            problem.label = describe(problem.path, data)
        problems = sorted(problems + more, key=Problem.sort_key)
    if problems:
        raise WorkflowFileError(problems)
    return definitions


def load_workflows(path, unit_codes=None, roles=None):
    with open(path, encoding="utf-8") as f:
        return load_text(f.read(), source=str(path).rsplit("/", 1)[-1], unit_codes=unit_codes, roles=roles)


def from_canonical(key, canonical):
    """Rebuild one stored workflow version (its canonical JSON) into a Workflow."""
    data = json.loads(canonical)
    if isinstance(data.get("effective"), str):
        data["effective"] = datetime.date.fromisoformat(data["effective"])
    definitions, problems = check({"workflows": {key: data}}, Located(), f"{key}（已保存的版本）")
    if problems:
        raise WorkflowFileError(problems)
    return definitions.workflows[key]
