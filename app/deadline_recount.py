"""Open tickets' deadlines counted again after the working-day calendar changed.

A deadline in working days keeps its number of working days from where it was counted: the
stage's entry, or the ticket's registration for a limit counted `from: created`. So an approved
extension (added to the deadline in working days) and the days a paused clock added on resuming
stay in the count, and only the calendar under them changes. Days inside a past pause are the
exception: they were added back because the clock stood still, so a day there that becomes a
holiday takes one day from the compensation instead of moving the deadline.

What cannot be recounted exactly, and is chosen here:
- a deadline carried over by a transfer (`deadline: continue`) is counted from the transfer, as
  the ticket no longer says when the earlier stage began; a change before the transfer moves none.
- a deadline in calendar days or hours does not depend on the calendar; only its reminders and
  its 推算 flag are counted again.
Alert times (reminder, yellow and red card) are computed again from the new deadline for the
levels the ticket has not reached yet; a paused ticket keeps no alert until it resumes.

Only the tickets whose counting window (start, red card] can contain a changed day are read: the
cost follows the tickets a change can touch, not the number of open tickets.
"""
import bisect
import datetime
import json
from types import SimpleNamespace

from app.tickets import workflow_of
from app.workflow import engine
from models import Ticket, TicketEvent, WorkflowVersion, now

ONE_DAY = datetime.timedelta(days=1)
CHUNK = 500  # ids per IN (…): SQLite's limit on a statement's variables


def changed_days(before, after, days):
    """The days among `days` whose working-day status or 推算 status differs between two calendars."""
    return sorted(d for d in set(days)
                  if before.is_workday(d) != after.is_workday(d) or before.official(d) != after.official(d))


def recount(before, after, days, at=None, user=None):
    """Count the open tickets' deadlines again; returns the number of deadlines moved.

    `before`/`after`: the calendars (app.workdays.Calendar) around the edit; `days`: the days the
    edit touched. Runs in the caller's transaction, so the calendar and the deadlines change together.
    """
    at = at or now()
    changed = changed_days(before, after, days)
    if not changed:
        return 0
    first, last = changed[0], changed[-1]
    margin = datetime.timedelta(days=_alert_margin_days())
    fields = (Ticket.id, Ticket.workflow, Ticket.workflow_version, Ticket.stage, Ticket.created_at,
              Ticket.stage_entered_at, Ticket.due_at, Ticket.deadline_estimated, Ticket.next_alert_at,
              Ticket.alert_level, Ticket.paused_at, Ticket.revision, Ticket.time_limit)
    low = datetime.datetime.combine(first, datetime.time()) - margin
    high = datetime.datetime.combine(last, datetime.time()) + ONE_DAY
    query = (Ticket.select(*fields)
             .where(Ticket.status == "open", Ticket.due_at >= low,
                    (Ticket.created_at < high) | (Ticket.due_at < high + margin))
             .namedtuples())
    pending = [row for row in query if _window_holds_change(row, changed, margin)]
    moved = 0
    for _attempt in range(3):
        if not pending:
            break
        pauses = _past_pauses([row.id for row in pending])
        plans = [plan for plan in (_plan(row, before, after, pauses.get(row.id, ())) for row in pending) if plan]
        written, stale = _write(plans, at, user)
        moved += written
        pending = [row for i in range(0, len(stale), CHUNK)
                   for row in Ticket.select(*fields).where(Ticket.id.in_(stale[i:i + CHUNK]),
                                                           Ticket.status == "open").namedtuples()]
    return moved


def _alert_margin_days():
    """Calendar days a reminder can come before, or a red card after, a deadline, in any version."""
    longest = 1
    for key, version in WorkflowVersion.select(WorkflowVersion.key, WorkflowVersion.version).tuples():
        esc = workflow_of(SimpleNamespace(workflow=key, workflow_version=version)).escalation
        for duration in (esc.remind_before, esc.red_after):
            if duration is None:
                continue
            span = {"hours": duration.amount // 24 + 1, "days": duration.amount}.get(
                duration.unit, duration.amount * 2 + 12)  # working days: weekends and the longest break
            longest = max(longest, span + 1)
    return longest


def _window_holds_change(row, changed, margin):
    """A cheap first test: some changed day lies between the ticket's start and its last alert."""
    start = min(row.created_at, row.stage_entered_at or row.created_at).date()
    i = bisect.bisect_right(changed, start)
    return i < len(changed) and changed[i] <= (row.due_at + margin).date()


def _past_pauses(ticket_ids):
    """{ticket id: [(paused, resumed)]}: the clock's stops already added back to the deadline."""
    pauses = {}
    for i in range(0, len(ticket_ids), CHUNK):
        rows = (TicketEvent.select(TicketEvent.ticket, TicketEvent.created_at, TicketEvent.data)
                .where(TicketEvent.ticket.in_(ticket_ids[i:i + CHUNK]), TicketEvent.action == engine.RESUME)
                .tuples())
        for ticket_id, resumed, data in rows:
            try:
                paused = datetime.datetime.fromisoformat(json.loads(data)["paused_since"])
            except (ValueError, KeyError, TypeError):
                continue
            pauses.setdefault(ticket_id, []).append((paused, resumed))
    return pauses


def new_deadline(row, stage, before, after, pauses=()):
    """(due_at, estimated) for one ticket under the `after` calendar."""
    deadline = stage.deadline
    from_created = deadline is not None and deadline.start == "created"
    unit = "workdays" if (deadline is None or (from_created and row.time_limit)) else deadline.unit
    if unit == "hours":
        return row.due_at, False
    if unit == "days":
        return row.due_at, not after.official(row.due_at.date())
    start = (row.created_at if from_created else row.stage_entered_at or row.created_at).date()
    due = row.due_at.date()
    count = before.workdays_between(start, due)
    for paused, resumed in pauses:
        if paused >= (row.stage_entered_at or row.created_at) and paused.date() < resumed.date():
            count += (after.workdays_between(paused.date(), resumed.date())
                      - before.workdays_between(paused.date(), resumed.date()))
    if count <= 0:
        return row.due_at, row.deadline_estimated
    day, estimated = after.add_workdays(start, count)
    return datetime.datetime.combine(day, row.due_at.time()), estimated


def _plan(row, before, after, pauses):
    """(row, {column: value}, moved) for a ticket whose deadline, flag or alert changes; else None."""
    wf = workflow_of(row)
    stage = wf.stages.get(row.stage)
    if stage is None or stage.final:
        return None
    due, estimated = new_deadline(row, stage, before, after, pauses)
    next_alert = row.next_alert_at  # a paused clock has no alert until it resumes
    if row.paused_at is None:
        next_alert = next((moment for level, moment in engine.alert_times(wf, after, due)
                           if level > row.alert_level), None)
    moved = due != row.due_at
    if not moved and estimated == row.deadline_estimated and next_alert == row.next_alert_at:
        return None
    return row, {"due_at": due, "deadline_estimated": estimated, "next_alert_at": next_alert}, moved


def _write(plans, at, user):
    """Write the plans, those alike in one UPDATE; returns (deadlines moved, ids changed meanwhile).

    Each UPDATE is guarded by the revision read: a ticket an officer acted on meanwhile is left for
    another pass. A moved deadline raises the revision, so an officer's form opened on the old
    deadline is told the ticket changed.
    """
    groups = {}
    for row, values, moved in plans:
        key = (values["due_at"], values["deadline_estimated"], values["next_alert_at"], moved, row.revision)
        groups.setdefault(key, []).append(row)
    events, stale = [], []
    for (due, estimated, next_alert, moved, revision), rows in groups.items():
        updates = {Ticket.due_at: due, Ticket.deadline: due.date(), Ticket.deadline_estimated: estimated,
                   Ticket.next_alert_at: next_alert}
        if moved:
            updates[Ticket.revision] = revision + 1
        for i in range(0, len(rows), CHUNK):
            chunk = rows[i:i + CHUNK]
            ids = [row.id for row in chunk]
            count = Ticket.update(updates).where(Ticket.id.in_(ids), Ticket.revision == revision).execute()
            done = set(ids)
            if count != len(ids):  # rare: find which ones an officer changed first
                done = {i for (i,) in Ticket.select(Ticket.id).where(
                    Ticket.id.in_(ids), Ticket.revision == (revision + 1 if moved else revision),
                    Ticket.due_at == due).tuples()}
                stale += [i for i in ids if i not in done]
            if moved:
                events += [_event(row, due, at, user) for row in chunk if row.id in done]
    for i in range(0, len(events), 50):  # 10 columns a row: within SQLite's variables
        TicketEvent.insert_many(events[i:i + 50]).execute()
    return len(events), stale


def _event(row, due, at, user):
    """The timeline entry of one moved deadline."""
    return {"ticket": row.id, "actor": user.id if user else None, "role": getattr(user, "role", "") or "",
            "action": "calendar_recount", "title": "工作日历调整", "from_stage": row.stage, "to_stage": row.stage,
            "created_at": at, "comment": f"因工作日历调整，时限由 {_day(row.due_at, due)} 改为 {_day(due, row.due_at)}",
            "data": json.dumps({"from": row.due_at.isoformat(sep=" "), "to": due.isoformat(sep=" ")}, ensure_ascii=False)}


def _day(moment, other):
    """1月18日, with the year only when the two dates lie in different years."""
    if moment.year != other.year:
        return f"{moment.year}年{moment.month}月{moment.day}日"
    return f"{moment.month}月{moment.day}日"
