"""座谈会 batches: a meeting's issues registered one by one, each a ticket with its deadline."""
import datetime

from app import tickets
from app.appeals import ENTERPRISE_CATEGORIES, enterprise_title
from models import Contact, Symposium, Ticket, Unit, db, now


class Refused(ValueError):
    def __init__(self, errors):
        self.errors = errors
        super().__init__("；".join(errors))


TIME_LIMIT_MAX = 60  # working days: a longer 限期 is a plan, not a deadline


def parse_rows(text):
    """Rows pasted from Excel (tab-separated): 企业, 类别, 问题, 承办单位 (name or code)[, 限期 working days]."""
    rows, errors = [], []
    units = {}
    for u in Unit.select(Unit.id, Unit.code, Unit.name).where(Unit.active):
        units[u.code] = units[u.name] = u.id
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in (line.split("\t") if "\t" in line else line.split("|"))]
        if len(cells) not in (4, 5):
            errors.append(f"第 {number} 行应当有 4 列（企业、类别、问题、承办单位）或再加一列限期（工作日），"
                          f"现在有 {len(cells)} 列。")
            continue
        company, category, content, unit = cells[:4]
        days = cells[4].removesuffix("个工作日").removesuffix("工作日").strip() if len(cells) == 5 else ""
        # isdecimal: "①" and "²" are digits to isdigit() but no number to int().
        if days and not (days.isdecimal() and 1 <= int(days) <= TIME_LIMIT_MAX):
            errors.append(f"第 {number} 行的限期“{cells[4]}”应当是 1 到 {TIME_LIMIT_MAX} 之间的工作日数，"
                          "不填则按流程时限。")
        if not company or not content:
            errors.append(f"第 {number} 行缺少企业名称或问题。")
        elif len(company) > 100:  # the contact's column holds no more
            errors.append(f"第 {number} 行的企业名称太长（最多 100 字）。")
        if category not in ENTERPRISE_CATEGORIES:
            errors.append(f"第 {number} 行的类别“{category}”不认识，可选：{'、'.join(ENTERPRISE_CATEGORIES)}。")
        if unit not in units:
            errors.append(f"第 {number} 行的承办单位“{unit}”不存在，请写单位全称或编码。")
        rows.append({"company": company, "category": category, "content": content, "unit": units.get(unit),
                     "days": int(days) if days.isdecimal() else None})
    if not rows and not errors:
        errors.append("请至少登记一个问题。")
    return rows, errors


def register(title, place, held_on, rows, user, at=None):
    """The meeting and one enterprise ticket per issue, each handed to its unit: all or nothing.

    An issue's agreed 限期 counts from the meeting's day, the moment the company raised it.
    """
    at = at or now()
    errors = []
    if not (title or "").strip():
        errors.append("请填写座谈会名称。")
    if not isinstance(held_on, datetime.date):
        errors.append("请填写座谈会日期。")
    if errors:
        raise Refused(errors)
    raised = min(datetime.datetime.combine(held_on, at.time()), at)
    with db.atomic():
        meeting = Symposium.create(title=title.strip(), place=(place or "").strip(), held_on=held_on, created_at=at)
        for row in rows:
            contact = Contact.create(company=row["company"])
            ticket = tickets.open_ticket("enterprise", title=enterprise_title(row["category"], row["content"]),
                                         content=row["content"], source="symposium", actor_user=user, at=at,
                                         received_at=raised if row["days"] else at, time_limit=row["days"],
                                         contact=contact, classification=row["category"], symposium=meeting.id)
            agreed = f"，限 {row['days']} 个工作日办结" if row["days"] else "，按流程时限办理"
            tickets.act(ticket.id, user, "assign", {"unit": row["unit"], "classification": row["category"],
                                                    "comment": f"{meeting.title}登记{agreed}"}, at=at)
    return meeting


def tally(rows):
    """{total, solved, explained, open} from (status, closing_kind, count) rows."""
    counts = {"total": 0, "solved": 0, "explained": 0, "open": 0}
    for status, kind, n in rows:
        counts["total"] += n
        key = "open" if status == "open" else kind if kind in ("solved", "explained") else None
        if key:
            counts[key] += n
    return counts


def counts_by_meeting():
    """{meeting id: tally} of every symposium's tickets, in one query."""
    from peewee import fn
    grouped = {}
    for meeting, status, kind, n in (Ticket.select(Ticket.symposium, Ticket.status, Ticket.closing_kind,
                                                  fn.COUNT(Ticket.id))
                                     .where(Ticket.symposium.is_null(False))
                                     .group_by(Ticket.symposium, Ticket.status, Ticket.closing_kind).tuples()):
        grouped.setdefault(meeting, []).append((status, kind, n))
    return {meeting: tally(rows) for meeting, rows in grouped.items()}


def agreed_dates(rows):
    """{ticket id: the day its agreed 限期 ends}, counted in working days from the meeting."""
    from app import workdays
    from app.workflow.schema import Duration
    calendar = workdays.current()
    return {t.id: calendar.due(Duration(t.time_limit, "workdays", "created"), t.created_at)[0].date()
            for t in rows if t.time_limit}


def checklist(meeting):
    """The meeting's 清单: its tickets and how many are solved, explained, still open."""
    rows = list(Ticket.select().where(Ticket.symposium == meeting).order_by(Ticket.id))
    return rows, tally((t.status, t.closing_kind, 1) for t in rows)
