"""进度查询's lock: five wrong phone digits for a query code lock it for an hour (issue 17).

A real-name complaint is shown only with the last four digits of the complainant's phone, which
are 10,000 guesses: the per-address limit alone let a script try them all within hours from a few
addresses. Counted here per code, in the database, every address and every process adds to the
same count; while the code is locked the right digits are refused too. A code that does not exist
is counted alike, so a lock tells nobody which codes are real.
"""
import datetime

from flask import current_app

from app import auth
from models import AuditLog, TrackThrottle, db

KEPT = datetime.timedelta(days=1)  # a count untouched this long is dropped; the audit trail keeps each lock


class Locked(Exception):
    """The query code is locked until `until`."""

    def __init__(self, until):
        super().__init__(f"locked until {until}")
        self.until = until


def _span():
    return datetime.timedelta(minutes=current_app.config["TRACK_LOCK_MINUTES"])


def check(code):
    """Raise Locked while `code` is locked."""
    row = TrackThrottle.get_or_none(TrackThrottle.code == code)
    if row is not None and row.locked_until is not None and row.locked_until > auth.clock():
        raise Locked(row.locked_until)


def record_failure(code, subject=None, ip=""):
    """Count a wrong try for `code`; the fifth within the hour locks it (Locked is raised).

    `subject`: the ticket or message the code belongs to, if any, named in the audit trail's line.
    """
    at = auth.clock()
    span, minutes = _span(), current_app.config["TRACK_LOCK_MINUTES"]
    limit = current_app.config["TRACK_LOCK_FAILURES"]
    this = TrackThrottle.code == code
    # Each step one statement, as app/auth.py counts logins: tries at the same moment all count.
    with db.atomic():
        TrackThrottle.delete().where(TrackThrottle.last_at < at - KEPT).execute()
        TrackThrottle.insert(code=code, failures=0, first_at=at, last_at=at).on_conflict_ignore().execute()
        # A lock run out, or tries more than an hour old: the count starts again.
        TrackThrottle.update(failures=0, first_at=at, locked_until=None).where(
            this, (TrackThrottle.locked_until <= at)
            | (TrackThrottle.locked_until.is_null() & (TrackThrottle.first_at <= at - span))).execute()
        TrackThrottle.update(failures=TrackThrottle.failures + 1, last_at=at).where(this).execute()
        locked_now = TrackThrottle.update(locked_until=at + span).where(
            this, TrackThrottle.failures >= limit, TrackThrottle.locked_until.is_null()).execute()
        if locked_now and subject is not None:
            AuditLog.record("track_locked", None, subject, ip=ip,
                            detail=f"进度查询：电话后四位 {minutes} 分钟内输错 {limit} 次，"
                                   f"查询码锁定至 {at + span:%Y-%m-%d %H:%M}")
        row = TrackThrottle.get(this)
    if row.locked_until is not None:
        raise Locked(row.locked_until)


def tries_left(code):
    """Wrong tries `code` may still take before it locks (the limit when none are counted)."""
    at, limit = auth.clock(), current_app.config["TRACK_LOCK_FAILURES"]
    row = TrackThrottle.get_or_none(TrackThrottle.code == code)
    if row is None or row.locked_until is not None or row.first_at <= at - _span():
        return limit
    return max(limit - row.failures, 0)


def attempts(codes):
    """[(code, wrong tries counted now, last try, locked until or None)] for the office's view of a ticket."""
    at = auth.clock()
    rows = TrackThrottle.select().where(TrackThrottle.code.in_([c for c in codes if c]))
    shown = []
    for row in rows.order_by(TrackThrottle.code):
        locked = row.locked_until if row.locked_until is not None and row.locked_until > at else None
        counted = locked is not None or (row.locked_until is None and row.first_at > at - _span())
        shown.append((row.code, row.failures if counted else 0, row.last_at, locked))
    return shown
