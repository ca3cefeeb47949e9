"""What the workflow engine refuses, each with a message an officer can act on."""


class WorkflowFileError(Exception):
    """workflows.yaml is invalid; `problems` lists every mistake found, in file order."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Problem:
    """One mistake: where it is (file:line:col, the path of keys and its Chinese label) and how to fix it."""

    def __init__(self, source, line, col, path, message, label=None):
        self.source, self.line, self.col, self.path, self.message = source, line, col, path, message
        self.label = label or describe(path)

    def __str__(self):
        if not self.path:  # a mistake in the text itself (YAML): the line says where, no field to name
            return f"{self.source}:{self.line}:{self.col}: {self.message}"
        return f"{self.source}:{self.line}:{self.col}: {self.label}: {self.message}"

    def sort_key(self):
        return (self.line, self.col, str(self))


# The Chinese name of each key of workflows.yaml, for messages and the form editor's fields.
KEY_LABELS = {
    "workflows": "流程", "auto_open": "自动立案规则", "notices": "通知文字", "classifications": "分类",
    "title": "名称", "version": "版本号", "effective": "生效日期", "note": "修改说明", "start": "起始环节",
    "stages": "环节", "max_transfers": "最多转办次数", "escalation": "催办规则", "templates": "答复模板",
    "role": "负责角色", "unit": "办理单位", "fixed": "固定单位", "deadline": "时限", "final": "办结方式",
    "actions": "操作", "extension": "延期规则", "pausable": "可否中止计时", "approver": "批准角色",
    "max": "最多延长", "amount": "数量", "from": "起算点",
    "remind_before": "提醒时间", "red_after": "红牌时间", "notify": "通知对象",
    "remind": "到期提醒", "yellow": "黄牌", "red": "红牌", "text": "文字",
    "when": "条件", "source": "来源渠道", "channel": "渠道", "level": "评价等级", "reasons": "评价原因",
    "workflow": "流程",
}
DURATIONS = ("deadline", "remind_before", "red_after", "max")  # their `unit` is a unit of time
# Inside an action some keys mean something else than on a stage.
ACTION_LABELS = {
    "to": "目标环节", "role": "可操作角色", "require": "必填项", "effect": "效果", "deadline": "转办后的时限算法",
    "reopen_to": "重新办理的环节", "reopen_on": "重新办理的评价", "co_units": "可指定协办单位",
    "after_co_answers": "须等协办答复",
}
NOTICE_LABELS = {
    "new_work": "新任务", "remind": "到期提醒", "yellow": "黄牌", "red": "红牌", "co_handling": "协办请求",
    "co_chase": "协办催办", "extension": "延期申请", "extend_approved": "延期已批准",
    "extend_rejected": "延期未批准", "citizen_accepted": "短信：已受理", "citizen_transfer": "短信：已转办",
    "citizen_replied": "短信：已答复", "citizen_reopened": "短信：重新办理",
}


def _title(data, key):
    """The title the file gives a workflow, stage or action, else its id."""
    title = data.get(key, {}).get("title") if isinstance(data, dict) and isinstance(data.get(key), dict) else None
    return title if isinstance(title, str) and title.strip() else str(key)


def describe(path, data=None):
    """Where a path points, in words: ("workflows", "problem", "stages", "investigate", "deadline")
    -> 流程“问题线索办理”环节“调查跟踪督办”的时限. `data` (the parsed file) gives the titles."""
    path = tuple(path)
    if not path:
        return "（文件）"
    data = data if isinstance(data, dict) else {}
    head, rest = path[0], path[1:]
    if head == "workflows" and rest:
        workflows = data.get("workflows")
        where = f"流程“{_title(workflows, rest[0])}”"
        node, rest = (workflows or {}).get(rest[0]) if isinstance(workflows, dict) else None, rest[1:]
        if rest[:1] == ("stages",) and len(rest) > 1:
            stages = node.get("stages") if isinstance(node, dict) else None
            where += f"环节“{_title(stages, rest[1])}”"
            node, rest = stages.get(rest[1]) if isinstance(stages, dict) else None, rest[2:]
            if rest[:1] == ("actions",) and len(rest) > 1:
                actions = node.get("actions") if isinstance(node, dict) else None
                where += f"操作“{_title(actions, rest[1])}”"
                return where + _tail(rest[2:], ACTION_LABELS)
        return where + _tail(rest)
    if head == "notices" and rest:
        return f"通知文字“{NOTICE_LABELS.get(rest[0], rest[0])}”" + _tail(rest[1:])
    if head == "auto_open" and rest and isinstance(rest[0], int):
        return f"自动立案规则第 {rest[0] + 1} 条" + _tail(rest[1:])
    return KEY_LABELS.get(head, str(head)) + _tail(rest)


def _tail(keys, special=None):
    """The keys below a named thing: 的时限, 催办规则的通知对象（红牌）第 1 项, 答复模板第 2 项的文字."""
    words, previous = "", None
    for key in keys:
        if isinstance(key, int):
            words += f"第 {key + 1} 项"
        else:
            label = (special or {}).get(key) or KEY_LABELS.get(key) or f"“{key}”"
            if previous in DURATIONS and key == "unit":
                label = "时间单位"
            if previous is None and key in ("templates", "escalation"):
                words += label  # a part of the workflow: 答复模板第 2 项, 催办规则的红牌时间
            elif previous == "notify":
                words += f"（{label}）"
            else:
                words += f"的{label}"
        special, previous = None, key  # below an action's key the plain labels apply again
    return words


class ActionRefused(Exception):
    """This officer may not take this action on this ticket now (answers 403 or 422)."""

    def __init__(self, message, status=403):
        self.status = status
        super().__init__(message)


class StaleTicket(Exception):
    """Someone else acted on the ticket first; nothing of this attempt was saved."""
