"""Binds the unbound `models.db` to the database named by DATABASE_URL."""
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from flask import g
from peewee import InterfaceError, OperationalError, PostgresqlDatabase
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


# What psycopg2 says when the server went away under a connection, or cannot take one yet.
LOST = ("server closed the connection", "terminating connection", "connection already closed",
        "could not receive data from server", "could not send data to server", "no connection to the server",
        "ssl syscall error", "connection not open")
UNAVAILABLE = ("connection refused", "the database system is starting up", "the database system is shutting down",
               "the database system is in recovery mode", "the database system is not yet accepting connections",
               "too many clients already", "could not connect to server", "no such file or directory")


def connection_lost(exc, said=LOST + UNAVAILABLE):
    """True when `exc` says PostgreSQL went away or cannot be reached yet, not that a statement was wrong."""
    return isinstance(exc, (OperationalError, InterfaceError)) and any(part in str(exc).lower() for part in said)


class RestartProofPostgresqlDatabase(PooledPostgresqlDatabase):
    """A pooled PostgreSQL database that outlives a restart of the server, with no restart of the app.

    Three places where a restart would otherwise answer 500:
    - an idle pooled connection killed by it: the pool pings each one as it lends it (peewee's
      own check, a SELECT 1 of some 50 µs), and drops the dead;
    - a connection that dies between statements: a new one runs the statement again, but never
      inside a transaction, whose earlier statements died with the old one. (peewee's
      ReconnectMixin does this too, but forgets the connection_context()s open around it, which
      then fail as they close: peewee 4.5.3);
    - a new connection while the server is down or still starting: tried again for up to
      `connect_wait` seconds, so a request waits out a restart instead of failing.
    A transaction the restart cuts short still fails: it is rolled back and answered 503
    (views/errors.py), and sending it again is safe.
    """
    def __init__(self, *args, connect_wait=15.0, sleep=time.sleep, **kwargs):
        super().__init__(*args, **kwargs)
        self.connect_wait = connect_wait
        self._sleep = sleep

    def connect(self, reuse_if_open=False):
        waited, pause = 0.0, 0.05
        while True:
            try:
                return super().connect(reuse_if_open)
            except OperationalError as exc:
                if not connection_lost(exc) or waited + pause > self.connect_wait:
                    raise
            self._sleep(pause)
            waited, pause = waited + pause, min(pause * 2, 1.0)

    def execute_sql(self, sql, params=None):
        try:
            return super().execute_sql(sql, params)
        except (OperationalError, InterfaceError) as exc:
            if self.in_transaction() or not connection_lost(exc, LOST):
                raise
        self._replace_connection()
        return super().execute_sql(sql, params)

    def begin(self, *args, **kwargs):
        try:
            return super().begin(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            if not connection_lost(exc, LOST):
                raise
        self._replace_connection()
        return super().begin(*args, **kwargs)

    def _replace_connection(self):
        opened_by = self._state.ctx  # the connection_context()s around: the new connection is theirs now
        self.close()  # the pool finds the old one broken and drops it
        self.connect()
        self._state.ctx = opened_by


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
        return RestartProofPostgresqlDatabase(
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
        # Already open on this thread: a test's or a command's connection, theirs to close.
        g.db_borrowed = not db.is_closed()
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _release(exc):
        # Back to the pool, whoever opened it in this request: the view, or an error page after
        # a failed connect. Kept by a thread it would dodge the pool's check after a PostgreSQL
        # restart. An unfinished transaction is rolled back there. (A context a test pushes
        # by hand runs no before_request: then it is not ours.)
        if g.pop("db_borrowed", True) is False and not db.is_closed():
            db.close()
