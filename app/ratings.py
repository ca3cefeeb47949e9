"""Citizens' ratings: checked, stored once per service moment, and a ticket opened if the rules say.

Everything for one rating (the evaluation, its reasons, the contact, the ticket) is written in one
transaction: a refused or failed rating leaves nothing behind.
"""
import datetime
import re
import secrets

from peewee import SQL, IntegrityError

from app import scales, tallies, tickets
from app.db import compiled, insert_row
from models import LEVELS, Contact, Evaluation, EvaluationReason, FraudSignal, Reason, Staff, Window, db, now

CHANNELS = ("kiosk", "qr")
COMMENT_MAX = 500
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
CASE_NUMBER = re.compile(r"^[0-9A-Z][0-9A-Z_/-]{3,39}$")


class RatingRefused(ValueError):
    """What is wrong with a rating, field by field, in Chinese."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("；".join(errors.values()))


class CaseAlreadyRated(RatingRefused):
    """一次一评: this 办件编号 has its rating already."""

    def __init__(self, case_number):
        super().__init__({"case_number": f"办件编号 {case_number} 已经评价过了。每件事只评一次，谢谢您的支持！"})
        self.case_number = case_number


def normalise_case_number(text):
    """As printed on the receipt, whatever spaces or letter case the citizen typed."""
    return re.sub(r"\s", "", text or "").upper()


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


def _target_sql():
    windows = Window.select(SQL("1"), Window.id, Window.unit, SQL("NULL")).where(Window.token == "", Window.active)
    staff = Staff.select(SQL("2"), Staff.window, Staff.unit, Staff.id).where(Staff.token == "", Staff.active)
    return (windows + staff).sql()[0]  # UNION ALL: a window's code first, else an officer's badge


def active_reasons():
    """Reason.offered(), on the rating's path: id, title and levels of the tags in use."""
    sql = compiled("active reasons", lambda: Reason.select(Reason.id, Reason.title, Reason.levels)
                   .where(Reason.active == True).order_by(Reason.sort_order, Reason.id).sql()[0])  # noqa: E712
    return [Reason(id=i, title=title, levels=levels) for i, title, levels in db.execute_sql(sql, (True,))]


def target_ids(token):
    """(window id or None, unit id, staff id or None) for a public code, or None: one query."""
    rows = db.execute_sql(compiled("rating target", _target_sql), (token, token)).fetchall()
    if not rows:
        return None
    _kind, window_id, unit_id, staff_id = min(rows)
    return window_id, unit_id, staff_id


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
    # Read to the end before writing, and write in a transaction begun as a writer: a SQLite reader
    # that turns writer while other processes write fails at once with "database is locked".
    for window_id, unit_id, count, last_id in list(rows):
        with db.atomic():
            if FraudSignal.select().where(FraudSignal.kind == "burst", FraudSignal.window == window_id,
                                          FraudSignal.created_at >= since).exists():
                continue
            FraudSignal.create(kind="burst", unit=unit_id, window=window_id, evaluation=last_id, created_at=at,
                               bucket=f"{window_id}:{at:%Y%m%d%H%M}",
                               detail=f"{2 * BURST_MINUTES} 分钟内同一窗口收到 {count} 条评价")
        created += 1
    return created


UNCASED_COUNT, UNCASED_SHARE = 10, 0.8  # 好评 of one window in a day without a 办件编号: flagged
CASES_IN_USE_DAYS = 30


def detect_uncased_praise(at=None):
    """Windows with many 好评 today that name no case, where the county's pads pass case numbers.

    Praise with no case behind it is how a window pads its own figures; where nobody has used
    case numbers lately there is nothing to compare with, so nothing is flagged.
    """
    from peewee import Case, fn
    at = at or now()
    if not Evaluation.select().where(Evaluation.case_number.is_null(False),
                                     Evaluation.created_at >= at - datetime.timedelta(days=CASES_IN_USE_DAYS)).exists():
        return 0
    day = at.replace(hour=0, minute=0, second=0)
    uncased = fn.SUM(Case(None, ((Evaluation.case_number.is_null(), 1),), 0))
    rows = (Evaluation.select(Evaluation.window, Evaluation.unit, uncased, fn.COUNT(Evaluation.id), fn.MAX(Evaluation.id))
            .where(Evaluation.created_at >= day, Evaluation.created_at <= at, Evaluation.window.is_null(False),
                   Evaluation.level.in_(scales.GOOD_LEVELS))
            .group_by(Evaluation.window, Evaluation.unit).having(uncased >= UNCASED_COUNT).tuples())
    created = 0
    for window_id, unit_id, without, good, last_id in list(rows):  # read first, then write: as detect_bursts
        bucket = f"{window_id}:{day:%Y%m%d}"
        if without < UNCASED_SHARE * good:
            continue
        with db.atomic():
            if FraudSignal.select().where(FraudSignal.kind == "uncased_praise", FraudSignal.bucket == bucket).exists():
                continue
            FraudSignal.create(kind="uncased_praise", unit=unit_id, window=window_id, evaluation=last_id,
                               created_at=at, bucket=bucket, detail=f"当天 {good} 条满意评价中 {without} 条没有办件编号")
        created += 1
    return created


def detect_anomalies(at=None, case_numbers=True):
    """The sweeper's round over ratings: (bursts flagged, windows praised without cases flagged)."""
    return detect_bursts(at), (detect_uncased_praise(at) if case_numbers else 0)


def submit(token, level, reason_ids, comment, phone, channel, submission_key, staff_id=None, at=None,
           channels=CHANNELS, by_officer=None, scale=scales.DEFAULT, case_number=None):
    """Store one rating; returns (evaluation, ticket or None, created: bool)."""
    at = at or now()
    chosen_scale = scales.scale(scale)
    errors = {}
    window_id, unit_id, staff_by_code = target_ids(token or "") or (None, None, None)
    if unit_id is None:
        errors["target"] = "这个窗口或工作人员已不在评价范围内（二维码可能已更换），请扫描窗口上的新二维码。"
    if staff_by_code is None and staff_id:
        staff = Staff.get_or_none(Staff.id == staff_id, Staff.active)
        if staff is None or window_id is None or staff.unit_id != unit_id:
            errors["staff"] = "请选择本窗口的工作人员。"
        staff_by_code = staff_id
    if level not in chosen_scale.levels:
        names = [str(dict(LEVELS)[l]) for l in chosen_scale.levels]
        errors["level"] = f"请选择{'、'.join(names[:-1])}或{names[-1]}。"
    reasons = []
    if level in chosen_scale.tagged:
        wanted = {str(r) for r in reason_ids if str(r).strip()}
        active = {str(r.id): r for r in active_reasons()}
        # Tags of another level (ticked before the citizen changed their mind) are left out.
        reasons = [active[r] for r in sorted(wanted) if r in active and level in active[r].level_set]
        if not wanted <= active.keys():
            errors["reasons"] = "所选的原因已不再使用，请重新选择。"
        elif not reasons and scales.GRADE_OF[level] == scales.BAD:
            errors["reasons"] = "选择“不满意”时，请至少选一个不满意原因。"
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = f"意见最多 {COMMENT_MAX} 字，现在有 {len(comment)} 字。"
    phone = re.sub(r"\s", "", phone or "")
    if phone and not PHONE.match(phone):
        errors["phone"] = "请填写正确的手机号（11 位）或座机号（如 0317-6612345），也可以不填。"
    case_number = normalise_case_number(case_number) or None
    if case_number and not CASE_NUMBER.match(case_number):
        errors["case_number"] = "办件编号由字母、数字和“-”组成，4 到 40 位，见受理回执；看不清可以不填。"
    if channel not in channels:
        errors["channel"] = "评价渠道不对。"
    if not submission_key or not re.fullmatch(r"[0-9a-f]{32}", submission_key):
        errors["target"] = errors.get("target") or "页面已过期，请重新打开评价页面。"
    if errors:
        raise RatingRefused(errors)
    if case_number:
        earlier = Evaluation.get_or_none(Evaluation.case_number == case_number)
        if earlier is not None:
            if earlier.submission_key == submission_key:  # the same page sent twice
                return earlier, None, False
            raise CaseAlreadyRated(case_number)
    titles = [r.title for r in reasons]
    # Decided before the write: other ratings wait for SQLite's write lock while this one holds it.
    workflow = tickets.workflow_for_rating(level, titles, channel)
    title = tickets.evaluation_ticket_title(window_id, unit_id, titles) if workflow else None
    try:
        with db.atomic():
            contact = Contact.create(phone=phone).id if phone else None
            evaluation = insert_row(Evaluation(
                unit=unit_id, window=window_id, staff=staff_by_code, level=level, comment=comment, channel=channel,
                contact=contact, created_at=at, submission_key=submission_key, case_number=case_number))
            link = compiled("reason link", lambda: EvaluationReason.insert(evaluation=0, reason=0).sql()[0])
            for reason in reasons:
                db.execute_sql(link, (evaluation.id, reason.id))
            tallies.count(unit_id, window_id, staff_by_code, channel, level, at, [r.id for r in reasons])
            ticket = tickets.open_for_evaluation(evaluation, at=at, reason_titles=titles, workflow=workflow,
                                                 title=title) if workflow else None
            flag_officer_device(evaluation, by_officer, at)
    except IntegrityError:  # sent twice at the same moment (a unique key): the first one counts
        first = Evaluation.get_or_none(Evaluation.submission_key == submission_key)
        if first is not None:
            return first, None, False
        if case_number and Evaluation.select().where(Evaluation.case_number == case_number).exists():
            raise CaseAlreadyRated(case_number)
        raise
    return evaluation, ticket, True
