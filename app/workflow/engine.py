"""Pure workflow logic: who may do what now, what it requires, and what it changes.

Nothing here touches the database or Flask: the ticket comes in as a `TicketState`, the time and
the calendar as arguments, and the result is a `Change` for the service to write.
"""
import datetime
from dataclasses import dataclass, field, replace

from app.workflow.errors import ActionRefused
from app.workflow.schema import GRADES, RESERVED_ACTIONS, Action, Duration

# Actions every workflow offers where its stages allow them, beside the ones the file names.
PAUSE, RESUME = "pause", "resume"
EXTEND_REQUEST, EXTEND_APPROVE, EXTEND_REJECT = "extend_request", "extend_approve", "extend_reject"
MERGE = "merge"
CO_ANSWER = "co_answer"
BUILTIN_ACTIONS = (PAUSE, RESUME, EXTEND_REQUEST, EXTEND_APPROVE, EXTEND_REJECT, MERGE, CO_ANSWER)
assert set(BUILTIN_ACTIONS) == set(RESERVED_ACTIONS)

FIELD_TITLES = {"comment": "意见", "result": "办理结果", "reply": "答复群众", "classification": "分类", "unit": "转办单位",
                "attachment": "附件", "grade": "回访评价", "days": "延期天数", "target": "合并到工单",
                "co_units": "协办单位", "co_unit": "协办单位"}
GRADE_TITLES = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}


@dataclass(frozen=True)
class Actor:
    role: str
    unit_ids: frozenset = frozenset()
    user_id: int = None
    unit_bound: bool = False  # a role that acts only for its own units (the caller knows which roles)


@dataclass(frozen=True)
class TicketState:
    stage: str
    status: str = "open"
    source: str = "web"
    handling_unit_id: int = None
    created_at: datetime.datetime = None
    stage_entered_at: datetime.datetime = None
    due_at: datetime.datetime = None
    paused_at: datetime.datetime = None
    transfers: int = 0
    extension_requested: int = None
    fixed_unit_ids: dict = field(default_factory=dict)  # unit code -> id, for stages with a fixed unit
    co_units: dict = field(default_factory=dict)  # co-handling unit id -> answered (bool)
    time_limit: int = None  # working days agreed for this matter, replacing the `from: created` limit


@dataclass
class Change:
    """What one action does to a ticket; the service writes it in one transaction."""
    action: Action
    from_stage: str
    to_stage: str
    updates: dict
    event_data: dict
    co_units: tuple = ()  # co-handling units named by this transfer


def builtin_actions(workflow, stage):
    """The generic actions a stage's rule switches on (pause/resume, extension, merge)."""
    actions = []
    if stage.final:
        return actions
    if stage.pausable:
        actions.append(Action(PAUSE, "中止计时", stage.id, stage.role, ("comment",), effect=PAUSE))
        actions.append(Action(RESUME, "恢复计时", stage.id, stage.role, ("comment",), effect=RESUME))
    if stage.extension_approver:
        actions.append(Action(EXTEND_REQUEST, "申请延期", stage.id, stage.role, ("days", "comment"),
                              effect=EXTEND_REQUEST))
        actions.append(Action(EXTEND_APPROVE, "批准延期", stage.id, stage.extension_approver, ("comment",),
                              effect=EXTEND_APPROVE))
        actions.append(Action(EXTEND_REJECT, "不同意延期", stage.id, stage.extension_approver, ("comment",),
                              effect=EXTEND_REJECT))
    actions.append(Action(MERGE, "合并到其他工单", stage.id, "office", ("target", "comment"), effect=MERGE))
    actions.append(Action(CO_ANSWER, "协办答复", stage.id, "handler", ("comment",), effect=CO_ANSWER))
    return actions


def _acts_for_unit(stage, state, actor, action=None):
    """A unit-bound officer acts only for its own units; a fixed unit binds every role."""
    if action is not None and action.effect == CO_ANSWER:  # a co-handling unit still to answer
        return any(not done and unit in actor.unit_ids for unit, done in state.co_units.items())
    if stage.unit not in ("any", "handling"):
        unit_id = state.fixed_unit_ids.get(stage.unit)
        return unit_id is not None and unit_id in actor.unit_ids
    if actor.unit_bound:
        return state.handling_unit_id is not None and state.handling_unit_id in actor.unit_ids
    return True


def _applicable(action, workflow, stage, state):
    """Whether the action makes sense for the ticket as it is (independent of who asks)."""
    if action.sources and state.source not in action.sources:
        return False
    paused = state.paused_at is not None
    if action.effect == RESUME:
        return paused
    if paused:  # a paused ticket only waits to be resumed
        return action.effect == MERGE
    if action.effect == PAUSE:
        return True
    if action.effect == EXTEND_REQUEST:
        return state.extension_requested is None and state.due_at is not None
    if action.effect in (EXTEND_APPROVE, EXTEND_REJECT):
        return state.extension_requested is not None
    if action.effect == "transfer" and state.transfers >= workflow.max_transfers:
        return False
    if action.after_co_answers and not all(state.co_units.values()):
        return False
    if action.effect == CO_ANSWER:
        return not all(state.co_units.values())
    return True


def stage_actions(workflow, stage):
    return list(stage.actions.values()) + builtin_actions(workflow, stage)


def allowed_actions(workflow, state, actor):
    """The actions this officer may take on this ticket now, in the rule's order."""
    if state.status != "open":
        return []
    stage = workflow.stages[state.stage]
    return [a for a in stage_actions(workflow, stage)
            if a.role == actor.role and _acts_for_unit(stage, state, actor, a)
            and _applicable(a, workflow, stage, state)]


def find_action(workflow, state, actor, action_id):
    """The action, or ActionRefused saying why not (with the current stage)."""
    stage = workflow.stages.get(state.stage)
    if state.status != "open" or stage is None:
        raise ActionRefused("工单已办结，不能再操作。", status=409)
    action = next((a for a in stage_actions(workflow, stage) if a.id == action_id), None)
    if action is None:
        raise ActionRefused(f"当前环节“{stage.title}”没有“{action_id}”这个操作。", status=409)
    if action.role != actor.role or not _acts_for_unit(stage, state, actor, action):
        raise ActionRefused(f"您的角色或单位不能在“{stage.title}”环节执行“{action.title}”。", status=403)
    if not _applicable(action, workflow, stage, state):
        if action.effect == "transfer" and state.transfers >= workflow.max_transfers:
            raise ActionRefused(f"本工单已转办 {state.transfers} 次，达到规则上限 {workflow.max_transfers} 次，"
                                "不能再转办：请由本单位办理或报领导协调。", status=409)
        if action.after_co_answers and not all(state.co_units.values()):
            waiting = sum(1 for done in state.co_units.values() if not done)
            raise ActionRefused(f"还有 {waiting} 个协办单位没有答复，主办单位暂不能“{action.title}”。", status=409)
        raise ActionRefused(f"工单当前的状态下不能执行“{action.title}”。", status=409)
    return action


CLASSIFICATION_MAX = 50  # Ticket.classification's length


def validate(action, data, stage=None):
    """Check the fields the rule requires; returns {field: Chinese message} (empty when fine)."""
    errors = {}
    for name in action.require:
        value = data.get(name)
        if name == "attachment":
            if not value:
                errors[name] = "请上传附件。"
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = f"请填写{FIELD_TITLES.get(name, name)}。"
    if "grade" in action.require and data.get("grade") and data["grade"] not in GRADES:
        errors["grade"] = "回访评价只能是满意、基本满意或不满意。"
    if action.effect == EXTEND_REQUEST and "days" not in errors:
        try:
            days = int(data["days"])
        except (TypeError, ValueError):
            days = 0
        limit = stage.extension_max.amount if stage is not None and stage.extension_max else None
        if days <= 0:
            errors["days"] = "延期天数应当是正整数。"
        elif limit is not None and days > limit:
            errors["days"] = f"最多只能延期 {stage.extension_max.describe()}。"
    for name in ("comment", "result", "reply"):
        if isinstance(data.get(name), str) and len(data[name]) > 5000:
            errors[name] = "内容太长（最多 5000 字）。"
    if isinstance(data.get("classification"), str) and len(data["classification"].strip()) > CLASSIFICATION_MAX:
        errors["classification"] = f"分类最多 {CLASSIFICATION_MAX} 字。"  # the ticket's column holds no more
    return errors


def deadline_fields(workflow, stage, state, calendar, entered_at, keep_due=False):
    """Due time, estimate flag and first alert for a ticket entering (or staying in) a stage."""
    if stage.final:
        return {"due_at": None, "deadline_estimated": False, "next_alert_at": None, "alert_level": 0}
    if keep_due and state.due_at is not None:
        due, estimated = state.due_at, False
    elif stage.deadline is None:
        return {"due_at": None, "deadline_estimated": False, "next_alert_at": None, "alert_level": 0}
    else:
        deadline = stage.deadline
        if deadline.start == "created" and state.time_limit:
            deadline = Duration(state.time_limit, "workdays", "created")
        start = state.created_at if deadline.start == "created" else entered_at
        due, estimated = calendar.due(deadline, start)
    return {"due_at": due, "deadline_estimated": estimated, "alert_level": 0,
            "next_alert_at": alert_times(workflow, calendar, due)[0][1] if due else None}


def alert_times(workflow, calendar, due_at):
    """[(level, moment)] for reminder (1), yellow card (2) and red card (3), in order."""
    esc = workflow.escalation
    times = []
    if esc.remind_before is not None:
        times.append((1, calendar.before(due_at, esc.remind_before)))
    times.append((2, due_at))
    if esc.red_after is not None:
        times.append((3, calendar.after(due_at, esc.red_after)))
    return times


def plan(workflow, state, actor, action_id, data, now, calendar):
    """Everything one action changes, or ActionRefused / a dict of field errors (ValueError)."""
    action = find_action(workflow, state, actor, action_id)
    stage = workflow.stages[state.stage]
    errors = validate(action, data, stage)
    if errors:
        raise InvalidInput(errors)
    updates, event = {}, {k: v for k, v in data.items() if k in action.require and k != "attachment"}
    target = action.to
    if action.effect == PAUSE:
        updates.update(paused_at=now, next_alert_at=None)
    elif action.effect == RESUME:
        due = _shifted_due(stage, state, calendar, now)
        updates.update(paused_at=None, due_at=due,
                       next_alert_at=_next_alert(workflow, calendar, due, now) if due else None)
        event["paused_since"] = state.paused_at.isoformat(sep=" ")
    elif action.effect == EXTEND_REQUEST:
        updates["extension_requested"] = int(data["days"])
    elif action.effect == EXTEND_APPROVE:
        unit = stage.extension_max.unit if stage.extension_max else "workdays"
        due, estimated = calendar.due(Duration(state.extension_requested, unit), state.due_at)
        updates.update(extension_requested=None, due_at=due, deadline_estimated=estimated, alert_level=0,
                       next_alert_at=_next_alert(workflow, calendar, due, now))
        event["days"] = state.extension_requested
    elif action.effect == EXTEND_REJECT:
        updates["extension_requested"] = None
    elif action.effect == MERGE:
        updates.update(status="closed", closing_kind="merged", closed_at=now, due_at=None,
                       next_alert_at=None)
    elif action.effect == CO_ANSWER:
        pass  # the service records which co-handling unit answered
    else:
        if action.effect == "grade" and action.reopen_to and data["grade"] in action.reopen_on:
            target = action.reopen_to
        if action.effect == "transfer":
            updates.update(handling_unit=int(data["unit"]), transfers=state.transfers + 1)
        if action.effect == "return":
            updates["handling_unit"] = None
        new_stage = workflow.stages[target]
        moved = replace(state, stage=target)
        keep = action.effect == "transfer" and action.deadline == "continue"
        updates.update(stage=target, stage_entered_at=now, paused_at=None, extension_requested=None,
                       **deadline_fields(workflow, new_stage, moved, calendar, now, keep_due=keep))
        if new_stage.final:
            updates.update(status="closed", closing_kind=new_stage.final, closed_at=now)
    if "result" in data and "result" in action.require:
        updates["result"] = data["result"].strip()
    if "reply" in action.require:  # the public answer, apart from the internal result
        updates.update(reply=data["reply"].strip(), replied_at=now)
    if "classification" in action.require:
        updates["classification"] = data["classification"].strip()
    if "grade" in action.require:
        updates["grade"] = data["grade"]
    co_units = ()
    if action.co_units and data.get("co_units"):
        co_units = tuple(sorted({int(u) for u in data["co_units"]} - {int(data["unit"])}))
        event["co_units"] = list(co_units)
    return Change(action=action, from_stage=state.stage, to_stage=target, updates=updates, event_data=event,
                  co_units=co_units)


class InvalidInput(ValueError):
    """Required fields missing or wrong; `errors` maps field -> Chinese message."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("；".join(errors.values()))


def _shifted_due(stage, state, calendar, now):
    """Resuming a paused clock moves the deadline by the time it stood still."""
    if state.due_at is None:
        return None
    unit = stage.deadline.unit if stage.deadline else "workdays"
    if unit == "workdays":
        return calendar.due(Duration(calendar.workdays_between(state.paused_at.date(), now.date()), "workdays"),
                            state.due_at)[0] if now.date() > state.paused_at.date() else state.due_at
    return state.due_at + (now - state.paused_at)


def _next_alert(workflow, calendar, due, now):
    """The first alert still to come after `now` (an earlier one already passed is sent at once)."""
    for _level, moment in alert_times(workflow, calendar, due):
        if moment > now:
            return moment
    return now


def sweep_step(workflow, calendar, due_at, alert_level, now):
    """For one ticket whose next alert is due: the levels newly reached and the next alert time."""
    reached, upcoming = [], None
    for level, moment in alert_times(workflow, calendar, due_at):
        if moment <= now and level > alert_level:
            reached.append(level)
        elif moment > now and upcoming is None and level > alert_level:
            upcoming = moment
    return reached, upcoming
