"""Ticket service: opening tickets, taking actions, the deadline sweep, the to-do list.

Each action is one transaction: stage, handler, deadline and the TicketEvent change together,
guarded by `UPDATE … WHERE revision = <old>`; no row changed means another officer acted first.
"""
import dataclasses
import json
import re

from peewee import SQL, Case

from app import outbox, procedures, scales, tallies, workdays
from app.db import compiled, insert_row
from app.roles import UNIT_BOUND
from app.workflow import engine
from app.workflow.engine import Actor, TicketState
from app.workflow.errors import ActionRefused, StaleTicket
from models import (AuditLog, CoHandling, SystemSetting, Ticket, TicketEvent, Unit, db,
                    now)

ALERT_KINDS = {1: "remind", 2: "yellow", 3: "red"}
ALERT_TEXT = {1: "即将到期", 2: "已到期（黄牌）", 3: "超期（红牌）"}


def actor_for(user):
    unit_ids = frozenset(Unit.subtree_ids(user.unit_id)) if user.unit_id else frozenset()
    return Actor(role=user.role, unit_ids=unit_ids, user_id=user.id, unit_bound=user.role in UNIT_BOUND)


def state_of(ticket, wf):
    fixed = {s.unit for s in wf.stages.values() if s.unit not in ("any", "handling")}
    fixed_ids = dict(Unit.select(Unit.code, Unit.id).where(Unit.code.in_(list(fixed))).tuples()) if fixed else {}
    co_units = {unit: answered is not None for unit, answered in
                CoHandling.select(CoHandling.unit, CoHandling.answered_at)
                .where(CoHandling.ticket == ticket.id, CoHandling.active).tuples()} if ticket.id else {}
    return TicketState(stage=ticket.stage, status=ticket.status, source=ticket.source,
                       handling_unit_id=ticket.handling_unit_id, created_at=ticket.created_at,
                       stage_entered_at=ticket.stage_entered_at, due_at=ticket.due_at,
                       paused_at=ticket.paused_at, transfers=ticket.transfers,
                       extension_requested=ticket.extension_requested, fixed_unit_ids=fixed_ids,
                       co_units=co_units, time_limit=ticket.time_limit)


def workflow_of(ticket):
    return procedures.workflow(ticket.workflow, ticket.workflow_version)


def next_code(at):
    """ZTC-2026-0001: numbered per year, by a counter kept in system_setting.

    Called inside the ticket's write transaction, so the counter's row is held until the ticket
    is saved. A counter, not MAX(code): text order puts ZTC-2026-10000 before ZTC-2026-9999, and a
    database's collation may ignore the dashes. The first ticket of a year starts the counter from
    the codes already there (the demo's, or tickets registered before the counter existed).
    """
    prefix = f"ZTC-{at.year}-"
    key = f"ticket_number_{at.year}"
    read = compiled("ticket number read", lambda: SystemSetting.select(SystemSetting.value)
                    .where(SystemSetting.key == "").sql()[0])
    if db.execute_sql(read, (key,)).fetchone() is None:
        numbers = [int(code[len(prefix):]) for (code,) in
                   Ticket.select(Ticket.code).where(Ticket.code.startswith(prefix)).tuples()
                   if code[len(prefix):].isdigit()]
        SystemSetting.insert(key=key, value=str(max(numbers, default=0))).on_conflict_ignore().execute()
    bump = compiled("ticket number", lambda: SystemSetting.update(
        value=SQL("CAST(CAST(value AS INTEGER) + 1 AS TEXT)")).where(SystemSetting.key == "").sql()[0])
    db.execute_sql(bump, (key,))
    number = int(db.execute_sql(read, (key,)).fetchone()[0])
    return f"{prefix}{number:04d}"


def open_ticket(workflow_key, title, content, source, actor_user=None, at=None, received_at=None, **facts):
    """A new ticket at the start of the active version of a workflow, with its first deadline.

    `received_at`: when the citizen's message or rating arrived; the clock runs from then, so a
    message left unread for a week is already late when it is finally accepted.
    """
    at = at or now()
    received_at = min(received_at or at, at)
    wf = procedures.workflow(workflow_key, at=at)  # the version in force on the day it is registered
    calendar = workdays.current()
    with db.atomic():
        ticket = Ticket(code=next_code(at), title=title, content=content, source=source,
                        workflow=wf.key, workflow_version=wf.version, stage=wf.start,
                        created_at=received_at, stage_entered_at=received_at, **facts)
        stage = wf.stages[wf.start]
        for name, value in engine.deadline_fields(wf, stage, state_of(ticket, wf), calendar, received_at).items():
            setattr(ticket, name, value)
        ticket.deadline = ticket.due_at.date() if ticket.due_at else None
        insert_row(ticket)  # what ticket.save(force_insert=True) does, its SQL built once
        insert_row(TicketEvent(ticket=ticket, actor=actor_user, role=actor_user.role if actor_user else "",
                               action="open", title="立案", to_stage=wf.start, created_at=at,
                               comment=f"按“{wf.title}”第 {wf.version} 版办理"))
        announce_stage(ticket, wf, at)
        outbox.notify_citizen(ticket, "citizen_accepted", at)
    if received_at < at and ticket.next_alert_at is not None and ticket.next_alert_at <= at:
        sweep_one(ticket.id, at, calendar)  # accepted late: its cards are due now, not in five minutes
        return Ticket.get_by_id(ticket.id)
    return ticket


def available(ticket, user):
    if ticket.status != "open":
        return []
    wf = workflow_of(ticket)
    return engine.allowed_actions(wf, state_of(ticket, wf), actor_for(user))


def citizen_grade(ticket_id, grade, at=None):
    """追评: the complainant grades the result through the query code, where the rule has a revisit.

    The grade action of the current stage is taken on the citizen's behalf; the event records
    the citizen (no officer) as its author.
    """
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    action = grade_action(ticket) if ticket is not None else None
    if action is None:
        raise ActionRefused("这个事项现在不需要评价办理结果。", status=409)
    return act(ticket_id, None, action.id, {"grade": grade}, at=at, expected_revision=ticket.revision)


def grade_action(ticket):
    """The revisit action a citizen may take now, or None."""
    if ticket.status != "open":
        return None
    stage = workflow_of(ticket).stages.get(ticket.stage)
    return next((a for a in stage.actions.values() if a.effect == "grade"), None) if stage else None


def act(ticket_id, user, action_id, data, at=None, expected_revision=None, attachments=()):
    """Take one action; raises ActionRefused, engine.InvalidInput or StaleTicket.

    `user` None: the citizen's own 追评 (see citizen_grade), acting in the grade action's role.
    """
    at = at or now()
    with db.atomic():
        ticket = Ticket.get_or_none(Ticket.id == ticket_id)
        if ticket is None:
            raise ActionRefused("没有这个工单。", status=404)
        if expected_revision is not None and ticket.revision != expected_revision:
            raise StaleTicket(_stale_message(ticket))
        wf = workflow_of(ticket)
        data = dict(data)
        if attachments:
            data["attachment"] = True
        if "unit" in data and data["unit"] not in (None, ""):
            data["unit"] = _unit_id(data["unit"])
        if data.get("co_units"):
            data["co_units"] = [_unit_id(u) for u in data["co_units"] if str(u).strip()]
        target = None
        if action_id == engine.MERGE:
            target = _merge_target(ticket, data.get("target", ""))
        if user is None:
            action = grade_action(ticket)
            if action is None or action.id != action_id:
                raise ActionRefused("这个事项现在不需要评价办理结果。", status=409)
            actor = Actor(role=action.role)
        else:
            actor = actor_for(user)
        change = engine.plan(wf, state_of(ticket, wf), actor, action_id, data, at, workdays.current())
        updates = dict(change.updates)
        if target is not None:
            updates["merged_into"] = target.id
        if "due_at" in updates:
            updates["deadline"] = updates["due_at"].date() if updates["due_at"] else None
        if "reply" in updates:  # the citizen is told which unit answered, never which officer
            updates["reply_unit"] = updates.get("handling_unit", ticket.handling_unit_id) or \
                (user.unit_id if user is not None else None)
        if user is not None:
            updates["handler"] = user.id
        co_row = _answering_co_unit(ticket, user) if change.action.effect == engine.CO_ANSWER else None
        updates["revision"] = ticket.revision + 1
        fields = {getattr(Ticket, name): value for name, value in updates.items()}
        changed = (Ticket.update(fields)
                   .where(Ticket.id == ticket.id, Ticket.revision == ticket.revision).execute())
        if changed != 1:
            raise StaleTicket(_stale_message(Ticket.get_by_id(ticket.id)))
        event_data = _event_data(change, target)
        title = change.action.title if user else "群众追评"
        if co_row is not None:  # the answer is the unit's, whoever typed it
            title, event_data["co_unit"] = f"{title}（{co_row.unit.name}）", co_row.unit.name
        event = TicketEvent.create(
            ticket=ticket, actor=user, role=user.role if user else "citizen", action=change.action.id,
            title=title, from_stage=change.from_stage, to_stage=change.to_stage, created_at=at,
            comment=(data.get("comment") or data.get("result") or "").strip(),
            data=json.dumps(event_data, ensure_ascii=False))
        fresh = Ticket.get_by_id(ticket.id)  # as the action left it: stage, unit and deadline for the notices
        if change.action.effect == "transfer":  # a new lead unit: the earlier co-handling set ends
            CoHandling.update(active=False).where(CoHandling.ticket == ticket.id, CoHandling.active).execute()
            for unit_id in change.co_units:
                CoHandling.create(ticket=ticket, unit=unit_id, created_at=at)
                outbox.notify(fresh, "handler", "co_handling", at, unit=unit_id)
        if co_row is not None:
            CoHandling.update(answer=data["comment"].strip(), answered_at=at, answered_by=user.id) \
                .where(CoHandling.id == co_row.id).execute()
        if change.action.effect == "exclude_evaluation" and ticket.evaluation_id:
            tallies.exclude(ticket.evaluation_id)
        _announce(fresh, wf, change, updates, ticket, at, data)
        if "status" in updates or "grade" in updates:
            settle_merged(fresh)
        for upload in attachments:
            upload.save_for(ticket, event, user)
        AuditLog.record("ticket_action" if user else "citizen_grade", user, ticket,
                        detail=f"{change.action.id} {change.from_stage}→{change.to_stage}")
    return Ticket.get_by_id(ticket.id), event


def _answering_co_unit(ticket, user):
    """The co-handling row this officer answers for: one of his units still to answer."""
    return (CoHandling.select().where(CoHandling.ticket == ticket.id, CoHandling.active,
                                      CoHandling.answered_at.is_null(),
                                      CoHandling.unit.in_(list(actor_for(user).unit_ids)))
            .order_by(CoHandling.id).first())


def waiting_co_units(ticket):
    """The co-handling units the lead unit still waits for, oldest request first."""
    return list(CoHandling.select().where(CoHandling.ticket == ticket.id, CoHandling.active,
                                          CoHandling.answered_at.is_null()).order_by(CoHandling.id))


def may_chase(ticket, user):
    """The lead unit's officers and the commission may press a co-handling unit for its answer."""
    if ticket.status != "open":
        return False
    if user.role in UNIT_BOUND:
        return ticket.handling_unit_id is not None and ticket.handling_unit_id in actor_for(user).unit_ids
    return user.role in ("office", "leader", "inspector")


def chase_co_unit(ticket_id, user, co_handling_id, at=None):
    """催办: press one co-handling unit for its answer; recorded in the timeline and sent to that unit."""
    at = at or now()
    with db.atomic():
        ticket = Ticket.get_or_none(Ticket.id == ticket_id)
        row = CoHandling.get_or_none(CoHandling.id == co_handling_id, CoHandling.ticket == ticket_id,
                                     CoHandling.active) if ticket is not None else None
        if row is None:
            raise ActionRefused("没有这个协办单位。", status=404)
        if not may_chase(ticket, user):
            raise ActionRefused("只有主办单位和纪委监委可以催办协办单位。", status=403)
        if row.answered_at is not None:
            raise ActionRefused(f"{row.unit.name}已经答复，不用再催办。", status=409)
        title = f"催办协办单位（{row.unit.name}）"
        chased = TicketEvent.select().where(TicketEvent.ticket == ticket.id, TicketEvent.action == "co_chase",
                                            TicketEvent.title == title).count()
        TicketEvent.create(ticket=ticket, actor=user, role=user.role, action="co_chase", title=title,
                           from_stage=ticket.stage, to_stage=ticket.stage, created_at=at,
                           comment=f"请{row.unit.name}尽快答复，主办单位等待协办意见后方可报结。",
                           data=json.dumps({"co_unit": row.unit.name}, ensure_ascii=False))
        outbox.notify(ticket, "handler", "co_chase", at, unit=row.unit_id)
        AuditLog.record("ticket_action", user, ticket, detail=f"co_chase {row.unit_id}")
    return chased + 1


def announce_stage(ticket, wf, at):
    """新待办: a ticket entering a stage that is not final tells that stage's role (and unit)."""
    stage = wf.stages.get(ticket.stage)
    if stage is None or stage.final:
        return
    unit = None
    if stage.unit not in ("any", "handling"):
        unit = Unit.select(Unit.id).where(Unit.code == stage.unit).scalar()
    outbox.notify(ticket, stage.role, "new_work", at, unit=unit)


def _announce(ticket, wf, change, updates, before, at, data):
    """The notices an action causes, to officers and (where she left a phone) to the citizen."""
    effect = change.action.effect
    if change.to_stage != change.from_stage or effect == "transfer":
        announce_stage(ticket, wf, at)
    if effect == engine.EXTEND_REQUEST:
        outbox.notify(ticket, wf.stages[before.stage].extension_approver, "extension", at, days=data["days"])
    if effect in (engine.EXTEND_APPROVE, engine.EXTEND_REJECT):
        stage = wf.stages[before.stage]
        kind = "extend_approved" if effect == engine.EXTEND_APPROVE else "extend_rejected"
        outbox.notify(ticket, stage.role, kind, at)
    if effect == "transfer":
        outbox.notify_citizen(ticket, "citizen_transfer", at)
    if updates.get("reply"):
        outbox.notify_citizen(ticket, "citizen_replied", at, reply=updates["reply"])
    if effect == "grade" and change.action.reopen_to and data.get("grade") in change.action.reopen_on:
        outbox.notify_citizen(ticket, "citizen_reopened", at)


def _event_data(change, target):
    data = dict(change.event_data)
    if "unit" in data:
        data["unit"] = Unit.get_by_id(data["unit"]).name
    if "co_units" in data:
        data["co_units"] = "、".join(Unit.get_by_id(u).name for u in data["co_units"])
    if target is not None:
        data["target"] = target.code
    return data


def _stale_message(ticket):
    wf = workflow_of(ticket)
    stage = wf.stages.get(ticket.stage)
    return (f"工单 {ticket.code} 刚刚已被他人处理，现在处于“{stage.title if stage else ticket.stage}”环节。"
            "您填写的内容没有保存，请刷新后再看是否还需要操作。")


def _unit_id(value):
    unit = Unit.get_or_none(Unit.id == int(value)) if re.fullmatch(r"[0-9]{1,18}", str(value)) else None
    if unit is None or not unit.active:
        raise engine.InvalidInput({"unit": "请选择一个在用的单位。"})
    return unit.id


def _merge_target(ticket, code):
    target = Ticket.get_or_none(Ticket.code == str(code).strip())
    if target is None:
        raise engine.InvalidInput({"target": f"没有编号为 {code} 的工单。"})
    if target.id == ticket.id or target.status != "open":
        raise engine.InvalidInput({"target": "只能合并到另一个在办的工单。"})
    return target


def settle_merged(ticket):
    """The tickets merged into this one (and into those) take its outcome: closed as it closed and
    graded as it was, so each merged 差评 counts as rectified and revisited with the problem."""
    from app.ticket_tallies import SETTLED
    merged, frontier = [], [ticket.id]
    while frontier:
        frontier = [i for (i,) in Ticket.select(Ticket.id).where(Ticket.merged_into.in_(frontier)).tuples()]
        merged += frontier
    if merged:
        settled = ticket.closing_kind if ticket.status == "closed" and ticket.closing_kind in SETTLED else None
        Ticket.update(settled_as=settled, grade=ticket.grade).where(Ticket.id.in_(merged)).execute()


def answering_unit(ticket):
    """The unit named under a public reply: the citizen learns which unit answered, never which officer."""
    return Unit.get_by_id(ticket.reply_unit_id).name if ticket.reply_unit_id else Unit.commission_name()


def follow_merges(ticket):
    """The ticket a merged one now lives in (the citizen's query code keeps answering)."""
    seen = set()
    while ticket.merged_into_id and ticket.id not in seen:
        seen.add(ticket.id)
        ticket = Ticket.get_by_id(ticket.merged_into_id)
    return ticket


# --- the deadline sweep -----------------------------------------------------------------------
def sweep(at=None, batch=500):
    """Send the reminders and cards that have come due; idempotent (each level once per stage)."""
    at = at or now()
    calendar = workdays.current()
    counts = {"remind": 0, "yellow": 0, "red": 0}
    while True:
        due = list(Ticket.select(Ticket.id).where(Ticket.next_alert_at <= at, Ticket.status == "open")
                   .order_by(Ticket.next_alert_at).limit(batch).tuples())
        if not due:
            return counts
        for (ticket_id,) in due:
            for kind in sweep_one(ticket_id, at, calendar):
                counts[kind] += 1


def sweep_one(ticket_id, at, calendar):
    """Send the alerts of one ticket that have come due; returns their kinds."""
    sent = []
    with db.atomic():
        ticket = Ticket.get_by_id(ticket_id)
        if ticket.next_alert_at is None or ticket.next_alert_at > at or ticket.due_at is None:
            return sent
        wf = workflow_of(ticket)
        reached, upcoming = engine.sweep_step(wf, calendar, ticket.due_at, ticket.alert_level, at)
        level = max(reached, default=ticket.alert_level)
        updated = (Ticket.update(alert_level=level, next_alert_at=upcoming,
                                 supervised=Ticket.supervised | (level >= 2))
                   .where(Ticket.id == ticket.id, Ticket.revision == ticket.revision,
                          Ticket.alert_level == ticket.alert_level).execute())
        if not updated:
            return sent  # an officer or another sweeper acted meanwhile; the next round looks again
        stage = wf.stages[ticket.stage]
        for lvl in reached:
            kind = ALERT_KINDS[lvl]
            roles = wf.escalation.notify.get(kind, ("stage_role",))
            for role in dict.fromkeys(stage.role if r == "stage_role" else r for r in roles):
                outbox.notify(ticket, role, kind, at)
            TicketEvent.create(ticket=ticket, action=f"alert_{kind}", title=ALERT_TEXT[lvl],
                               from_stage=ticket.stage, to_stage=ticket.stage, created_at=at,
                               comment="系统自动催办")
            sent.append(kind)
    return sent


# --- lists ----------------------------------------------------------------------------------
def waiting_stages(role):
    """[(workflow, version, [stage ids])] whose stage, or pending extension, waits for `role`."""
    from models import WorkflowVersion
    result = []
    for key, version in WorkflowVersion.select(WorkflowVersion.key, WorkflowVersion.version).tuples():
        wf = procedures.workflow(key, version)
        stages = [s.id for s in wf.stages.values() if not s.final and s.role == role]
        approvals = [s.id for s in wf.stages.values() if not s.final and s.extension_approver == role]
        if stages or approvals:
            result.append((key, version, stages, approvals))
    return result


def not_about(user):
    """The condition for tickets that do not accuse `user`, or None: a complaint never reaches the
    officer it is about, even when it is handed to his own unit."""
    staff_id = getattr(user, "staff_id", None)
    return (Ticket.staff.is_null() | (Ticket.staff != staff_id)) if staff_id else None


def todo(user):
    """Open tickets waiting for this officer's role (and unit), overdue first."""
    conditions = None
    for key, version, stages, approvals in waiting_stages(user.role):
        cond = (Ticket.workflow == key) & (Ticket.workflow_version == version)
        parts = []
        if stages:
            parts.append(Ticket.stage.in_(stages))
        if approvals:
            parts.append(Ticket.stage.in_(approvals) & Ticket.extension_requested.is_null(False))
        part = parts[0] if len(parts) == 1 else (parts[0] | parts[1])
        conditions = (cond & part) if conditions is None else conditions | (cond & part)
    units = list(Unit.subtree_ids(user.unit_id)) if user.unit_id else []
    co_waiting = Ticket.id.in_(CoHandling.select(CoHandling.ticket).where(
        CoHandling.unit.in_(units), CoHandling.active, CoHandling.answered_at.is_null()))
    if conditions is None:
        if user.role not in UNIT_BOUND:
            return Ticket.select().where(False)
        query = Ticket.select().where(Ticket.status == "open", co_waiting)
    elif user.role in UNIT_BOUND:
        query = Ticket.select().where(Ticket.status == "open",
                                      (conditions & Ticket.handling_unit.in_(units)) | co_waiting)
    else:
        query = Ticket.select().where(Ticket.status == "open", conditions)
    if not_about(user) is not None:
        query = query.where(not_about(user))
    return query.order_by(Case(None, ((Ticket.due_at.is_null(), 1),), 0), Ticket.due_at, Ticket.id)


def workdays_left(ticket, at=None):
    """Working days until the deadline (negative when overdue), or None without one."""
    if ticket.due_at is None:
        return None
    at = at or now()
    calendar = workdays.current()
    if ticket.due_at >= at:
        return calendar.workdays_between(at.date(), ticket.due_at.date())
    return -calendar.workdays_between(ticket.due_at.date(), at.date())


def supervision_list():
    return Ticket.select().where(Ticket.supervised, Ticket.status == "open").order_by(Ticket.due_at)


def init_app(app):
    """At start: the calendar seeded, workflows.yaml imported if it changed.

    A broken file no longer stops the county: the last good stored version keeps serving and the
    error is printed and shown to the office on every admin page. Refused only with no stored
    version at all (first install), or with WORKFLOWS_STRICT (`python run.py --strict`, for CI).
    """
    import sys

    from app.db import ConfigError
    from app.workflow.errors import WorkflowFileError
    from models import CalendarDay, WorkflowFile
    procedures.clear_cache()
    workdays.invalidate()
    with db.connection_context():
        if not CalendarDay.select().exists():
            workdays.seed_from_library()
    if _only_checking():
        return  # `flask check-workflows` loads the app too, and a check writes nothing
    path = app.config["WORKFLOWS_PATH"]
    try:
        procedures.import_disk_file(path)
    except WorkflowFileError as exc:
        with db.connection_context():
            stored = WorkflowFile.select().exists()
        if app.config.get("WORKFLOWS_STRICT") or not stored:
            raise ConfigError("办理流程文件有错误，系统没有启动" + ("（原来的流程仍保存在数据库里）" if stored else "")
                              + f"。请按下面的提示改正 {path} 后再启动，或运行 flask check-workflows 检查：\n{exc}")
        message = f"办理流程文件 {path} 有错误，没有采用，系统仍按上次保存的流程办理。请改正后重新启动，或在“流程规则”里保存：\n{exc}"
        print(message, file=sys.stderr, flush=True)
        procedures.record_file_error(message)


def _only_checking():
    """Whether the Flask command line is loading the app to run `check-workflows`.

    Flask loads the app to find the command, before click has a context for it (click 8.2 has
    already consumed the arguments then): the command line itself says which command it is.
    """
    import sys

    import click
    if click.get_current_context(silent=True) is None:
        return False  # run.py, a WSGI server, the tests: not the command line
    words = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    return "check-workflows" in words[:3]


def move_ticket(ticket, target, new_stage, user, at, comment):
    """Move one open ticket to a stage of another version; its deadline counted again from `at`."""
    stage = target.stages[new_stage]
    state = dataclasses.replace(state_of(ticket, target), stage=new_stage, stage_entered_at=at, due_at=None,
                                paused_at=None)
    fields = engine.deadline_fields(target, stage, state, workdays.current(), at)
    fields.update(workflow_version=target.version, stage=new_stage, stage_entered_at=at, paused_at=None,
                  extension_requested=None, revision=ticket.revision + 1,
                  deadline=fields["due_at"].date() if fields["due_at"] else None)
    changed = (Ticket.update({getattr(Ticket, k): v for k, v in fields.items()})
               .where(Ticket.id == ticket.id, Ticket.revision == ticket.revision).execute())
    if changed != 1:
        raise StaleTicket(_stale_message(Ticket.get_by_id(ticket.id)))
    TicketEvent.create(ticket=ticket, actor=user, role=user.role if user else "", action="version_move",
                       title="流程调整", from_stage=ticket.stage, to_stage=new_stage, created_at=at,
                       comment=comment, data=json.dumps({"from_version": ticket.workflow_version,
                                                         "to_version": target.version}))


def move_to_version(key, version, stage_map=None, apply=False, user=None, at=None):
    """Move the open tickets of a workflow to another stored version (`flask move-tickets`).

    `stage_map` says where tickets go whose stage the new version no longer has. Each moved
    ticket's deadline is counted again from the move and the move is in its timeline. Returns
    the report, one line per ticket; nothing is written unless `apply` and every ticket can move.
    Raises KeyError with a Chinese message for an unknown workflow or version.
    """
    from models import WorkflowVersion
    at, stage_map = at or now(), dict(stage_map or {})
    known = {}
    for k, v in WorkflowVersion.select(WorkflowVersion.key, WorkflowVersion.version) \
            .order_by(WorkflowVersion.key, WorkflowVersion.version).tuples():
        known.setdefault(k, []).append(v)
    if key not in known:
        raise KeyError(f"没有名为 {key} 的流程。已有的流程：{'、'.join(known) or '（无）'}")
    if version not in known[key]:
        raise KeyError(f"流程 {key} 没有第 {version} 版。已保存的版本：{'、'.join(map(str, known[key]))}")
    target = procedures.workflow(key, version)
    report, moves = [], []
    for ticket in Ticket.select().where(Ticket.workflow == key, Ticket.status == "open",
                                        Ticket.workflow_version != version).order_by(Ticket.id):
        new_stage = stage_map.get(ticket.stage, ticket.stage)
        if new_stage not in target.stages:
            report.append(f"{ticket.code}：环节“{ticket.stage}”在第 {version} 版中不存在，请用 --map {ticket.stage}=新环节 指定")
            continue
        if target.stages[new_stage].final:
            report.append(f"{ticket.code}：不能直接移到办结环节“{new_stage}”")
            continue
        report.append(f"{ticket.code}：第 {ticket.workflow_version} 版 {ticket.stage} → 第 {version} 版 {new_stage}")
        moves.append((ticket, new_stage))
    problems = len(report) - len(moves)
    if apply and not problems:
        with db.atomic():
            for ticket, new_stage in moves:
                old = workflow_of(ticket).stages.get(ticket.stage)
                old_title = old.title if old else ticket.stage
                new_title = target.stages[new_stage].title
                comment = (f"流程调整：改按第 {version} 版办理，环节“{old_title}”"
                           + (f"改到“{new_title}”办理" if new_stage != ticket.stage or old_title != new_title else "不变")
                           + "，时限重新计算")
                move_ticket(ticket, target, new_stage, user, at, comment)
    return report, problems


def workflow_for_rating(level, reason_titles, channel):
    """The workflow the auto_open rules give a rating, or None."""
    for rule in procedures.auto_open_rules():
        if rule.matches(level, reason_titles, channel):
            return rule.workflow
    return None


def evaluation_ticket_title(window_id, unit_id, reason_titles):
    """“企业开办窗口：办理速度慢、服务态度差”: the window (or unit) and what went wrong."""
    from models import Window
    model, key = (Window, window_id) if window_id else (Unit, unit_id)
    sql = compiled(("name", model), lambda: model.select(model.name).where(model.id == 0).sql()[0])
    what = db.execute_sql(sql, (key,)).fetchone()[0]
    return f"{what}：{'、'.join(reason_titles) or '不满意评价'}"[:200]


def counts_as_bad(evaluation):
    """A 差评 still counted (no upheld appeal): its ticket carries Ticket.bad_rating."""
    return evaluation.level in scales.BAD_LEVELS and not evaluation.excluded


def open_for_evaluation(evaluation, actor_user=None, at=None, reason_titles=None, workflow=None, title=None):
    """Open the ticket an evaluation calls for (once), per the auto_open rules.

    `reason_titles` given: a rating being stored right now, which can have no ticket yet;
    `workflow` and `title`: worked out for it before the write began (the write lock is short).
    """
    from models import EvaluationReason, Reason
    if reason_titles is None:
        if Ticket.select().where(Ticket.evaluation == evaluation).exists():
            return None
        reason_titles = [title for (title,) in Reason.select(Reason.title).join(EvaluationReason)
                         .where(EvaluationReason.evaluation == evaluation).tuples()]
    titles = list(reason_titles)
    key = workflow or workflow_for_rating(evaluation.level, titles, evaluation.channel)
    if key is None:
        return None
    title = evaluation_ticket_title(evaluation.window_id, evaluation.unit_id, titles) if title is None else title
    return open_ticket(key, title=title, content=evaluation.comment or "（评价未留言）",
                       source=evaluation.channel, actor_user=actor_user, at=at,
                       received_at=evaluation.created_at, unit=evaluation.unit_id,
                       window=evaluation.window_id, staff=evaluation.staff_id, evaluation=evaluation.id,
                       contact=evaluation.contact_id,
                       bad_rating=counts_as_bad(evaluation))


def open_for_message(message, actor_user=None, at=None):
    """Accept a 留言 as a ticket in the message workflow (once)."""
    from models import Message
    existing = Ticket.get_or_none(Ticket.message == message)
    if existing is not None:
        return existing
    with db.atomic():
        ticket = open_ticket("message", title=message.content[:30], content=message.content,
                             source=message.channel, actor_user=actor_user, at=at,
                             received_at=message.created_at, unit=message.unit_id,
                             query_code=message.query_code,  # the citizen holds one code for both
                             handling_unit=message.unit_id, message=message.id, contact=message.contact_id)
        Message.update(status="accepted").where(Message.id == message.id).execute()
    return ticket
