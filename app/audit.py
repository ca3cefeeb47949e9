"""The audit trail as a chain of seals: each row seals the one before, so a changed or removed row shows.

Rows are only ever added; database triggers refuse an UPDATE, a DELETE or an INSERT OR REPLACE from
the program, and `verify()` finds what someone with the database in hand changed all the same.

A seal is an HMAC-SHA256 under a key kept outside the database (AUDIT_KEY_FILE, app/config.py):
whoever holds only the database cannot seal a rewritten row. Rows written before there was a key
(v20 to v26) carry a plain SHA-256; such rows may only open the chain. The first keyed row closes
that prefix for good: it seals the last plain row's hash, and every row after it must be keyed,
so neither a row's kind nor the switch point can be changed without the key. A chain that
holds rows but not one keyed row was rewritten (v27 writes a keyed row into every chain that has
rows).

Whoever also has the key can seal a rewritten chain: checkpoints published outside the database
(the head printed in each backup's manifest and in the monthly report) catch that, as the seal of
a row depends on every row before it.
"""
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from peewee import PostgresqlDatabase

from models import AuditLog, SystemSetting, db, now

HEAD_KEY = "audit_head"
KEY_SETTING = "audit_key"  # fingerprint of the key that seals new rows
SEAL_ACTION = "audit_seal"  # the row from which on rows are sealed with the key (v27)
KEY_ACTION = "audit_key"  # the sealing key changed (a lost key file, a restore on another server)
AUDIT_LOCK = 0x7A7461  # "zta": one writer at a time extends the chain
REFUSAL = "审计记录只能追加，不能修改或删除"

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    # INSERT OR REPLACE deletes the old row without firing a delete trigger (recursive_triggers
    # is off): refuse any id that is not past the end. An id SQLite is yet to choose reads as -1.
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_replace BEFORE INSERT ON audit_log "
    f"WHEN NEW.id >= 0 AND NEW.id <= (SELECT max(id) FROM audit_log) "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
]
# PostgreSQL's ON CONFLICT DO UPDATE fires the update trigger.
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

_key = None  # bytes, from configure()


def configure(config):
    """Take the sealing key of this installation (app/config.py reads or makes it)."""
    global _key
    _key = config["AUDIT_KEY"].encode()


def current_key():
    if _key is None:
        raise RuntimeError("审计密钥没有加载：应用须经 create_app 启动。")
    return _key


def fingerprint(key):
    """A name for a key that gives nothing of it away: kept in the chain and printed by the verifier."""
    return hmac.new(key, b"zhitongche audit key", hashlib.sha256).hexdigest()[:16]


def read_key_file(path):
    """A key an auditor keeps (an earlier key file), for `flask audit verify --key-file`."""
    return Path(path).read_text(encoding="utf-8").strip().encode()


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


def _text(prev_hash, row):
    fields = [prev_hash, row.created_at.isoformat(sep=" "), row.actor_id, row.username, row.action,
              row.object_type, row.object_id, row.detail, row.ip]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def digest(prev_hash, row):
    """The plain seal of the rows written before the key (v20 to v26): anyone can compute it."""
    return hashlib.sha256(_text(prev_hash, row)).hexdigest()


def seal(prev_hash, row, key=None):
    """The row's seal: its own fields and the seal of the row before, under the key."""
    return hmac.new(key or current_key(), _text(prev_hash, row), hashlib.sha256).hexdigest()


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
        row.row_hash = seal(prev_hash, row)
        row.save(force_insert=True)
        SystemSetting.write(HEAD_KEY, f"{row.id}:{row.row_hash}")
        return row


def seal_existing():
    """Chain the rows written before the chain existed, in the order they were written (v20: plain seals)."""
    prev_hash = ""
    last_id = 0
    for row in AuditLog.select().order_by(AuditLog.id).iterator():
        row_hash = digest(prev_hash, row)
        AuditLog.update(prev_hash=prev_hash, row_hash=row_hash).where(AuditLog.id == row.id).execute()
        prev_hash, last_id = row_hash, row.id
    if last_id:
        SystemSetting.write(HEAD_KEY, f"{last_id}:{prev_hash}")


AuditLog.append = staticmethod(append)  # AuditLog.record seals through here

def _system_row(action, detail):
    return append(actor=None, username="", action=action, object_type="", object_id="", detail=detail, ip="",
                  created_at=now())


def start_sealing():
    """v27: from the next row on the chain is sealed with the key; a chain with rows says so in a keyed row."""
    key_id = fingerprint(current_key())
    if AuditLog.select().exists():
        _system_row(SEAL_ACTION, f"key={key_id} 此条起审计记录用审计密钥封存（HMAC-SHA256），之前的为 SHA-256")
    SystemSetting.write(KEY_SETTING, key_id)


def note_key():
    """At start and after a restore: a key other than the one the chain names is written into the chain."""
    if db.is_closed():  # at start: no connection yet
        with db.connection_context():
            return note_key()
    key_id = fingerprint(current_key())
    with db.atomic():
        if isinstance(db.obj, PostgresqlDatabase):  # processes starting together write it once
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
        before = SystemSetting.read(KEY_SETTING, "")
        if before == key_id:
            return
        if AuditLog.select().exists():
            _system_row(KEY_ACTION, f"key={key_id} 审计密钥已更换，之前的密钥 key={before or '未记载'}")
        SystemSetting.write(KEY_SETTING, key_id)


def checkpoint():
    """(row id, seal) of the newest row, to publish outside the database; None for an empty trail."""
    row = AuditLog.select(AuditLog.id, AuditLog.row_hash).order_by(AuditLog.id.desc()).first()
    return (row.id, row.row_hash) if row else None


def checkpoint_text(point, digits=16):
    """The checkpoint as printed on paper, with the command that checks it."""
    if point is None:
        return "审计链校验点：尚无审计记录"
    row_id, row_seal = point
    return (f"审计链校验点：第 {row_id} 条，校验值 {row_seal[:digits]}"
            f"（核对：flask audit verify --checkpoint {row_id}:{row_seal[:digits]}）")


CHECKPOINT_RE = re.compile(r"^\s*([0-9]{1,18})\s*:\s*([0-9a-fA-F]{16,64})\s*$")
PRINTED_RE = re.compile(r"审计链校验点：第\s*([0-9]{1,18})\s*条，校验值\s*([0-9a-f]{16,64})")


def parse_checkpoint(text):
    """"N:seal" (at least the seal's first 16 hex digits) as (N, seal); ValueError in Chinese."""
    match = CHECKPOINT_RE.match(text or "")
    if not match:
        raise ValueError(f"校验点应写成 条号:校验值（校验值至少前 16 位，0-9 a-f），例如 120:3f2a9c0d11e4b7a8，"
                         f"而这里是 {text!r}")
    return int(match.group(1)), match.group(2).lower()


def read_checkpoints(path):
    """The checkpoints in a backup's manifest (.json), a monthly report (.docx) or a text file."""
    path = Path(path)
    data = path.read_bytes()
    if data.startswith(b"PK"):  # a Word file
        from docx import Document
        text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    else:
        text = data.decode("utf-8-sig", "replace")
        try:
            manifest = json.loads(text)
        except ValueError:
            manifest = None
        if isinstance(manifest, dict) and "audit_checkpoint" in manifest:
            point = manifest["audit_checkpoint"]
            if point is None:
                return []
            return [parse_checkpoint(f"{point.get('row')}:{point.get('seal')}")]
    found = [(int(n), seal_hex) for n, seal_hex in PRINTED_RE.findall(text)]
    if not found:
        raise ValueError(f"{path.name} 里没有审计链校验点（备份清单的 audit_checkpoint，或报告末尾的“审计链校验点”一行）。")
    return found


@dataclass
class Verification:
    count: int = 0
    problems: list = field(default_factory=list)
    plain_rows: int = 0  # rows of the plain SHA-256 prefix, written before the key
    key_ids: list = field(default_factory=list)  # fingerprints of the keys tried
    checked_points: list = field(default_factory=list)  # (row id, seal) found as published


KEY_ID_RE = re.compile(r"key=([0-9a-f]{16})")


def check(extra_keys=(), checkpoints=()):
    """Every row's link and seal, the head, and the published checkpoints; problems in Chinese."""
    keys = [current_key()] + [k for k in extra_keys if k]
    result = Verification(key_ids=[fingerprint(k) for k in keys])
    wanted = {row_id for row_id, _seal in checkpoints}
    seals_at = {}
    named_keys = []
    prev_hash, prev_id, keyed_from, bad_seals = "", 0, None, 0
    problems = result.problems
    for row in AuditLog.select().order_by(AuditLog.id).iterator():
        result.count += 1
        if row.prev_hash != prev_hash:
            problems.append(f"第 {row.id} 条：与前一条（{prev_id or '无'}）接不上，其间的记录被删除或改动过。")
        if any(seal(row.prev_hash, row, key) == row.row_hash for key in keys):
            keyed_from = keyed_from or row.id
        elif keyed_from is None and digest(row.prev_hash, row) == row.row_hash:
            result.plain_rows += 1  # written before the key: allowed only before the first keyed row
        else:
            bad_seals += 1
            problems.append(f"第 {row.id} 条：内容与它的校验值不符，记录被改动过。")
        if row.action in (SEAL_ACTION, KEY_ACTION):
            named_keys += KEY_ID_RE.findall(row.detail)
        if row.id in wanted:
            seals_at[row.id] = row.row_hash
        prev_hash, prev_id = row.row_hash, row.id
    if result.count and keyed_from is None and not bad_seals:
        problems.append(f"全部 {result.count} 条都只有旧式校验值，没有一条用审计密钥封存：升级到本版本时已写入一条"
                        "用密钥封存的记录，整条审计链被人改写成了旧式校验值。")
    head_id, head_hash = _head()
    if (head_id, head_hash) != (prev_id, prev_hash) and (head_id or prev_id):
        problems.append(f"最后一条应是第 {head_id} 条，现在是第 {prev_id or '无'} 条：末尾的记录被删除或改动过。")
    for row_id, published in checkpoints:
        found = seals_at.get(row_id)
        if found is None:
            problems.append(f"校验点第 {row_id} 条不在审计记录里：这条及以后的记录被删除或截掉了。")
        elif not found.startswith(published):
            problems.append(f"校验点第 {row_id} 条不符：校验值现在是 {found[:16]}…，校验点记的是 {published[:16]}…："
                            f"第 {row_id} 条或它以前的记录被改写并重新封存过（先核对校验点没有抄错）。")
        else:
            result.checked_points.append((row_id, found))
    if bad_seals and keyed_from is None:
        problems.append(f"没有一条记录与所用审计密钥（指纹 {'、'.join(result.key_ids)}）相符：多半是用错了密钥文件"
                        "（AUDIT_KEY_FILE 或 --key-file），否则是整条审计链被改写过。")
    if bad_seals:
        unknown = [k for k in dict.fromkeys(named_keys) if k not in result.key_ids]
        if unknown:
            problems.append(f"审计链记载的密钥指纹 {'、'.join(unknown)} 与所用密钥（{'、'.join(result.key_ids)}）不同："
                            "若密钥文件换过，用 --key-file 指定原来的密钥文件再校验。")
    return result


def verify(extra_keys=(), checkpoints=()):
    """(rows checked, problems): each problem names the row and what is wrong with it, in Chinese."""
    result = check(extra_keys, checkpoints)
    return result.count, result.problems
