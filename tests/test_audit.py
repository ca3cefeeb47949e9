"""The audit trail: every row sealed to the one before, nothing changed or removed unseen."""
import threading

import pytest
from peewee import DatabaseError, PostgresqlDatabase

from app import audit
from models import AuditLog, User, db
from tests.conftest import PASSWORD, csrf_token, login


def _tamper(sql):
    """What someone with the database in hand could do: drop the triggers, then edit."""
    postgres = isinstance(db.obj, PostgresqlDatabase)
    for name in audit.installed():
        db.execute_sql(f"DROP TRIGGER {name}" + (" ON audit_log" if postgres else ""))
    db.execute_sql(sql)


@pytest.fixture
def trail(client, make_user, county):
    """A morning's trail: a failed login, a login, a logout, an account made from the command line."""
    make_user("wang5", "office")
    login(client, "wang5", "Wrong@2026x")
    login(client, "wang5")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/password")})
    for n in range(3):
        AuditLog.record("export", None, detail=f"问题台账 {n} 条")
    return list(AuditLog.select().order_by(AuditLog.id))


def test_every_row_seals_the_one_before(trail, runner):
    assert [r.action for r in trail][:3] == ["login_failed", "login", "logout"]
    assert trail[0].prev_hash == "" and all(b.prev_hash == a.row_hash for a, b in zip(trail, trail[1:]))
    assert audit.verify() == (len(trail), [])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and f"审计记录完整：{len(trail)} 条" in result.output


def test_no_password_or_phone_is_written(trail):
    text = " ".join(f"{r.detail} {r.username}" for r in trail)
    assert "Wrong@2026x" not in text and PASSWORD not in text


def test_the_program_cannot_change_or_delete_a_row(trail):
    for sql in ("UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError):
            with db.atomic():
                db.execute_sql(sql)
    assert AuditLog.select().count() == len(trail)
    assert AuditLog.get_by_id(trail[0].id).detail == trail[0].detail


@pytest.mark.parametrize("change, row, says", [
    ("UPDATE audit_log SET detail = '问题台账 0 条（改过）' WHERE id = {third}", "third", "内容与它的校验值不符"),
    ("UPDATE audit_log SET username = 'someone' WHERE id = {first}", "first", "内容与它的校验值不符"),
    ("DELETE FROM audit_log WHERE id = {third}", "fourth", "接不上"),
    ("DELETE FROM audit_log WHERE id = {last}", None, "末尾的记录被删除或改动过"),
])
def test_a_changed_or_removed_row_is_found(trail, runner, change, row, says):
    ids = {"first": trail[0].id, "third": trail[2].id, "fourth": trail[3].id, "last": trail[-1].id}
    _tamper(change.format(**ids))
    count, problems = audit.verify()
    assert problems and says in problems[0]
    if row:
        assert f"第 {ids[row]} 条" in problems[0]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and says in result.output


def test_writers_at_once_keep_one_chain(app):
    def write(n):
        with db.connection_context():
            for i in range(15):
                AuditLog.record("export", None, detail=f"thread {n} row {i}")
    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.connection_context():
        assert audit.verify() == (60, [])


def test_the_auditor_checks_filters_and_exports_the_trail(client, login_as, trail):
    login_as("auditor")
    page = client.post("/admin/auditlog/verify/", data={"csrf_token": csrf_token(client, "/admin/auditlog/")},
                       follow_redirects=True).get_data(as_text=True)
    assert "审计记录完整" in page
    failed = client.get("/admin/auditlog/?search=login_failed").get_data(as_text=True)
    assert "username=wang5" in failed and "问题台账 1 条" not in failed
    export = client.get("/admin/auditlog/export/csv/").get_data(as_text=True)
    assert "login_failed" in export and trail[0].row_hash in export


@pytest.mark.parametrize("role", ["sysadmin", "office", "leader"])
def test_only_the_auditor_reads_the_trail(client, login_as, role):
    login_as(role)
    assert client.get("/admin/auditlog/").status_code == 403
    assert client.post("/admin/auditlog/verify/", data={"csrf_token": csrf_token(client, "/password")}).status_code == 403


def test_a_refusal_is_in_the_trail(client, login_as, county):
    login_as("handler", county["hall_a"])
    assert client.get("/admin/auditlog/").status_code == 403
    row = AuditLog.select().where(AuditLog.action == "refused").get()
    assert row.username == "handler_HA" and row.detail == "GET /admin/auditlog/"


def test_an_edit_is_recorded_with_before_and_after_and_no_secret(client, login_as, make_user, county):
    officer = make_user("wang5", "bureau")
    login_as("sysadmin")
    url = f"/admin/user/edit/?id={officer.id}"
    response = client.post(url, data={"username": "wang5", "full_name": "王五（已调岗）",
                                      "active": "y", "new_password": "Reset-2026a", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    row = AuditLog.select().where(AuditLog.action == "update", AuditLog.object_type == "User").get()
    assert '"full_name": ["wang5", "王五（已调岗）"]' in row.detail and "password changed" in row.detail
    secrets = User.get_by_id(officer.id)
    assert secrets.password_hash not in row.detail and secrets.session_token not in row.detail
    assert "Reset-2026a" not in row.detail


def test_every_export_is_in_the_trail(client, login_as, county):
    login_as("office")
    assert client.get("/admin/evaluation/export/csv/?search=窗口").status_code == 200
    row = AuditLog.select().where(AuditLog.action == "export").get()
    assert row.username == "office_x" and row.detail.startswith("evaluation csv search=")
