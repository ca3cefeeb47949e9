"""Binds the unbound `models.db` to the database named by DATABASE_URL."""
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

from flask import g
from peewee import PostgresqlDatabase
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


class WriterQueueSqliteDatabase(PooledSqliteDatabase):
    """The threads of one process queue for the write transaction before SQLite's lock.

    SQLite's busy handler sleeps 1, 2, 5, 10… ms between tries, many times longer than a rating's
    write, and under a burst of kiosks the writers mostly sleep. Queued on a lock in the process,
    the next writer starts the moment the last one commits. Other processes still meet SQLite's own
    lock (busy_timeout); a writer that waits longer than that goes ahead and lets SQLite decide.
    """

    def __init__(self, *args, writer_wait=10.0, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer = threading.Lock()
        self._writer_wait = writer_wait
        self._holds = threading.local()

    def begin(self, *args, **kwargs):
        self._holds.writer = self._writer.acquire(timeout=self._writer_wait)
        try:
            return super().begin(*args, **kwargs)
        except BaseException:
            self._release_writer()
            raise

    def commit(self):
        try:
            return super().commit()
        finally:  # a failed COMMIT is rolled back next, by the same thread: release once
            self._release_writer()

    def rollback(self):
        try:
            return super().rollback()
        finally:
            self._release_writer()

    def _release_writer(self):
        if getattr(self._holds, "writer", False):
            self._holds.writer = False
            self._writer.release()


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
        return WriterQueueSqliteDatabase(
            path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE",
            max_connections=pool_size, stale_timeout=3600, timeout=30,
            check_same_thread=False)
    if parsed.scheme in ("postgres", "postgresql"):
        return PooledPostgresqlDatabase(
            parsed.path.lstrip("/") or "postgres",
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname, port=parsed.port or 5432,
            max_connections=pool_size, stale_timeout=600, timeout=30,
            # The app's reads are small and many (tallies, one page of a list): starting parallel
            # workers costs more than they save, ten milliseconds on an office server.
            options="-c max_parallel_workers_per_gather=0")
    raise ConfigError(
        f"不支持的 DATABASE_URL：{url!r}。请使用 sqlite:///路径 或 postgresql://用户@主机:端口/库名")


# --- statements built once -------------------------------------------------------------------
# A rating writes a few rows. Peewee builds each statement's SQL text anew every time, which costs
# more than SQLite's own work; on that path the text is built by peewee once per dialect and
# then only executed with fresh values, each still passed through its field's db_value.
_compiled = {}


def compiled(name, build):
    """build() -> anything (SQL text and the like), built once per kind of database in this process."""
    key = (name, type(db.obj))  # the text depends on the dialect only, never on one connection
    found = _compiled.get(key)
    if found is None:
        found = _compiled[key] = build()
    return found


def _insert_statement(model):
    fields = [f for f in model._meta.sorted_fields if not (f.primary_key and f.name == "id")]
    return model.insert({f: None for f in fields}).sql()[0], fields


def insert_row(instance):
    """INSERT a new model instance, as instance.save(force_insert=True) would; returns it with its id."""
    model = type(instance)
    sql, fields = compiled(("insert", model), lambda: _insert_statement(model))
    data = instance.__data__
    cursor = db.execute_sql(sql, [f.db_value(data.get(f.name)) for f in fields])
    instance.id = cursor.fetchone()[0] if isinstance(db.obj, PostgresqlDatabase) else cursor.lastrowid
    instance._dirty.clear()
    return instance


def bind(url, pool_size=16):
    """Point the models at the database; safe to call again (tests, several apps)."""
    if db.obj is not None:
        getattr(db.obj, "close_all", db.obj.close)()
    db.initialize(make_database(url, pool_size))
    from models import RatingTally  # a clause PostgreSQL does not know: only where it means something
    RatingTally._meta.without_rowid = not isinstance(db.obj, PostgresqlDatabase)
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
