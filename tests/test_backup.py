"""Backups a small county can trust: checked before they get their name, restored only into an empty database."""
import os
import re
import sqlite3
import threading
from contextlib import closing

import pytest

from app import backup as backups
from app import create_app, ratings, tallies, ticket_tallies, workdays
from models import AuditLog, Evaluation, Reason, Ticket, Unit, Window, db

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
SUFFIX = ".dump" if POSTGRES else ".sqlite3"


def counts_in(output):
    """The rows per table that `flask backup` / `flask restore` printed."""
    return {table: int(n) for table, n in re.findall(r"^([a-z_]+) +(\d+)$", output, re.M)}


def live_counts():
    with db.connection_context():
        return backups._live_counts()


def fresh_instance(tmp_path, name="restored"):
    """A second installation, started once and never used: where a county restores after losing a server."""
    if POSTGRES:  # one shared test database: the old instance's tables go, as on a new server
        url = os.environ["DATABASE_URL"]
        from tests.conftest import _drop_everything
        _drop_everything(url)
    else:
        url = f"sqlite:///{tmp_path / name / 'zhitongche.sqlite3'}"
    workdays.invalidate()
    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / name), "DATABASE_URL": url,
                       "DATABASE_POOL_SIZE": 4})


@pytest.fixture
def hall(app):
    """Two windows of a hall, with the reasons a citizen can tick."""
    with db.connection_context():
        unit = Unit.create(code="HA", name="县行政审批局", kind="hall")
        windows = [Window.create(unit=unit, number=f"0{i}", name=f"窗口{i}") for i in (1, 2)]
        slow = Reason.get(Reason.title == "办理速度慢")
        return {"tokens": [w.token for w in windows], "slow": slow.id}


def rate(hall, n):
    """A citizen's rating through the real path: every third one dissatisfied, which opens a ticket."""
    level = "dissatisfied" if n % 3 == 0 else "satisfied"
    evaluation, _ticket, created = ratings.submit(
        hall["tokens"][n % 2], level, [hall["slow"]] if level == "dissatisfied" else [], "", "", "kiosk",
        ratings.new_submission_key())
    assert created
    return evaluation.id


def backup(runner, path):
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    return counts_in(result.output)


def test_a_backup_restored_into_a_fresh_instance_has_every_row(app, runner, hall, tmp_path):
    with db.connection_context():
        for n in range(9):
            rate(hall, n)
        evaluations = [e.id for e in Evaluation.select().order_by(Evaluation.id)]
        codes = [t.code for t in Ticket.select().order_by(Ticket.code)]
    assert len(codes) == 3
    before = live_counts()
    target = tmp_path / "备份" / f"2026-11-25{SUFFIX}"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output and "副本已核验" in result.output and re.search(r"\d+ KB", result.output)
    reported = counts_in(result.output)
    assert reported["evaluation"] == 9 and reported["ticket"] == 3 and reported["unit"] == 1
    assert reported == before
    assert sorted(p.name for p in target.parent.iterdir()) == sorted(  # no leftovers
        [target.name, target.name + ".manifest.json", target.name + ".sha256"])

    restored = fresh_instance(tmp_path).test_cli_runner().invoke(args=["restore", str(target)])
    assert restored.exit_code == 0, restored.output
    assert "SHA-256 校验值一致" in restored.output
    assert counts_in(restored.output) == reported
    with db.connection_context():
        assert [e.id for e in Evaluation.select().order_by(Evaluation.id)] == evaluations
        assert [t.code for t in Ticket.select().order_by(Ticket.code)] == codes
        assert [a.action for a in AuditLog.select()] == ["restore"]  # the backup's own row came after it
        assert tallies.check() == [] and ticket_tallies.check() == []


def test_a_backup_taken_under_load_holds_every_acknowledged_rating(app, runner, hall, tmp_path, monkeypatch):
    acknowledged, lock, stop = [], threading.Condition(), threading.Event()
    failures = []

    def kiosk(number):
        try:
            with app.app_context(), db.connection_context():
                n = number
                while not stop.is_set():
                    evaluation_id = rate(hall, n)
                    with lock:
                        acknowledged.append(evaluation_id)
                        lock.notify_all()
                    n += 3
        except Exception as exc:  # the test fails below, naming it
            failures.append(exc)
            with lock:
                lock.notify_all()

    def landed(count):
        with lock:
            assert lock.wait_for(lambda: len(acknowledged) >= count or failures, timeout=20), "the kiosks stalled"
        assert not failures, failures

    # The copy is taken; before it gets its name, more ratings land: they must not slip into it.
    checksum = backups._sha256
    monkeypatch.setattr(backups, "_sha256", lambda path: landed(len(acknowledged) + 10) or checksum(path))
    kiosks = [threading.Thread(target=kiosk, args=(i,)) for i in range(3)]
    for thread in kiosks:
        thread.start()
    try:
        landed(15)
        with lock:
            before = set(acknowledged)
        target = tmp_path / f"under-load{SUFFIX}"
        reported = backup(runner, target)
    finally:
        stop.set()
        for thread in kiosks:
            thread.join()
    monkeypatch.setattr(backups, "_sha256", checksum)
    assert not failures, failures
    assert len(before) <= reported["evaluation"] < len(acknowledged)  # ratings kept coming during the backup

    restored = fresh_instance(tmp_path).test_cli_runner().invoke(args=["restore", str(target)])
    assert restored.exit_code == 0, restored.output
    assert counts_in(restored.output) == reported
    with db.connection_context():
        kept = {e.id for e in Evaluation.select(Evaluation.id)}
        assert before <= kept and len(kept) == reported["evaluation"]
        assert tallies.check() == [] and ticket_tallies.check() == [] and ticket_tallies.installed()
        if not POSTGRES:
            assert db.execute_sql("PRAGMA integrity_check").fetchall() == [("ok",)]


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_backup_is_refused_and_the_database_left_alone(app, runner, hall, tmp_path, damage):
    with db.connection_context():
        for n in range(6):
            rate(hall, n)
    target = tmp_path / f"b{SUFFIX}"
    backup(runner, target)
    data = bytearray(target.read_bytes())
    if damage == "flip":  # a bad sector: caught by the SHA-256 beside the backup
        middle = len(data) // 2
        data[middle:middle + 16] = bytes(b ^ 0xFF for b in data[middle:middle + 16])
    else:  # a copy cut short, without its .sha256: caught by the structural check
        data = data[:len(data) * 2 // 3]
        backups.checksum_path(target).unlink()
    target.write_bytes(bytes(data))
    with db.connection_context():
        rate(hall, 100)  # work done since: a refused restore must keep it
    before = live_counts()

    result = runner.invoke(args=["restore", "--force", str(target)])
    assert result.exit_code != 0
    assert ("校验值" if damage == "flip" else "损坏") in result.output and "Traceback" not in result.output
    assert live_counts() == before
    with db.connection_context():
        assert not AuditLog.select().where(AuditLog.action == "restore").exists()


def test_a_database_with_data_is_replaced_only_with_force(app, runner, hall, tmp_path):
    with db.connection_context():
        rate(hall, 1)
    target = tmp_path / f"b{SUFFIX}"
    reported = backup(runner, target)
    with db.connection_context():
        later = rate(hall, 2)
    before = live_counts()

    refused = runner.invoke(args=["restore", str(target)])
    assert refused.exit_code != 0 and "已经有数据" in refused.output and "--force" in refused.output
    assert live_counts() == before

    forced = runner.invoke(args=["restore", "--force", str(target)])
    assert forced.exit_code == 0, forced.output
    assert counts_in(forced.output) == reported
    with db.connection_context():
        assert not Evaluation.select().where(Evaluation.id == later).exists()  # back to the backup's moment
        assert AuditLog.select().where(AuditLog.action == "restore").count() == 1


def test_a_backup_never_overwrites_an_existing_file(app, runner, hall, tmp_path, monkeypatch):
    folder = tmp_path / "backups"
    folder.mkdir()
    old = folder / f"old{SUFFIX}"
    old.write_bytes(b"yesterday's backup")
    result = runner.invoke(args=["backup", str(old)])
    assert result.exit_code != 0 and "已存在，请换一个文件名" in result.output
    assert old.read_bytes() == b"yesterday's backup"

    # Another backup takes the name while this one is being checked: this one gives way.
    late = folder / f"late{SUFFIX}"
    checksum = backups._sha256
    monkeypatch.setattr(backups, "_sha256", lambda path: late.write_bytes(b"the other one") or checksum(path))
    result = runner.invoke(args=["backup", str(late)])
    assert result.exit_code != 0 and "已存在" in result.output
    assert late.read_bytes() == b"the other one"
    assert sorted(p.name for p in folder.iterdir()) == [late.name, old.name]  # no temporary left


def test_an_older_backup_comes_up_to_the_current_schema(app, tmp_path):
    from app import migrations
    from tests.test_migrations import build_v1
    target = tmp_path / f"v1{SUFFIX}"
    with db.connection_context():
        build_v1()
        # As an older release made it: `flask backup` copied the file, PostgreSQL had pg_dump -Fc; no .sha256.
        if POSTGRES:
            backups._run(["pg_dump", "--format=custom", f"--file={target}", f"--dbname={backups._conninfo()}"],
                         "pg_dump")
        else:
            with closing(sqlite3.connect(target)) as copy:
                db.connection().backup(copy)
    restored = fresh_instance(tmp_path).test_cli_runner().invoke(args=["restore", str(target)])
    assert restored.exit_code == 0, restored.output
    assert f"数据库结构版本 1 → {migrations.LATEST}" in restored.output and "没有 .sha256" in restored.output
    with db.connection_context():
        assert migrations.current_version() == migrations.LATEST
        assert Evaluation.get().comment == "升级前的评价"


def test_a_file_that_is_no_backup_is_refused(app, runner, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("会议记录", encoding="utf-8")
    result = runner.invoke(args=["restore", "--force", str(notes)])
    assert result.exit_code != 0 and "不是直通车的备份文件" in result.output
    missing = runner.invoke(args=["restore", str(tmp_path / "nowhere.sqlite3")])
    assert missing.exit_code != 0 and "找不到备份文件" in missing.output


@pytest.mark.skipif(POSTGRES, reason="SQLite's -wal beside the file; PostgreSQL serves many clients by design")
def test_sqlite_restore_waits_for_the_running_app_to_stop(app, runner, hall, tmp_path):
    target = tmp_path / "b.sqlite3"
    backup(runner, target)
    with db.connection_context():
        rate(hall, 1)
        live = db.obj.database
    before = live_counts()
    other_process = sqlite3.connect(live)  # the web server, still running
    try:
        other_process.execute("SELECT COUNT(*) FROM evaluation").fetchone()
        result = runner.invoke(args=["restore", "--force", str(target)])
    finally:
        other_process.close()
    assert result.exit_code != 0 and "请先停止直通车" in result.output
    assert live_counts() == before


@pytest.mark.skipif(not POSTGRES, reason="pg_dump serves PostgreSQL only")
def test_a_failing_pg_dump_is_reported_and_leaves_no_file(app, runner, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump: detail' >&2\necho 'pg_dump: error: server version mismatch' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    target = tmp_path / "backups" / "b.dump"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code != 0 and "server version mismatch" in result.output and "没有保存" in result.output
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    missing = runner.invoke(args=["backup", str(target)])
    assert missing.exit_code != 0 and "找不到 pg_dump" in missing.output
    assert list(target.parent.iterdir()) == []
