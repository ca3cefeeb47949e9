"""The audit trail against someone with the database in hand: every seal under a key the database does
not hold, and checkpoints published outside it, in each backup's manifest and the monthly report."""
import json
import os
import stat

import pytest
from peewee import DatabaseError, PostgresqlDatabase

from app import audit, config, migrations, report
from models import AuditLog, SystemSetting, db

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


@pytest.fixture
def trail(conn):
    """Six rows of an ordinary week."""
    for n in range(6):
        AuditLog.record("export", None, detail=f"问题台账 {n} 条")
    return list(AuditLog.select().order_by(AuditLog.id))


def _unlock():
    """Whoever holds the database can drop the triggers."""
    for name in audit.installed():
        db.execute_sql(f"DROP TRIGGER {name}" + (" ON audit_log" if isinstance(db.obj, PostgresqlDatabase) else ""))


def _rewrite(row_id, detail, reseal, from_id=None, to_id=None):
    """What the outside probe did: change one row, recompute every seal from `from_id` (that row by
    default) to `to_id` (the end by default) with `reseal`, and the head beside the chain."""
    _unlock()
    AuditLog.update(detail=detail).where(AuditLog.id == row_id).execute()
    prev = ""
    for row in AuditLog.select().order_by(AuditLog.id):
        if (from_id or row_id) <= row.id <= (to_id or row.id):
            row.row_hash = reseal(prev, row)
            AuditLog.update(prev_hash=prev, row_hash=row.row_hash).where(AuditLog.id == row.id).execute()
        prev = row.row_hash
    SystemSetting.write(audit.HEAD_KEY, f"{row.id}:{prev}")


def verify(runner, *args):
    return runner.invoke(args=["audit", "verify", *args])


@pytest.mark.parametrize("from_first", [False, True], ids=["from-the-row", "the-whole-chain"])
def test_a_row_rewritten_with_every_seal_after_it_recomputed_is_found(trail, runner, from_first):
    target = trail[2]
    _rewrite(target.id, "问题台账 0 条", audit.digest, from_id=trail[0].id if from_first else None)
    result = verify(runner)
    assert result.exit_code == 1
    if from_first:  # every row sealed as if written before the key: the switch point cannot be moved
        assert "没有一条用审计密钥封存" in result.output
    else:
        assert f"第 {target.id} 条：内容与它的校验值不符" in result.output


def test_the_key_lives_outside_the_database_made_once_for_this_account_only(app, trail, tmp_path):
    key_file = tmp_path / "instance" / "audit_key"
    assert app.config["AUDIT_KEY_FILE"] == str(key_file)
    key = key_file.read_text().strip()
    assert len(key) == 64 and app.config["AUDIT_KEY"] == key
    if os.name == "posix":
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    held = " ".join(v for (v,) in SystemSetting.select(SystemSetting.value).tuples())
    held += " ".join(f"{r.detail} {r.row_hash}" for r in AuditLog.select())
    assert key not in held
    # A restart keeps the key; an auditor's own path is honoured, and the file made there.
    assert config.load({"INSTANCE_PATH": str(tmp_path / "instance")})["AUDIT_KEY"] == key
    kept = config.load({"INSTANCE_PATH": str(tmp_path / "instance"), "AUDIT_KEY_FILE": str(tmp_path / "u盘" / "key")})
    assert kept["AUDIT_KEY"] == (tmp_path / "u盘" / "key").read_text().strip() != key


def test_rows_sealed_before_the_key_still_check_and_cannot_be_rewritten(trail, runner):
    """A county upgraded from a version that sealed with plain SHA-256 (v20 to v26)."""
    _unlock()
    audit.seal_existing()  # the six rows as v20 left them
    SystemSetting.delete().where(SystemSetting.key == audit.KEY_SETTING).execute()
    audit.install()
    migrations.MIGRATIONS[27](migrations._migrator())
    AuditLog.record("login", None, detail="升级后")
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "用审计密钥封存 2 条，升级前的旧式校验值 6 条" in result.output
    switch = AuditLog.select().where(AuditLog.action == "audit_seal").get()
    assert switch.id == trail[-1].id + 1 and f"key={audit.fingerprint(audit.current_key())}" in switch.detail

    # An old row changed and the old rows' plain seals recomputed: the keyed row after them no longer fits.
    _rewrite(trail[1].id, "改过", audit.digest, to_id=trail[-1].id)
    result = verify(runner)
    assert result.exit_code == 1 and f"第 {trail[1].id} 条" not in result.output  # its plain seal fits…
    assert f"第 {switch.id} 条：与前一条（{trail[-1].id}）接不上" in result.output  # …the keyed one after it does not
    # Every row made "old", the switch row too: a chain that holds rows but no keyed one was rewritten.
    _rewrite(trail[1].id, "改过", audit.digest, from_id=trail[0].id)
    result = verify(runner)
    assert result.exit_code == 1 and "全部 8 条都只有旧式校验值，没有一条用审计密钥封存" in result.output


def test_with_the_key_a_rewrite_is_still_caught_by_a_published_checkpoint(trail, runner, tmp_path):
    backup = tmp_path / ("nightly.dump" if POSTGRES else "nightly.sqlite3")
    made = runner.invoke(args=["backup", str(backup)])
    assert made.exit_code == 0, made.output
    manifest = json.loads((tmp_path / f"{backup.name}.manifest.json").read_text(encoding="utf-8"))
    point = manifest["audit_checkpoint"]
    assert point == {"row": trail[-1].id, "seal": trail[-1].row_hash}
    assert f"审计链校验点：第 {trail[-1].id} 条，校验值 {trail[-1].row_hash}" in made.output
    printed = f"{point['row']}:{point['seal'][:16]}"

    ok = verify(runner, "--checkpoint", printed, "--checkpoint-file", str(tmp_path / f"{backup.name}.manifest.json"))
    assert ok.exit_code == 0, ok.output
    assert f"校验点第 {trail[-1].id} 条一致" in ok.output

    # Someone who has the key file too rewrites row 2 and reseals everything after it.
    _rewrite(trail[1].id, "问题台账 0 条", audit.seal)
    assert verify(runner).exit_code == 0  # the seals alone cannot tell
    for args in (("--checkpoint", printed), ("--checkpoint-file", str(tmp_path / f"{backup.name}.manifest.json"))):
        caught = verify(runner, *args)
        assert caught.exit_code == 1
        assert f"校验点第 {trail[-1].id} 条不符" in caught.output and "改写并重新封存" in caught.output


def test_the_monthly_report_prints_the_checkpoint_and_the_verifier_reads_it(trail, runner, tmp_path):
    path = tmp_path / "报告.docx"
    report.write_docx(report.monthly(2026, 11), path)
    from docx import Document
    last = Document(str(path)).paragraphs[-1].text
    assert last.startswith(f"审计链校验点：第 {trail[-1].id} 条，校验值 {trail[-1].row_hash[:16]}")
    assert verify(runner, "--checkpoint-file", str(path)).exit_code == 0

    _unlock()  # the last rows cut off, with the key: the head beside the chain set back to match
    AuditLog.delete().where(AuditLog.id >= trail[-2].id).execute()
    SystemSetting.write(audit.HEAD_KEY, f"{trail[-3].id}:{trail[-3].row_hash}")
    assert verify(runner).exit_code == 0
    caught = verify(runner, "--checkpoint-file", str(path))
    assert caught.exit_code == 1 and f"校验点第 {trail[-1].id} 条不在审计记录里" in caught.output


@pytest.mark.parametrize("given", ["12", "12:abc", "第12条:3f2a9c0d11e4b7a8", "12:3f2a9c0d11e4b7ag"])
def test_a_mistyped_checkpoint_is_explained(trail, runner, given):
    result = verify(runner, "--checkpoint", given)
    assert result.exit_code == 2 and "校验点应写成 条号:校验值" in result.output


def test_a_changed_key_is_written_into_the_chain_and_the_old_key_file_still_checks(app, trail, runner, tmp_path):
    old_file = tmp_path / "instance" / "audit_key"
    old_id = audit.fingerprint(audit.current_key())
    audit.configure({"AUDIT_KEY": "f" * 64})  # the key file lost, a new one made at the next start
    audit.note_key()
    changed = AuditLog.select().order_by(AuditLog.id.desc()).first()
    assert changed.action == "audit_key" and f"key={old_id}" in changed.detail
    result = verify(runner)
    assert result.exit_code == 1 and f"审计链记载的密钥指纹 {old_id}" in result.output and "--key-file" in result.output
    assert verify(runner, "--key-file", str(old_file)).exit_code == 0


SQLITE_REWRITES = [
    "INSERT OR REPLACE INTO audit_log ({columns}) SELECT {copied} FROM audit_log WHERE id = {first}",
    "REPLACE INTO audit_log ({columns}) SELECT {copied} FROM audit_log WHERE id = {first}",
]
UPSERT = ("INSERT INTO audit_log ({columns}) SELECT {copied} FROM audit_log WHERE id = {first} "
          "ON CONFLICT (id) DO UPDATE SET detail = 'x'")


@pytest.mark.parametrize("sql", ([] if POSTGRES else SQLITE_REWRITES) + [UPSERT])
def test_a_row_cannot_be_replaced_by_an_insert(trail, sql):
    columns = "id, username, action, object_type, object_id, detail, ip, created_at, prev_hash, row_hash"
    copied = columns.replace("detail", "'改过的内容'")
    with pytest.raises(DatabaseError, match="只能追加"):
        with db.atomic():
            db.execute_sql(sql.format(columns=columns, copied=copied, first=trail[0].id))
    assert AuditLog.get_by_id(trail[0].id).detail == trail[0].detail
    assert AuditLog.select().count() == len(trail)
