"""A database created by an older version is upgraded in place, losing nothing."""
import re
from pathlib import Path

import pytest
from peewee import PostgresqlDatabase

from app import migrations
from models import ALL_MODELS, Evaluation, SystemSetting, Unit, db

DATA = Path(__file__).parent / "data"


def column_type(data_type):
    """SQLite ignores a VARCHAR's length, and widening one would mean rebuilding the table."""
    data_type = data_type.lower()
    return re.sub(r"^varchar\(\d+\)$", "varchar", data_type) if not isinstance(db.obj, PostgresqlDatabase) \
        else data_type


def schema():
    """Every table's columns and indexes, as the database reports them."""
    shape = {}
    for model in ALL_MODELS:
        table = model._meta.table_name
        columns = sorted((c.name, column_type(c.data_type), c.null) for c in db.get_columns(table))
        indexes = sorted((tuple(i.columns), i.unique) for i in db.get_indexes(table))
        shape[table] = (columns, indexes)
    from app import ticket_tallies
    shape["triggers"] = ticket_tallies.installed()  # the problem tallies follow the tickets either way
    from app import audit
    shape["audit_triggers"] = audit.installed()  # the audit trail append-only either way
    return shape


def build_v1():
    """Recreate the database exactly as version 1 left it, with a little data in it."""
    db.drop_tables(ALL_MODELS, cascade=isinstance(db.obj, PostgresqlDatabase))
    backend = "postgres" if isinstance(db.obj, PostgresqlDatabase) else "sqlite"
    lines = (DATA / f"schema_v1.{backend}.sql").read_text(encoding="utf-8").splitlines()
    for statement in "\n".join(l for l in lines if not l.startswith("--")).split(";\n"):
        if statement.strip():
            db.execute_sql(statement)
    db.execute_sql('INSERT INTO system_setting (key, value) VALUES (\'schema_version\', \'1\')')
    db.execute_sql("INSERT INTO unit (code, name, kind, active, created_at) "
                   "VALUES ('H01', '县行政审批局', 'hall', TRUE, '2026-01-05 09:00:00')")
    unit_id = db.execute_sql("SELECT id FROM unit WHERE code = 'H01'").fetchone()[0]
    db.execute_sql("INSERT INTO evaluation (unit_id, level, comment, channel, created_at) "
                   f"VALUES ({unit_id}, 'dissatisfied', '升级前的评价', 'kiosk', '2026-01-05 10:00:00')")
    # A ticket with its history: a table that others point at cannot be copied and dropped to
    # add a column, which is how peewee's SQLite migrator adds a NOT NULL one.
    db.execute_sql("INSERT INTO ticket (code, title, content, source, unit_id, handling_unit_id, query_code, "
                   "workflow, stage, status, result, created_at) VALUES ('ZTC-2026-0001', '窗口拖拉', '内容', "
                   f"'kiosk', {unit_id}, {unit_id}, 'Q1', 'problem', 'accept', 'open', '', '2026-01-05 11:00:00')")
    ticket_id = db.execute_sql("SELECT id FROM ticket").fetchone()[0]
    db.execute_sql("INSERT INTO ticket_event (ticket_id, action, from_stage, to_stage, comment, created_at) "
                   f"VALUES ({ticket_id}, 'open', '', 'accept', '', '2026-01-05 11:00:00')")
    for action in ("login_failed", "ticket_action"):
        db.execute_sql("INSERT INTO audit_log (username, action, object_type, object_id, detail, ip, created_at) "
                       f"VALUES ('', '{action}', '', '', '升级前', '10.0.0.1', '2026-01-05 12:00:00')")


def test_a_new_database_starts_at_the_latest_version(conn):
    assert migrations.current_version() == migrations.LATEST >= 2


def test_version_1_database_is_upgraded_without_losing_data(conn):
    fresh = schema()
    build_v1()
    assert migrations.current_version() == 1
    assert schema() != fresh  # the old shape really is older
    before, after = migrations.upgrade()
    assert (before, after) == (1, migrations.LATEST)
    assert schema() == fresh
    evaluation = Evaluation.get()
    assert evaluation.comment == "升级前的评价" and evaluation.unit.code == "H01"
    from models import Ticket
    ticket = Ticket.get()
    assert ticket.code == "ZTC-2026-0001" and ticket.bad_rating is False and ticket.revision == 0
    assert [e.action for e in ticket.events] == ["open"]
    from app import audit
    from models import AuditLog
    # The rows written before the chain are sealed into it (plain SHA-256, as v20 sealed them in
    # every county); v27 says from where on the key seals, in a row sealed with the key.
    assert audit.verify() == (3, [])
    assert [r.action for r in AuditLog.select().order_by(AuditLog.id)] == ["login_failed", "ticket_action", "audit_seal"]
    assert audit.check().plain_rows == 2
    assert migrations.upgrade() == (migrations.LATEST, migrations.LATEST)  # nothing more to do


def test_a_failed_migration_leaves_the_last_good_version(conn, monkeypatch):
    build_v1()

    def broken(migrator):
        migrator.add_index("evaluation", ("unit_id", "created_at")).run()
        raise RuntimeError("disk full")

    monkeypatch.setitem(migrations.MIGRATIONS, 2, broken)
    with pytest.raises(RuntimeError):
        migrations.upgrade()
    assert migrations.current_version() == 1
    index_columns = [tuple(i.columns) for i in db.get_indexes("evaluation")]
    assert ("unit_id", "created_at") not in index_columns
    assert Unit.select().count() == 1


def test_a_database_from_a_newer_program_is_refused(conn):
    SystemSetting.write("schema_version", migrations.LATEST + 1)
    with pytest.raises(RuntimeError, match="请升级程序"):
        migrations.upgrade()


def test_processes_starting_together_upgrade_once(app):
    """Several app processes start at once after an update: each waits, none fails."""
    import threading
    with db.connection_context():
        build_v1()
    errors, results = [], []

    def start():
        try:
            results.append(migrations.upgrade())
        except Exception as exc:  # collected: an assertion in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results)[0] == (1, migrations.LATEST) and len(results) == 4
    with db.connection_context():
        assert migrations.current_version() == migrations.LATEST
        assert Evaluation.select().count() == 1


def test_enterprise_titles_lose_the_company_name(conn, county):
    """Before v21 an enterprise ticket was titled 【category】company, which the accused unit read."""
    from app import tickets
    ticket = tickets.open_ticket("enterprise", title="【融资】金丝雀机械有限公司", content="贷款审批拖了三个月，无人答复",
                                 source="enterprise", unit=county["hall_a"], handling_unit=county["hall_a"])
    migrations.v21_accused_kept_apart(migrations._migrator())
    from models import Ticket
    assert Ticket.get_by_id(ticket.id).title == "【融资】贷款审批拖了三个月，无人答复"
