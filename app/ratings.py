"""Citizens' ratings: checked, stored once per service moment, and a ticket opened if the rules say.

Everything for one rating (the evaluation, its reasons, the contact, the ticket) is written in one
transaction: a refused or failed rating leaves nothing behind.
"""
import datetime
import re
import secrets

from peewee import IntegrityError

from app import tickets
from models import Contact, Evaluation, EvaluationReason, FraudSignal, Reason, Staff, Window, db, now

LEVELS = ("satisfied", "average", "dissatisfied")
CHANNELS = ("kiosk", "qr")
COMMENT_MAX = 500
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


class RatingRefused(ValueError):
    """What is wrong with a rating, field by field, in Chinese."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("；".join(errors.values()))


def new_submission_key():
    return secrets.token_hex(16)


def target_for(token):
    """(window, staff) for a public token on a window's QR code or an officer's badge."""
    window = Window.get_or_none(Window.token == token, Window.active)
    if window is not None:
        return window, None
    staff = Staff.get_or_none(Staff.token == token, Staff.active)
    if staff is not None:
        return staff.window if staff.window_id else None, staff
    return None, None


BURST_COUNT, BURST_MINUTES = 10, 5  # ratings of one window within twice these minutes: flagged


def flag_officer_device(evaluation, by_officer, at):
    """A rating sent from a browser where an officer is logged in; stored, and flagged."""
    if by_officer is not None:
        FraudSignal.create(kind="officer_device", unit=evaluation.unit_id, window=evaluation.window_id,
                           evaluation=evaluation, created_at=at,
                           detail=f"评价从已登录干部账号 {by_officer.username} 的浏览器提交")


def detect_bursts(at=None):
    """Windows that got BURST_COUNT ratings within BURST_MINUTES: one signal per burst.

    Run by the sweeper, not on each rating: it costs the rating nothing and sees every process.
    """
    from peewee import fn
    at = at or now()
    since = at - datetime.timedelta(minutes=2 * BURST_MINUTES)
    rows = (Evaluation.select(Evaluation.window, Evaluation.unit, fn.COUNT(Evaluation.id), fn.MAX(Evaluation.id))
            .where(Evaluation.created_at >= since, Evaluation.window.is_null(False))
            .group_by(Evaluation.window, Evaluation.unit).having(fn.COUNT(Evaluation.id) >= BURST_COUNT).tuples())
    created = 0
    for window_id, unit_id, count, last_id in rows:
        if FraudSignal.select().where(FraudSignal.kind == "burst", FraudSignal.window == window_id,
                                      FraudSignal.created_at >= since).exists():
            continue
        FraudSignal.create(kind="burst", unit=unit_id, window=window_id, evaluation=last_id, created_at=at,
                           bucket=f"{window_id}:{at:%Y%m%d%H%M}",
                           detail=f"{2 * BURST_MINUTES} 分钟内同一窗口收到 {count} 条评价")
        created += 1
    return created


def submit(token, level, reason_ids, comment, phone, channel, submission_key, staff_id=None, at=None,
           channels=CHANNELS, by_officer=None):
    """Store one rating; returns (evaluation, ticket or None, created: bool)."""
    at = at or now()
    errors = {}
    window, staff = target_for(token or "")
    if window is None and staff is None:
        errors["target"] = "这个窗口或工作人员已不在评价范围内（二维码可能已更换），请扫描窗口上的新二维码。"
    if staff is None and staff_id:
        staff = Staff.get_or_none(Staff.id == staff_id, Staff.active)
        if staff is None or window is None or staff.unit_id != window.unit_id:
            errors["staff"] = "请选择本窗口的工作人员。"
    if level not in LEVELS:
        errors["level"] = "请选择满意、一般或不满意。"
    reasons = []
    if level == "dissatisfied":
        wanted = {str(r) for r in reason_ids if str(r).strip()}
        ids = [int(r) for r in wanted if r.isdigit()]
        reasons = list(Reason.select().where(Reason.id.in_(ids), Reason.active)) if ids else []
        if not wanted:
            errors["reasons"] = "选择“不满意”时，请至少选一个不满意原因。"
        elif len(reasons) != len(wanted):
            errors["reasons"] = "所选的原因已不再使用，请重新选择。"
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = f"意见最多 {COMMENT_MAX} 字，现在有 {len(comment)} 字。"
    phone = re.sub(r"\s", "", phone or "")
    if phone and not PHONE.match(phone):
        errors["phone"] = "请填写正确的手机号（11 位）或座机号（如 0317-6612345），也可以不填。"
    if channel not in channels:
        errors["channel"] = "评价渠道不对。"
    if not submission_key or not re.fullmatch(r"[0-9a-f]{32}", submission_key):
        errors["target"] = errors.get("target") or "页面已过期，请重新打开评价页面。"
    if errors:
        raise RatingRefused(errors)
    unit_id = window.unit_id if window is not None else staff.unit_id
    try:
        with db.atomic():
            contact = Contact.create(phone=phone) if phone else None
            evaluation = Evaluation.create(
                unit=unit_id, window=window, staff=staff, level=level, comment=comment, channel=channel,
                contact=contact, created_at=at, submission_key=submission_key)
            for reason in reasons:
                EvaluationReason.create(evaluation=evaluation, reason=reason)
            ticket = tickets.open_for_evaluation(evaluation, at=at, reason_titles=[r.title for r in reasons])
            flag_officer_device(evaluation, by_officer, at)
    except IntegrityError:  # the same page sent twice (the unique key): the first one counts
        first = Evaluation.get_or_none(Evaluation.submission_key == submission_key)
        if first is None:
            raise
        return first, None, False
    return evaluation, ticket, True
