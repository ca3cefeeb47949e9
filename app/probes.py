"""Look-ups of rows outside an officer's scope, put in the audit trail without flooding it.

A handler who opens another unit's ticket gets a 404, as if it did not exist (views/base.py). The
first such look-up is written to the trail at once; the next ones within ten minutes are counted
and written together, in the officer's next row of this kind: by his first look-up after the ten
minutes, or by the sweeper (app/tickets.py) when none comes. A crawl of a thousand ids leaves two
rows, carrying the count and the first ids asked for.
"""
import datetime

from models import AuditLog, ScopeProbe, User, db, now

WINDOW = datetime.timedelta(minutes=10)
LISTED = 40  # ids named in one audit row; the count covers them all
EPOCH = datetime.datetime(2000, 1, 1)
ACTION = "refused"


def clock():
    return now()


def _detail(count, rows):
    return f"404 查看本人范围以外的记录 {count} 次：{rows}" + ("…" if len(rows.split(", ")) >= LISTED else "")


def _add(rows, item):
    listed = [r for r in rows.split(", ") if r]
    if item in listed or len(listed) >= LISTED:
        return rows
    return ", ".join(listed + [item])


def note(user, object_type, row_id, ip=""):
    """Count one look-up of `object_type` #`row_id`; write the audit row when one is due."""
    at = clock()
    item = f"{object_type} {row_id}"
    with db.atomic():
        ScopeProbe.insert(user=user.id, since=EPOCH, count=0, rows="").on_conflict_ignore().execute()
        for _attempt in range(5):  # another request of his changed the row meanwhile: read it again
            probe = ScopeProbe.get_by_id(user.id)
            unchanged = (ScopeProbe.user == user.id, ScopeProbe.since == probe.since, ScopeProbe.count == probe.count)
            if at - probe.since < WINDOW:
                if ScopeProbe.update(count=probe.count + 1, rows=_add(probe.rows, item), ip=ip or probe.ip).where(
                        *unchanged).execute():
                    return False
            elif ScopeProbe.update(since=at, count=0, rows="", ip="").where(*unchanged).execute():
                AuditLog.record(ACTION, user, detail=_detail(probe.count + 1, _add(probe.rows, item)), ip=ip)
                return True
    return False


def flush(at=None):
    """Write the look-ups counted more than ten minutes ago that no later look-up has written."""
    at = at or clock()
    written = 0
    due = ScopeProbe.select().where(ScopeProbe.count > 0, ScopeProbe.since <= at - WINDOW)
    for probe in list(due):
        with db.atomic():
            if ScopeProbe.update(since=at, count=0, rows="", ip="").where(
                    ScopeProbe.user == probe.user_id, ScopeProbe.since == probe.since,
                    ScopeProbe.count == probe.count).execute():
                AuditLog.record(ACTION, User.get_by_id(probe.user_id), detail=_detail(probe.count, probe.rows),
                                ip=probe.ip)
                written += 1
    return written
