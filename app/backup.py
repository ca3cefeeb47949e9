"""Backups a county can trust: copied, checked, and only then given their name; restored into an empty database.

A backup is written to a temporary file beside its target, opened again and checked (SQLite:
every page by `PRAGMA integrity_check`, every table counted; PostgreSQL: pg_restore reads its
table of contents), and only then linked to the target name, which is never overwritten. Its
SHA-256 goes beside it (`TARGET.sha256`, the format `sha256sum -c` reads): SQLite keeps no
checksums of its own, so a byte flipped inside a row would pass every structural check.
A manifest goes beside it too (`TARGET.manifest.json`): its checksum, and the audit trail's
checkpoint, for `flask audit verify --checkpoint-file` to prove later that no row up to it was rewritten.
A restore checks the backup the same way before it touches the configured database.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from peewee import DatabaseError, PostgresqlDatabase

from app import audit, migrations
from models import (ALL_MODELS, AuditLog, CalendarDay, LoginThrottle, Reason, SystemSetting, WorkflowFile,
                    WorkflowVersion, db)

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
# Rows the app writes by itself on its first start (and `flask seed --no-demo`): a database holding
# only these is a fresh instance, and a restore may replace it without --force. Failed logins are
# no data either.
STARTUP_TABLES = tuple(m._meta.table_name for m in (SystemSetting, WorkflowVersion, WorkflowFile, CalendarDay, Reason,
                                                    LoginThrottle))


class BackupError(Exception):
    """Why a backup or a restore was refused or stopped, in Chinese."""


@dataclass
class Report:
    path: Path
    version: int
    counts: dict = field(default_factory=dict)  # table -> rows, as inside the backup
    size: int = 0
    checksum: str = ""  # hex SHA-256 of the backup file; "" when a restore found none to compare
    upgraded_from: int = None  # restore: the backup's schema version, before the upgrade
    checkpoint: tuple = None  # backup: (row id, seal) of the audit trail, a row inside the copy


def table_names():
    return [model._meta.table_name for model in ALL_MODELS]


def is_postgres():
    return isinstance(db.obj, PostgresqlDatabase)


def checksum_path(path):
    return Path(f"{path}.sha256")


def manifest_path(path):
    return Path(f"{path}.manifest.json")


# --- backup ----------------------------------------------------------------------------------

def backup(target):
    """Copy the configured database to `target`, check the copy, then name it; returns a Report."""
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} 已存在，请换一个文件名，以免覆盖旧备份。")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise BackupError(f"无法在 {target.parent} 里写文件（{exc.strerror}）：请换一个目录，或检查权限。")
    os.close(fd)
    temporary = Path(name)
    try:
        with db.connection_context():
            # Before the copy: that row is inside it, and stays in the live chain whatever comes after.
            checkpoint = audit.checkpoint()
        version, counts = (_dump_postgres if is_postgres() else _copy_sqlite)(temporary)
        _sync_file(temporary)
        checksum = _sha256(temporary)
        _publish(temporary, target)
    except (OSError, sqlite3.Error, DatabaseError) as exc:  # a full disk, a lost connection
        raise BackupError(f"备份没有完成，没有保存：{exc}")
    finally:
        _remove(temporary, Path(f"{temporary}-journal"))
    report = Report(target, version, counts, target.stat().st_size, checksum, checkpoint=checkpoint)
    try:
        _write_checksum(target, checksum)
        _write_beside(manifest_path(target), json.dumps(_manifest(report), ensure_ascii=False, indent=2) + "\n")
    except OSError as exc:
        raise BackupError(f"备份已保存为 {target}，但校验文件或清单没有写成：{exc}")
    with db.connection_context():
        # After the copy, so this row is not inside the backup it describes.
        AuditLog.record("backup", None, detail=f"{target}（{report.size} 字节，结构版本 {version}，"
                                                 f"SHA-256 {checksum[:16]}…）")
    return report


def _copy_sqlite(temporary):
    with db.connection_context():
        version = migrations.current_version()
        ours = set(table_names()) & set(db.get_tables())
        with closing(sqlite3.connect(temporary)) as copy:
            # One step (pages=-1) reads one snapshot: ratings keep being written meanwhile (WAL),
            # and a copy made in several steps would start over after each of them.
            db.connection().backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    copied_version, counts = inspect_sqlite(temporary, "刚写出的备份副本")
    if copied_version != version:
        raise BackupError(f"备份副本的结构版本是 {copied_version}，数据库是 {version}：副本不完整，没有保存。")
    missing = sorted(ours - counts.keys())
    if missing:
        raise BackupError(f"备份副本里缺少数据表 {'、'.join(missing)}：副本不完整，没有保存。")
    return version, counts


def inspect_sqlite(path, name):
    """(schema version, rows per table) of an SQLite file, after checking every page of it; `name` for messages."""
    try:
        with closing(sqlite3.connect(path)) as copy:
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check(5)")]
            if problems != ["ok"]:
                raise BackupError(f"{name} 没有通过完整性检查（{'；'.join(problems)}），文件已损坏。")
            present = {row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if SystemSetting._meta.table_name not in present:
                raise BackupError(f"{name} 里没有直通车的数据表，不是直通车的数据库备份。")
            row = copy.execute(f'SELECT value FROM "{SystemSetting._meta.table_name}" WHERE key = ?',
                               (migrations.VERSION_KEY,)).fetchone()
            counts = {table: copy.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                      for table in table_names() if table in present}
    except sqlite3.DatabaseError as exc:  # not a database at all, or pages cut off
        raise BackupError(f"{name} 不是完好的 SQLite 数据库（{exc}），文件已损坏。")
    return int(row[0]) if row else 0, counts


def _dump_postgres(temporary):
    pg_dump = _tool("pg_dump")
    with db.connection_context():
        # The rows counted here are the rows dumped: pg_dump reads the snapshot this transaction exported.
        with db.atomic(isolation_level="REPEATABLE READ"):
            snapshot = db.execute_sql("SELECT pg_export_snapshot()").fetchone()[0]
            version = migrations.current_version()
            counts = _live_counts()
            _run([pg_dump, "--no-password", "--format=custom", f"--snapshot={snapshot}", f"--file={temporary}",
                  f"--dbname={_conninfo()}"], "pg_dump 没有完成，没有保存备份")
    listed = _listed_tables(temporary, "刚写出的备份读不出目录，没有保存")
    missing = sorted(counts.keys() - listed)
    if missing:
        raise BackupError(f"pg_dump 的输出里缺少数据表 {'、'.join(missing)}：备份不完整，没有保存。")
    return version, counts


# --- restore ---------------------------------------------------------------------------------

def restore(source, force=False):
    """Replace the configured (empty) database by the backup `source`; returns a Report."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}。")
    _check_kind(source)
    checksum = _check_checksum(source)
    with db.connection_context():
        held = {table: n for table, n in _live_counts().items() if n and table not in STARTUP_TABLES}
    if held and not force:
        listed = "、".join(f"{table} {n} 行" for table, n in sorted(held.items())[:5])
        raise BackupError(f"数据库里已经有数据（{listed}…），恢复会用备份把它们全部替换，所以没有恢复。"
                          "确实要替换：先用 flask backup 另存一份现在的数据，再加 --force 重新运行。")
    version = (_restore_postgres if is_postgres() else _restore_sqlite)(source)
    _forget_cached_rows()
    migrations.upgrade()  # an older backup comes up to this program's schema
    audit.note_key()  # restored on another server: its key seals from here on, and the chain says so
    with db.connection_context():
        report = Report(source, migrations.current_version(), _live_counts(), source.stat().st_size, checksum,
                        upgraded_from=version)
        AuditLog.record("restore", None, detail=f"从 {source} 恢复（结构版本 {version} → {report.version}，"
                                                  f"{'SHA-256 已核对' if checksum else '无校验文件'}）")
    return report


def _check_kind(source):
    with open(source, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        kind = "SQLite"
    elif head.startswith(PG_CUSTOM_MAGIC):
        kind = "PostgreSQL"
    else:
        raise BackupError(f"{source} 不是直通车的备份文件（既不是 SQLite 数据库，也不是 pg_dump -Fc 的输出）。")
    configured = "PostgreSQL" if is_postgres() else "SQLite"
    if kind != configured:
        raise BackupError(f"{source} 是 {kind} 的备份，而现在配置的是 {configured} 数据库（DATABASE_URL）："
                          f"请在 {kind} 的实例上恢复。")


def _check_checksum(source):
    """The SHA-256 written beside the backup, compared with the file: "" when there is none to compare."""
    side = checksum_path(source)
    if not side.exists():
        return ""
    expected = side.read_text(encoding="utf-8").split()[:1]
    actual = _sha256(source)
    if expected != [actual]:
        raise BackupError(f"{source} 与它的校验值 {side.name} 不符：文件在备份之后被改动或损坏了，不能用来恢复，"
                          "数据库没有改动。请换一份备份。")
    return actual


def _restore_sqlite(source):
    live = Path(db.obj.database)
    fd, name = tempfile.mkstemp(dir=live.parent, prefix=f".{live.name}.", suffix=".restore")
    temporary = Path(name)
    try:
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as backup_file:
                shutil.copyfileobj(backup_file, out)
        except OSError as exc:  # a full disk
            raise BackupError(f"恢复没有完成，数据库没有改动：{exc}")
        try:
            version, _counts = inspect_sqlite(temporary, str(source))
        except BackupError as exc:
            raise BackupError(f"{exc}没有恢复，数据库没有改动。")
        _refuse_newer(version)
        _sync_file(temporary)
        _close_connections()
        # The last connection to close removes them; still there, another process has the file open,
        # and its WAL would be replayed onto the restored file.
        open_beside = [p.name for p in (Path(f"{live}-wal"), Path(f"{live}-shm")) if p.exists()]
        if open_beside:
            raise BackupError(f"数据库文件还被别的程序打开着（旁边有 {'、'.join(open_beside)}）："
                              "请先停止直通车（网站和定时任务），再恢复。数据库没有改动。"
                              "（已经停止还这样：是上次意外退出留下的，启动再停止一次即可。）")
        _same_owner_and_mode(temporary, live)
        os.replace(temporary, live)
        _sync_dir(live.parent)
    finally:
        _remove(temporary, Path(f"{temporary}-journal"))
    return version


def _restore_postgres(source):
    pg_restore = _tool("pg_restore")
    damaged = f"{source} 已损坏或不完整，没有恢复，数据库没有改动"
    listed = _listed_tables(source, damaged)
    if SystemSetting._meta.table_name not in listed:
        raise BackupError(f"{source} 里没有直通车的数据表，不是直通车的数据库备份。")
    settings = _run([pg_restore, "--data-only", f"--table={SystemSetting._meta.table_name}", "--file=-",
                     str(source)], damaged)
    prefix = migrations.VERSION_KEY + "\t"
    version = next((int(line[len(prefix):]) for line in settings.splitlines() if line.startswith(prefix)), 0)
    _refuse_newer(version)
    # Read every block first: a damaged dump fails here, before the database is touched.
    _run([pg_restore, f"--file={os.devnull}", str(source)], damaged)
    _close_connections()
    # Our tables go first, all of them: --clean drops only what the dump holds, and the newer tables
    # of a fresh instance point at older ones that an older backup brings back.
    drops = "".join(f'DROP TABLE IF EXISTS "{table}" CASCADE;\n' for table in table_names())
    _in_one_transaction(drops, [pg_restore, "--no-owner", "--clean", "--if-exists", "--file=-", str(source)],
                        "恢复没有完成，已全部撤回，数据库没有改动")
    return version


def _in_one_transaction(first, script_command, failed):
    """Run `first`, then the SQL script a tool writes, through psql; committed only once the script ended well.

    pg_restore --single-transaction cannot drop what the dump does not hold; psql --single-transaction
    would commit a script cut short by a failing pg_restore.
    """
    psql = _tool("psql")
    with tempfile.TemporaryFile() as script_errors, tempfile.TemporaryFile() as psql_errors:
        script = subprocess.Popen(script_command, env=_pg_env(), stdout=subprocess.PIPE, stderr=script_errors)
        apply = subprocess.Popen([psql, "--no-psqlrc", "--no-password", "--quiet", "--set=ON_ERROR_STOP=1",
                                  f"--dbname={_conninfo()}"], env=_pg_env(), stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=psql_errors)
        try:
            apply.stdin.write(("BEGIN;\n" + first).encode())
            shutil.copyfileobj(script.stdout, apply.stdin)
            if script.wait() == 0:
                apply.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:  # psql stopped at an error (ON_ERROR_STOP): the server rolls back
            pass
        finally:
            script.stdout.close()
            try:
                apply.stdin.close()  # without COMMIT: psql leaves, and the server rolls the transaction back
            except BrokenPipeError:
                pass
            script.wait()
            apply.wait()
        for process, errors in ((script, script_errors), (apply, psql_errors)):
            if process.returncode != 0:
                errors.seek(0)
                raise BackupError(f"{failed}。{Path(process.args[0]).name} 的报错（退出码 {process.returncode}）："
                                  f"{_last_error(errors.read())}")


def _same_owner_and_mode(temporary, live):
    """The service's account must still write the file an administrator restored (as root, say)."""
    if not live.exists():
        return
    shutil.copymode(live, temporary)
    if hasattr(os, "chown"):
        st = live.stat()
        try:
            os.chown(temporary, st.st_uid, st.st_gid)
        except PermissionError:  # not root: the file is ours, as the live one was
            pass


def _refuse_newer(version):
    if version > migrations.LATEST:
        raise BackupError(f"备份的数据库结构版本 {version} 比本程序支持的 {migrations.LATEST} 新："
                          "请先升级程序再恢复。数据库没有改动。")


def _close_connections():
    getattr(db.obj, "close_all", db.obj.close)()


def _forget_cached_rows():
    """The calendar and the workflows this process read belong to the database just replaced."""
    from app import workdays
    from app import procedures
    workdays.invalidate()
    procedures.clear_cache()


# --- shared ----------------------------------------------------------------------------------

def _live_counts():
    present = set(db.get_tables())
    return {table: db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            for table in table_names() if table in present}


def _listed_tables(dump, failed):
    """The tables whose rows a pg_dump -Fc file holds, from its table of contents."""
    listing = _run([_tool("pg_restore"), "--list", str(dump)], failed)
    # e.g. "3391; 0 16402 TABLE DATA public evaluation postgres"
    return {line.split("TABLE DATA ", 1)[1].split()[1] for line in listing.splitlines()
            if not line.startswith(";") and " TABLE DATA " in line}


def _tool(name):
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"找不到 {name}：请安装 PostgreSQL 客户端（Debian/Ubuntu：apt install postgresql-client；"
                          "Windows：把 PostgreSQL 的 bin 目录加入 PATH），版本不低于数据库服务器。")
    return path


def _conninfo():
    """libpq's key=value form: the password goes by PGPASSWORD, never on a command line others can read."""
    params = db.obj.connect_params
    parts = {"dbname": db.obj.database, "host": params.get("host"), "port": params.get("port"),
             "user": params.get("user")}
    return " ".join(f"{key}='{_quoted(value)}'" for key, value in parts.items() if value not in (None, ""))


def _quoted(value):
    return str(value).replace("\\", "\\\\").replace("'", "\\'")


def _run(command, failed):
    """Run a PostgreSQL tool; `failed` says in Chinese what its failure means, its last error line follows."""
    name = Path(command[0]).name
    try:
        done = subprocess.run(command, env=_pg_env(), capture_output=True)
    except OSError as exc:
        raise BackupError(f"{failed}：无法运行 {name}（{exc}）")
    if done.returncode != 0:
        raise BackupError(f"{failed}。{name} 的报错（退出码 {done.returncode}）：{_last_error(done.stderr)}")
    return done.stdout.decode("utf-8", "replace")


def _pg_env():
    env = dict(os.environ)
    password = db.obj.connect_params.get("password")
    if password:
        env["PGPASSWORD"] = password
    return env


def _last_error(stderr):
    """The line that says what went wrong: the last "error:" line (a "Command was:" line may follow it)."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines() or ["没有输出错误信息"]
    errors = [line for line in lines if "error:" in line.lower() or "ERROR:" in line or "FATAL:" in line]
    return (errors or lines)[-1]


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(report):
    point = report.checkpoint
    return {"file": report.path.name, "sha256": report.checksum, "bytes": report.size,
            "schema_version": report.version, "rows": report.counts,
            "audit_checkpoint": {"row": point[0], "seal": point[1]} if point else None}


def _write_checksum(target, checksum):
    _write_beside(checksum_path(target), f"{checksum}  {target.name}\n")


def _write_beside(side, text):
    partial = side.with_name(side.name + ".part")
    partial.write_text(text, encoding="utf-8")
    _sync_file(partial)
    os.replace(partial, side)
    _sync_dir(side.parent)


def _publish(temporary, target):
    """Give the checked copy its name, never replacing a file of that name (another backup's)."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise BackupError(f"{target} 已存在，请换一个文件名，以免覆盖旧备份。")
    except OSError:  # no hard links on this disk (a FAT USB stick): look, then rename
        if target.exists():
            raise BackupError(f"{target} 已存在，请换一个文件名，以免覆盖旧备份。")
        os.rename(temporary, target)
    _sync_dir(target.parent)


def _sync_file(path):
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _sync_dir(path):
    """Make a rename survive a power cut; Windows cannot open a directory (NTFS journals renames)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(*paths):
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
