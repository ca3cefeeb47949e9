"""Configuration and the database connection a county office relies on."""
import pytest

from app.config import load
from app.db import ConfigError, make_database
from models import db


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load({"INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"]
    second = load({"INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"]
    assert len(first) >= 32 and first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "x.db"))
    config = load({"INSTANCE_PATH": str(tmp_path)})
    assert config["SECRET_KEY"] == "from-env"
    assert config["DATABASE_URL"].endswith("x.db")
    assert config["BABEL_DEFAULT_LOCALE"] == "zh_Hans_CN"


def test_default_database_lives_under_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = load({"INSTANCE_PATH": str(tmp_path)})
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path}/zhitongche.sqlite3"


def test_unknown_database_url_is_refused_in_chinese():
    with pytest.raises(ConfigError, match="不支持的 DATABASE_URL"):
        make_database("mysql://root@localhost/x")


def test_sqlite_is_durable_and_checks_foreign_keys(tmp_path):
    database = make_database(f"sqlite:///{tmp_path}/d.sqlite3")
    with database.connection_context():
        pragma = lambda name: database.execute_sql(f"PRAGMA {name}").fetchone()[0]
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL: a saved complaint survives a power cut
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 10000
    with database.atomic():
        pass
    database.close_all()


def test_sqlite_write_transactions_take_the_lock_at_once(tmp_path):
    database = make_database(f"sqlite:///{tmp_path}/d.sqlite3")
    statements = []
    with database.connection_context():
        database.connection().set_trace_callback(statements.append)
        with database.atomic():
            database.execute_sql("SELECT 1")
    assert "BEGIN IMMEDIATE" in statements
    database.close_all()


def test_requests_return_their_connection_to_the_pool(app, client):
    client.get("/login")
    client.get("/login")
    assert db.is_closed()  # the request handed it back
    if hasattr(db.obj, "_connections"):
        assert len(db.obj._in_use) == 0


def test_flask_command_line_finds_the_app(runner):
    result = runner.invoke(args=["upgrade-db"])
    assert result.exit_code == 0, result.output
    assert "数据库结构版本" in result.output


def test_backup_copies_the_whole_database(runner, county, tmp_path):
    import re
    import sqlite3
    from peewee import SqliteDatabase
    target = tmp_path / "b.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert re.search(r"^window +2$", result.output, re.M)  # the rows counted in the copy (pg_dump's on PostgreSQL)
    if isinstance(db.obj, SqliteDatabase):
        with sqlite3.connect(target) as copy:
            assert copy.execute("SELECT COUNT(*) FROM window").fetchone()[0] == 2
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0 and "已存在" in again.output
