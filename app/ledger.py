"""台账: the problems ledger, laid out as the office keeps it, written row by row to an XLSX file.

Rows are read in chunks and written by openpyxl's write-only workbook, so a county's whole
history costs the memory of one chunk, not of the workbook.
"""
import datetime
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from peewee import Tuple

from app import tickets, workdays
from app.i18n import in_chinese
from app.spreadsheet import safe_cell
from app.workflow.schema import Duration
from models import (ACCOUNTABILITY_KINDS, CHANNELS, Accountability, Contact, Staff, Ticket, TicketEvent, Unit,
                    Window, mask_phone, now)

COLUMNS = (("序号", 6), ("来源", 10), ("反映人", 14), ("被反映单位/人员", 24), ("问题摘要", 48), ("受理时间", 17),
           ("批办意见", 36), ("承办单位", 18), ("办理时限", 12), ("办理结果", 48), ("办结时间", 17),
           ("是否超期", 9), ("问责情况", 30))
CHUNK = 500
STATES = ("open", "closed", "overdue")


@dataclass
class Filters:
    start: datetime.date = None
    end: datetime.date = None
    unit_id: int = None  # the unit concerned or the handling unit
    source: str = None
    state: str = None  # open | closed | overdue
    unit_ids: frozenset = None  # a unit-bound officer's own units: nothing else is listed
    show_reporter: bool = True  # False for a unit-bound officer: no trace of who complained
    reader_staff_id: int = None  # the reader's own roster entry: tickets about him are left out


def query(filters):
    rows = Ticket.select().where(Ticket.merged_into.is_null())
    if filters.start:
        rows = rows.where(Ticket.created_at >= datetime.datetime.combine(filters.start, datetime.time()))
    if filters.end:
        rows = rows.where(Ticket.created_at < datetime.datetime.combine(filters.end, datetime.time())
                          + datetime.timedelta(days=1))
    if filters.unit_id:
        rows = rows.where((Ticket.unit == filters.unit_id) | (Ticket.handling_unit == filters.unit_id))
    if filters.unit_ids is not None:
        rows = rows.where(Ticket.handling_unit.in_(list(filters.unit_ids)))
    if filters.reader_staff_id:
        rows = rows.where(Ticket.staff.is_null() | (Ticket.staff != filters.reader_staff_id))
    if filters.source:
        rows = rows.where(Ticket.source == filters.source)
    if filters.state in ("open", "closed"):
        rows = rows.where(Ticket.status == filters.state)
    return rows.order_by(Ticket.created_at, Ticket.id)


def masked_reporter(contact):
    """张** 138****5678: enough for the office to recognise a case, not to expose a person."""
    if contact is None:
        return "匿名"
    parts = []
    if contact.company:
        parts.append(contact.company[:2] + "**" + contact.company[-2:] if len(contact.company) > 4 else "****")
    if contact.name:
        parts.append(contact.name[0] + "*" * (len(contact.name) - 1))
    if contact.phone:
        parts.append(mask_phone(contact.phone))
    return " ".join(parts) or "匿名"


def overall_due(ticket, calendar):
    """The handling limit as a whole: an agreed 限期, else the procedure's limit counted from receipt."""
    stage = next((s for s in tickets.workflow_of(ticket).stages.values()
                  if s.deadline is not None and s.deadline.start == "created"), None)
    if ticket.time_limit:
        return calendar.due(Duration(ticket.time_limit, "workdays", "created"), ticket.created_at)[0]
    if stage is not None:
        return calendar.due(stage.deadline, ticket.created_at)[0]
    return ticket.due_at


def rows(filters, at=None):
    """The ledger's rows, in order, as lists of cell values."""
    at = at or now()
    calendar = workdays.current()
    names = dict(Unit.select(Unit.id, Unit.name).tuples())
    with in_chinese():
        channels = {k: str(v) for k, v in CHANNELS}
        kinds = {k: str(v) for k, v in ACCOUNTABILITY_KINDS}
    number = 0
    for chunk in _chunks(query(filters)):
        ids = [t.id for t in chunk]
        contacts = {c.id: c for c in Contact.select().where(Contact.id.in_([t.contact_id for t in chunk
                                                                             if t.contact_id]))} \
            if filters.show_reporter else {}
        windows = dict(Window.select(Window.id, Window.name).where(Window.id.in_(
            [t.window_id for t in chunk if t.window_id])).tuples())
        staff = dict(Staff.select(Staff.id, Staff.name).where(Staff.id.in_(
            [t.staff_id for t in chunk if t.staff_id])).tuples())
        instructions = _instructions(ids)
        measures = {}
        for a in Accountability.select().where(Accountability.ticket.in_(ids)).order_by(Accountability.decided_on):
            measures.setdefault(a.ticket_id, []).append(f"{kinds.get(a.kind, a.kind)}（{a.document_number}）")
        for t in chunk:
            due = overall_due(t, calendar)
            finished = t.closed_at if t.status == "closed" else None
            # Late: a stage ever got its yellow card, or the whole limit has passed.
            late = t.supervised or (due is not None and (finished or at) > due)
            if filters.state == "overdue" and not late:
                continue
            number += 1
            concerned = "、".join(p for p in (names.get(t.unit_id, ""), windows.get(t.window_id, ""),
                                              staff.get(t.staff_id, "")) if p)
            yield [number, channels.get(t.source, t.source),
                   masked_reporter(contacts.get(t.contact_id)) if filters.show_reporter else "—",
                   concerned, f"{t.title}：{t.content}"[:300], t.created_at, instructions.get(t.id, ""),
                   names.get(t.handling_unit_id, ""), due.date() if due else None, t.result or "", finished,
                   "是" if late else "否", "；".join(measures.get(t.id, ()))]


def _chunks(query_rows):
    """The query in chunks, each starting after the last row of the one before (no OFFSET scans)."""
    chunk = list(query_rows.limit(CHUNK))
    while chunk:
        yield chunk
        last = chunk[-1]
        chunk = list(query_rows.where(Tuple(Ticket.created_at, Ticket.id) > (last.created_at, last.id))
                     .limit(CHUNK))


def _instructions(ticket_ids):
    """批办意见: what the leader wrote, else the comment with which the ticket was handed out."""
    found, fallback = {}, {}
    events = (TicketEvent.select(TicketEvent.ticket, TicketEvent.role, TicketEvent.action, TicketEvent.comment)
              .where(TicketEvent.ticket.in_(ticket_ids), TicketEvent.comment != "")
              .order_by(TicketEvent.created_at, TicketEvent.id).tuples())
    for ticket_id, role, action, comment in events:
        if role == "leader":
            found[ticket_id] = "；".join(filter(None, (found.get(ticket_id), comment)))
        elif action in ("assign", "transfer", "dispatch") and ticket_id not in fallback:
            fallback[ticket_id] = comment
    return {t: found.get(t) or fallback.get(t, "") for t in ticket_ids}


def write_xlsx(target, filters, at=None, title="问题台账"):
    """Write the ledger to `target` (a path or a binary file); returns the number of problems written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    for i, (_name, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[chr(64 + i)].width = width
    sheet.freeze_panes = "A2"
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    header = []
    for name, _width in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for values in rows(filters, at):
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=safe_cell(value))  # citizen text never runs as a formula
            if isinstance(value, str) and len(value) > 20:
                cell.alignment = wrap
            if isinstance(value, datetime.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    book.save(target)
    return count
