"""The audit trail as a hash chain: each row seals the one before, so a changed or removed row shows.

Rows are only ever added; database triggers refuse an UPDATE or DELETE from the program, and
`verify()` finds what someone with the database file in hand changed all the same. The newest
row's hash is kept beside the chain too, so cutting rows off its end shows as well.
"""
import hashlib
import json

from peewee import PostgresqlDatabase

from models import AuditLog, SystemSetting, db

HEAD_KEY = "audit_head"
AUDIT_LOCK = 0x7A7461  # "zta": one writer at a time extends the chain
REFUSAL = "审计记录只能追加，不能修改或删除"

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
]
PG_TRIGGERS = [
    f"CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
    f"BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]


def install():
    """The triggers that keep the audit table append-only."""
    postgres = isinstance(db.obj, PostgresqlDatabase)
    for sql in PG_TRIGGERS if postgres else SQLITE_TRIGGERS:
        db.execute_sql(sql)


def installed():
    """The names of the audit table's triggers, sorted."""
    if isinstance(db.obj, PostgresqlDatabase):
        sql = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
    return sorted(r[0] for r in db.execute_sql(sql).fetchall())


def digest(prev_hash, row):
    """The row's seal: its own fields and the seal of the row before."""
    fields = [prev_hash, row.created_at.isoformat(sep=" "), row.actor_id, row.username, row.action,
              row.object_type, row.object_id, row.detail, row.ip]
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _head():
    value = SystemSetting.read(HEAD_KEY, "")
    row_id, _sep, row_hash = value.partition(":")
    return (int(row_id) if row_id.isdigit() else 0), row_hash


def append(**fields):
    """Add one row at the end of the chain, inside the caller's transaction."""
    with db.atomic():
        if isinstance(db.obj, PostgresqlDatabase):
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
        # SQLite: the transaction is IMMEDIATE (app/db.py), so it holds the write lock already.
        _last_id, prev_hash = _head()
        row = AuditLog(prev_hash=prev_hash, **fields)
        row.row_hash = digest(prev_hash, row)
        row.save(force_insert=True)
        SystemSetting.write(HEAD_KEY, f"{row.id}:{row.row_hash}")
        return row


def seal_existing():
    """Chain the rows written before the chain existed, in the order they were written."""
    prev_hash = ""
    last_id = 0
    for row in AuditLog.select().order_by(AuditLog.id).iterator():
        row_hash = digest(prev_hash, row)
        AuditLog.update(prev_hash=prev_hash, row_hash=row_hash).where(AuditLog.id == row.id).execute()
        prev_hash, last_id = row_hash, row.id
    if last_id:
        SystemSetting.write(HEAD_KEY, f"{last_id}:{prev_hash}")


def verify():
    """(rows checked, problems): each problem names the row and what is wrong with it, in Chinese."""
    problems = []
    prev_hash, prev_id, count = "", 0, 0
    for row in AuditLog.select().order_by(AuditLog.id).iterator():
        count += 1
        if row.prev_hash != prev_hash:
            problems.append(f"第 {row.id} 条：与前一条（{prev_id or '无'}）接不上，其间的记录被删除或改动过。")
        if digest(row.prev_hash, row) != row.row_hash:
            problems.append(f"第 {row.id} 条：内容与它的校验值不符，记录被改动过。")
        prev_hash, prev_id = row.row_hash, row.id
    head_id, head_hash = _head()
    if (head_id, head_hash) != (prev_id, prev_hash) and (head_id or prev_id):
        problems.append(f"最后一条应是第 {head_id} 条，现在是第 {prev_id or '无'} 条：末尾的记录被删除或改动过。")
    return count, problems
