"""A county where a complainant (the canary) reported hall_b through every channel, for the trust tests.

Every record the tests reach for exists twice where it can: hall_a's (the logged-in handler's own
unit) and hall_b's (the unit complained about). The complainant's name, phone, company and credit
code are unique strings: any page that shows one of them to the wrong officer is a leak.
"""
import datetime
import hashlib

from app import appeals, credit_code, ratings, symposia, tickets
from app.attachments import Upload
from models import (Accountability, ApiToken, AuditLog, CalendarDay, CaseVolume, Channel, CoHandling, Contact,
                    Delivery, FraudSignal, Notification, Reason, Ticket, WorkflowFile)

NAME = "金丝雀测试人甲"
PHONE = "13912345678"
MASKED_PHONE = "139****5678"
COMPANY = "金丝雀测试有限公司"
_BASE = "91130924MA0C8R7Q2"
CREDIT_CODE = _BASE + credit_code.check_digit(_BASE)

# Facts of hall_b's complaints that the accused unit's handler must read (it has to fix them).
FACTS = ("窗口人员索要好处费", "办理医保报销时工作人员暗示要给好处")

ROLE_USERS = {"sysadmin": "t_admin", "secadmin": "t_security", "office": "t_office", "leader": "t_leader", "inspector": "t_inspector",
              "handler": "t_handler_a", "bureau": "t_bureau", "auditor": "t_auditor"}
TOKENS = {role: f"token-of-{role}-0123456789abcdef" for role in ROLE_USERS}
TOKENS["handler_b"] = "token-of-handler-b-0123456789abcdef"


def _token(user, token):
    ApiToken.create(user=user, name="测试", token_hash=hashlib.sha256(token.encode()).hexdigest())


def _walk(ticket, *steps):
    for user, action, data in steps:
        ticket, _event = tickets.act(ticket.id, user, action, data)
    return ticket


def build(county, make_user):
    """The county's records, as a dict of names to rows (ids are read from them)."""
    hall_a, hall_b = county["hall_a"], county["hall_b"]
    users = {role: make_user(name, role, hall_a if role == "handler" else None) for role, name in ROLE_USERS.items()}
    users["handler_b"] = make_user("t_handler_b", "handler", hall_b)
    for role, user in users.items():
        _token(user, TOKENS[role])
    office, leader = users["office"], users["leader"]
    bad = [str(Reason.get(Reason.title == "吃拿卡要").id)]

    # A problem reported by phone, walked to hall_b's desk by the commission.
    problem_b = tickets.open_ticket("problem", title=FACTS[0], content=FACTS[1], source="hotline", actor_user=office,
                                    unit=hall_b.id, window=county["w2"].id, staff=county["s2"].id,
                                    contact=Contact.create(name=NAME, phone=PHONE))
    problem_b = _walk(problem_b, (office, "submit", {"comment": "呈报"}),
                      (leader, "transfer", {"unit": hall_b.id, "comment": "请医保局核实"}))
    problem_a = tickets.open_ticket("problem", title="本单位承办的问题", content="窗口排队太久", source="web",
                                    actor_user=office, unit=hall_a.id,
                                    contact=Contact.create(name="甲方", phone="13800000001"))
    problem_a = _walk(problem_a, (office, "submit", {"comment": "呈报"}),
                      (leader, "transfer", {"unit": hall_a.id, "comment": "请审批局核实"}))
    # Each waits for the township's answer as co-handler (no account of the township is logged in).
    co_b = CoHandling.create(ticket=problem_b, unit=county["township"])
    co_a = CoHandling.create(ticket=problem_a, unit=county["township"])
    # A message on the board (a ticket opens with it), an enterprise's appeal, a symposium's issue.
    message_b = appeals.leave_message("complaint", hall_b.id, "医保窗口工作人员态度恶劣还要红包", NAME, PHONE)
    message_a = appeals.leave_message("suggestion", hall_a.id, "建议审批局增加座椅", "乙方", "13800000002")
    enterprise_b = appeals.enterprise_appeal(COMPANY, CREDIT_CODE, NAME, PHONE, "审批", "医保定点申请拖了三个月")
    enterprise_b = _walk(enterprise_b, (office, "assign", {"unit": hall_b.id, "classification": "审批",
                                                           "comment": "交医保局办理"}))
    rows, errors = symposia.parse_rows(f"{COMPANY}\t融资\t医保结算资金迟迟不到账\t{hall_b.code}\t5")
    assert not errors, errors
    meeting = symposia.register("纪企直通车政企座谈会", "县纪委", datetime.date.today(), rows, office)
    # A 不满意 rating of hall_b's window with the canary's phone (the rules open a ticket for it).
    evaluation_b, _ticket, _created = ratings.submit(
        county["w2"].token, "dissatisfied", bad, "工作人员吃拿卡要", PHONE, "qr", ratings.new_submission_key(),
        staff_id=county["s2"].id)
    _walk(Ticket.get(Ticket.evaluation == evaluation_b.id), (office, "submit", {"comment": "呈报"}),
          (leader, "transfer", {"unit": hall_b.id, "comment": "请医保局核实"}))
    evaluation_a, _ticket, _created = ratings.submit(
        county["w1"].token, "dissatisfied", bad, "本单位的差评", "", "qr", ratings.new_submission_key())

    attachment_b = Upload("整改报告.pdf", b"%PDF-1.4 test", "application/pdf", ".pdf").save_for(problem_b, None, office)
    attachment_a = Upload("回执.pdf", b"%PDF-1.4 test", "application/pdf", ".pdf").save_for(problem_a, None, office)
    accountability_b = Accountability.create(ticket=problem_b, unit=hall_b, staff=county["s2"], kind="criticism",
                                             decided_on=datetime.date.today(), document_number="纪通〔2026〕1号",
                                             decider="县纪委监委", created_by=office)
    signal_b = FraudSignal.create(kind="burst", unit=hall_b, window=county["w2"], detail="十分钟内 12 条")
    volume_b = CaseVolume.create(unit=hall_b, month=datetime.date.today().replace(day=1), cases=40)
    national_day = datetime.date(datetime.date.today().year, 10, 1)
    day = (CalendarDay.get_or_none(CalendarDay.day == national_day)
           or CalendarDay.create(day=national_day, workday=False))
    notice_b = Notification.create(role="handler", unit=hall_b, ticket=problem_b, kind="remind",
                                   message=f"{problem_b.code} 即将到期")
    channel_b = Channel.create(title="医保局工作群", kind="unit", unit=hall_b, url="json://127.0.0.1:9/hall_b")
    delivery_b = Delivery.create(notification=notice_b, channel=channel_b, status="failed", attempts=6,
                                 scheduled_at=notice_b.created_at, next_attempt_at=notice_b.created_at,
                                 last_error="error=500")
    AuditLog.record("login", users["office"], users["office"])
    # A password reset the security administrator asked for, awaiting a leader (two-person rule).
    from models import AccountRequest
    account_request = AccountRequest.create(user=make_user("t_inspector_2", "inspector"), kind="password",
                                            reason="本人忘记密码", requested_by=users["secadmin"])
    return {
        **county, "users": users, "account_request": account_request, "problem_b": problem_b, "problem_a": problem_a, "message_b": message_b,
        "message_a": message_a, "enterprise_b": enterprise_b, "meeting": meeting,
        "symposium_b": Ticket.get(Ticket.symposium == meeting.id), "evaluation_b": evaluation_b,
        "evaluation_a": evaluation_a, "attachment_b": attachment_b, "attachment_a": attachment_a,
        "accountability_b": accountability_b, "signal_b": signal_b, "channel_b": channel_b,
        "delivery_b": delivery_b, "volume_b": volume_b, "day": day,
        "workflow_file": WorkflowFile.select().order_by(WorkflowFile.id).first(), "co_b": co_b, "co_a": co_a,
    }
