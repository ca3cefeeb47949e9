"""Messages and enterprise appeals from citizens: checked, stored with a query code, ticket opened."""
import re

from app import credit_code, tickets, track_lock
from models import MESSAGE_KINDS, Contact, Message, Ticket, Unit, db, now

CONTENT_MAX = 2000
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
ROW_ID = re.compile(r"[0-9]{1,18}")
ENTERPRISE_CATEGORIES = ("融资", "用工", "物流", "审批", "水电气", "其他")


class Refused(ValueError):
    def __init__(self, errors):
        self.errors = errors
        super().__init__("；".join(errors.values()))


def _contact_errors(name, phone, errors, phone_required=False):
    if len(name) > 50:
        errors["name"] = "姓名最多 50 字。"
    if phone and not PHONE.match(phone):
        errors["phone"] = "请填写正确的手机号（11 位）或座机号（如 0317-6612345）。"
    elif phone_required and not phone:
        errors["phone"] = "请留下联系电话，便于我们联系您。"


def leave_message(kind, unit_id, content, name, phone, channel="web", at=None):
    """A 留言: stored with its query code, and a ticket opened in the message workflow."""
    at = at or now()
    errors = {}
    name, phone, content = (name or "").strip(), re.sub(r"\s", "", phone or ""), (content or "").strip()
    if not isinstance(kind, str) or kind not in dict(MESSAGE_KINDS):
        errors["kind"] = "请选择留言类别。"
    unit = None
    if unit_id not in (None, ""):
        # ASCII digits ("²".isdigit() is true, int("²") fails), few enough for a 64-bit id.
        unit = Unit.get_or_none(Unit.id == int(unit_id), Unit.active) if ROW_ID.fullmatch(str(unit_id)) else None
        if unit is None:
            errors["unit"] = "请从列表中选择单位，或选“不确定”。"
    if not content:
        errors["content"] = "请写下您要反映的内容。"
    elif len(content) > CONTENT_MAX:
        errors["content"] = f"内容最多 {CONTENT_MAX} 字，现在有 {len(content)} 字。"
    _contact_errors(name, phone, errors)
    if errors:
        raise Refused(errors)
    with db.atomic():
        contact = Contact.create(name=name, phone=phone) if (name or phone) else None
        message = Message.create(kind=kind, unit=unit, content=content, channel=channel, contact=contact,
                                 created_at=at)
        tickets.open_for_message(message, at=at)
    return message


def enterprise_title(category, content):
    """【类别】and the issue's first words, never the company: the handling unit reads the title."""
    return f"【{category}】{content[:30]}"[:200]


def enterprise_appeal(company, code, name, phone, category, content, at=None):
    """纪企直通车: an enterprise's difficulty, a ticket in the enterprise workflow."""
    at = at or now()
    errors = {}
    company, code = (company or "").strip(), (code or "").strip().upper()
    name, phone, content = (name or "").strip(), re.sub(r"\s", "", phone or ""), (content or "").strip()
    if not company:
        errors["company"] = "请填写企业名称。"
    elif len(company) > 100:
        errors["company"] = "企业名称最多 100 字。"
    if not credit_code.is_valid(code):
        errors["credit_code"] = "统一社会信用代码应为 18 位，请核对营业执照（最后一位是校验码）。"
    if category not in ENTERPRISE_CATEGORIES:
        errors["category"] = "请选择诉求类别。"
    if not content:
        errors["content"] = "请写明遇到的困难。"
    elif len(content) > CONTENT_MAX:
        errors["content"] = f"内容最多 {CONTENT_MAX} 字，现在有 {len(content)} 字。"
    if not name:
        errors["name"] = "请填写联系人。"
    _contact_errors(name, phone, errors, phone_required=True)
    if errors:
        raise Refused(errors)
    with db.atomic():
        contact = Contact.create(name=name, phone=phone, company=company, credit_code=code)
        ticket = tickets.open_ticket("enterprise", title=enterprise_title(category, content), content=content,
                                     source="web", at=at, contact=contact, classification=category)
    return ticket


def find(code, last4="", ip=""):
    """The ticket (following merges) and message for a query code, or None.

    A real-name message also needs the last four digits of its phone: a code alone read over a
    shoulder does not reveal someone's complaint. Digits given and wrong (or given for no record)
    count towards the code's lock; track_lock.Locked is raised while it holds, right digits or not.
    """
    code = (code or "").strip().upper()
    if not re.fullmatch(r"[0-9A-Z]{12}", code):
        return None
    track_lock.check(code)
    last4 = (last4 or "").strip()
    message = Message.get_or_none(Message.query_code == code)
    ticket = Ticket.get_or_none(Ticket.query_code == code)
    if ticket is None and message is not None:
        ticket = Ticket.get_or_none(Ticket.message == message)
    contact = (ticket.contact if ticket is not None and ticket.contact_id else
               message.contact if message is not None and message.contact_id else None)
    if (ticket is None and message is None) or (contact is not None and contact.phone
                                                 and last4 != contact.phone[-4:]):
        if last4:  # without digits nothing was guessed
            track_lock.record_failure(code, ticket or message, ip)
        return None
    return {"ticket": tickets.follow_merges(ticket) if ticket is not None else None, "message": message}
