"""Backups that happen by themselves: one a night into BACKUP_DIR, 30 daily and 12 monthly copies kept.

The copy is app/backup.py's, checked before it gets its name. Several processes may run: the
night is claimed in one SystemSetting row under a write lock, and a claim whose process died runs
out after LEASE, when another process takes the night over. A failure leaves no file behind and is
a notice to the system and security administrators. Pruning touches only the files named here
(zhitongche-auto-…), and never the newest copy whose checksum still matches.
"""
import datetime
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from peewee import PostgresqlDatabase

from app import backup as backups
from app import outbox
from app.roles import SECADMIN, SYSADMIN
from models import SystemSetting, db, now

PREFIX = "zhitongche-auto-"
NAME = re.compile(r"^zhitongche-auto-(\d{8}-\d{6})\.(?:sqlite3|dump)$")
STAMP = "%Y%m%d-%H%M%S"
KEEP_DAILY, KEEP_MONTHLY = 30, 12
STALE = datetime.timedelta(hours=48)  # the home page turns red: two nights without a good copy
LEASE = datetime.timedelta(hours=6)  # far longer than a county's backup takes
NIGHT_KEY, LAST_KEY, FAILED_KEY = "backup_night", "backup_last", "backup_failed"
TOLD = (SYSADMIN, SECADMIN)
KIND = "backup_failed"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

log = logging.getLogger(__name__)
settings = {"time": datetime.time(2, 30), "folder": Path("instance") / "backups"}


def clock():
    """The time the schedule goes by (tests move it)."""
    return now()


def configure(config):
    """BACKUP_TIME ("HH:MM" or "off", checked by app/config.py) and BACKUP_DIR."""
    when = str(config.get("BACKUP_TIME", "02:30"))
    settings["time"] = None if when == "off" else datetime.time(*map(int, when.split(":")))
    settings["folder"] = Path(config.get("BACKUP_DIR") or Path(config["INSTANCE_PATH"]) / "backups")


@dataclass
class Outcome:
    report: backups.Report = None  # None: the backup failed
    pruned: list = field(default_factory=list)
    error: str = ""


# --- the night's claim --------------------------------------------------------------------------
def last_slot(at):
    """The latest scheduled moment at or before `at`."""
    slot = datetime.datetime.combine(at.date(), settings["time"])
    return slot if slot <= at else slot - datetime.timedelta(days=1)


def _read(key, lock=False):
    query = SystemSetting.select(SystemSetting.value).where(SystemSetting.key == key)
    if lock and isinstance(db.obj, PostgresqlDatabase):  # SQLite: the IMMEDIATE transaction holds the lock
        query = query.for_update()
    raw = query.scalar()
    return json.loads(raw) if raw else None


def _write(key, value):
    SystemSetting.write(key, json.dumps(value, ensure_ascii=False))


def _when(text):
    return datetime.datetime.strptime(text, TIME_FORMAT) if text else None


def _wanted(night, slot, at):
    """Whether the row `night` leaves the backup of `slot` to be taken at `at`."""
    taken = _when(night["slot"])
    if taken < slot:
        return True
    return taken == slot and night["state"] == "running" and _when(night["until"]) <= at  # its process died


def claim(at):
    """This process's token for the night's backup due at `at`; None when not due or another process has it."""
    if settings["time"] is None:
        return None
    slot = last_slot(at)
    night = _read(NIGHT_KEY)
    if night is not None and not _wanted(night, slot, at):
        return None  # most minutes: one read, no lock
    with db.atomic():
        night = _read(NIGHT_KEY, lock=True)  # again, under the lock: one process wins the night
        # The first start takes a first copy at once: a new install is not a day without one.
        if night is not None and not _wanted(night, slot, at):
            return None
        token = secrets.token_hex(8)
        _write(NIGHT_KEY, {"slot": f"{slot:{TIME_FORMAT}}", "state": "running", "token": token,
                           "until": f"{at + LEASE:{TIME_FORMAT}}"})
    return token


def _finish(token, state):
    with db.atomic():
        night = _read(NIGHT_KEY, lock=True)
        if night and night.get("token") == token:  # not taken over meanwhile
            _write(NIGHT_KEY, dict(night, state=state, until=f"{clock():{TIME_FORMAT}}"))


def run_due(at=None):
    """Take the night's backup if it is due and no other process took it: the Outcome, or None."""
    at = at or clock()
    with db.connection_context():
        token = claim(at)
        if token is None:
            return None
        outcome = None
        try:
            outcome = take(at)
        finally:
            _finish(token, "done" if outcome and not outcome.error else "failed")
    return outcome


# --- one backup -----------------------------------------------------------------------------------
def take(at=None):
    """Back up into the folder under a name of our own, then prune; a failure is told to the administrators."""
    at = at or clock()
    folder = Path(settings["folder"])
    target = folder / f"{PREFIX}{at:{STAMP}}{'.dump' if backups.is_postgres() else '.sqlite3'}"
    try:
        report = backups.backup(target)
    except Exception as exc:  # also a lost connection while auditing: the administrators must hear of it
        error = str(exc) if isinstance(exc, backups.BackupError) else f"{type(exc).__name__}: {exc}"
        log.error("backup into %s failed: %s", folder, error)
        _tell_failure(at, folder, error)
        return Outcome(error=error)
    with db.connection_context():
        _write(LAST_KEY, {"at": f"{at:{TIME_FORMAT}}", "path": str(report.path), "size": report.size})
    return Outcome(report, prune(folder))


def _tell_failure(at, folder, error):
    from flask_babel import gettext as _

    from app.i18n import in_chinese
    try:
        with db.connection_context(), db.atomic():
            last = _read(LAST_KEY)
            with in_chinese():  # stored once and sent out: in the county's language
                message = _("Zhitongche: the backup of %(time)s failed and nothing was saved in %(folder)s: "
                            "%(error)s Last good backup: %(last)s. Check the folder (free space, "
                            "permissions, the network share), then run flask backup --prune.",
                            time=f"{at:%Y-%m-%d %H:%M}", folder=folder, error=error,
                            last=last["at"][:16] if last else _("none"))
            _write(FAILED_KEY, {"at": f"{at:{TIME_FORMAT}}", "error": error})
            for role in TOLD:
                outbox.notify_system(role, KIND, message, at)
    except Exception:  # the database itself is gone: the log is all that is left
        log.exception("could not record the failed backup")


# --- keeping 30 daily and 12 monthly --------------------------------------------------------------
def copies(folder=None):
    """The copies this module made in `folder`, oldest first: [(taken at, path)]."""
    folder = Path(folder or settings["folder"])
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = NAME.match(path.name)
        if match and path.is_file():
            found.append((datetime.datetime.strptime(match.group(1), STAMP), path))
    return sorted(found)


def retained(found):
    """The newest copy of each of the 30 latest days, and the first copy of each of the 12 latest months."""
    days, months = {}, {}
    for taken, path in found:
        days[taken.date()] = path
        months.setdefault((taken.year, taken.month), path)
    return ({days[d] for d in sorted(days)[-KEEP_DAILY:]} |
            {months[m] for m in sorted(months)[-KEEP_MONTHLY:]})


def newest_good(found):
    """The newest copy whose checksum file is there and still matches; None when there is none."""
    for _taken, path in reversed(found):
        if backups.checksum_path(path).exists():
            try:
                backups._check_checksum(path)
            except (backups.BackupError, OSError):
                continue
            return path
    return None


def prune(folder=None):
    """Delete our copies retention no longer keeps (with their checksum and manifest files); returns the paths deleted."""
    folder = Path(folder or settings["folder"])
    found = copies(folder)
    keep = retained(found)
    good = newest_good(found)
    if good is not None:
        keep.add(good)
    deleted = []
    for _taken, path in found:
        if path in keep:
            continue
        try:
            backups._remove(path, backups.checksum_path(path), backups.manifest_path(path))
            deleted.append(path)
        except OSError as exc:  # kept for the next night; the backup itself went well
            log.warning("could not delete the old backup %s: %s", path, exc)
    _remove_leftovers(folder)
    return deleted


def _remove_leftovers(folder):
    """A process killed while copying leaves a hidden .part file (and checksum files may lose their copy)."""
    old = time.time() - LEASE.total_seconds()
    for path in folder.iterdir():
        name = path.name
        ours_part = (name.startswith("." + PREFIX) and name.endswith((".part", ".part-journal"))
                     or NAME.match(name.removesuffix(".sha256.part")) and name.endswith(".sha256.part"))
        beside = next((s for s in (".sha256", ".manifest.json") if name.endswith(s)), None)
        orphan = (beside is not None and NAME.match(name.removesuffix(beside))
                  and not path.with_name(name.removesuffix(beside)).exists())
        try:
            if orphan or (ours_part and path.is_file() and path.stat().st_mtime < old):
                path.unlink()
        except OSError:
            pass


# --- for the administrators' home page --------------------------------------------------------------
def status(at=None):
    """The last good backup (time, age, file), the last failure since, the folder, and whether it is overdue."""
    at = at or clock()
    last, failed = _read(LAST_KEY), _read(FAILED_KEY)
    last_at = _when(last["at"]) if last else None
    failed_at = _when(failed["at"]) if failed else None
    if failed_at and last_at and failed_at <= last_at:
        failed = failed_at = None  # a good backup came after it
    return {"folder": str(settings["folder"]), "time": settings["time"], "last_at": last_at,
            "path": last["path"] if last else "", "age": at - last_at if last_at else None,
            "stale": last_at is None or at - last_at > STALE, "failed_at": failed_at,
            "error": failed["error"] if failed else ""}


# --- inside run.py ---------------------------------------------------------------------------------
def start_scheduler(app, every_seconds=60):
    """Look once a minute whether the night's backup is due (a thread, like the deadline sweep)."""
    if settings["time"] is None:
        return None

    from app.background import every
    return every(app, every_seconds, "zhitongche-backup", run_due, "scheduled backup failed")
