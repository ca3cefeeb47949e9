"""Binds the unbound `models.db` to the database named by DATABASE_URL."""
from pathlib import Path
from urllib.parse import unquote, urlparse

from flask import g
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from models import db


class ConfigError(ValueError):
    """A configuration value that cannot work; the message says how to fix it."""


# synchronous=FULL: a county office loses power, and a saved complaint must survive it.
SQLITE_PRAGMAS = (
    ("journal_mode", "wal"),
    ("synchronous", "full"),
    ("foreign_keys", 1),
    ("busy_timeout", 10000),
)


def make_database(url, pool_size=16):
    """Return a pooled peewee database for a sqlite:/// or postgresql:// URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(url[len("sqlite:///"):])
        if not path:
            raise ConfigError("DATABASE_URL 缺少 SQLite 文件路径，例如 sqlite:///instance/zhitongche.sqlite3")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Pooled: closing the last SQLite connection checkpoints the WAL on every request.
        # lock_type IMMEDIATE: a reader that turns writer would otherwise fail with "locked".
        return PooledSqliteDatabase(
            path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE",
            max_connections=pool_size, stale_timeout=3600, timeout=30,
            check_same_thread=False)
    if parsed.scheme in ("postgres", "postgresql"):
        return PooledPostgresqlDatabase(
            parsed.path.lstrip("/") or "postgres",
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname, port=parsed.port or 5432,
            max_connections=pool_size, stale_timeout=600, timeout=30)
    raise ConfigError(
        f"不支持的 DATABASE_URL：{url!r}。请使用 sqlite:///路径 或 postgresql://用户@主机:端口/库名")


def bind(url, pool_size=16):
    """Point the models at the database; safe to call again (tests, several apps)."""
    if db.obj is not None:
        getattr(db.obj, "close_all", db.obj.close)()
    db.initialize(make_database(url, pool_size))
    return db


def init_app(app):
    bind(app.config["DATABASE_URL"], app.config["DATABASE_POOL_SIZE"])

    @app.before_request
    def _connect():
        g.db_opened = db.connect(reuse_if_open=True)

    @app.teardown_request
    def _release(exc):
        # Returns the connection to the pool; an unfinished transaction is rolled back there.
        if g.pop("db_opened", False) and not db.is_closed():
            db.close()
