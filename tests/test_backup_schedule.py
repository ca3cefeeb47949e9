"""Backups that happen by themselves: one a night, 30 daily and 12 monthly kept, failures told, restorable."""
import datetime as dt
import os
import re
import threading
import time

import pytest

from app import backup as backups
from app import backup_schedule as schedule
from app import outbox
from app.db import ConfigError
from models import Channel, Delivery, Evaluation, Notification, Ticket, db
from tests.conftest import login
from tests.sinks import HttpSink
from tests.test_backup import SUFFIX, fresh_instance, hall, rate  # noqa: F401 (hall: a fixture)

NIGHT = dt.time(3, 15)
FIRST_START = dt.datetime(2026, 11, 24, 10, 0)


@pytest.fixture(autouse=True)
def in_app(app):
    """As in run.py's thread and the command line: inside the app (its language, its settings)."""
    with app.app_context():
        yield


@pytest.fixture
def folder(app, tmp_path, monkeypatch):
    """BACKUP_TIME=03:15 and BACKUP_DIR on a "second disk"."""
    path = tmp_path / "second-disk" / "直通车备份"
    monkeypatch.setitem(schedule.settings, "time", NIGHT)
    monkeypatch.setitem(schedule.settings, "folder", path)
    return path


@pytest.fixture
def clock(monkeypatch):
    """The schedule's clock, moved by the test: `clock.at = …`."""
    class Clock:
        at = FIRST_START
    c = Clock()
    monkeypatch.setattr(schedule, "clock", lambda: c.at)
    return c


def names(path):
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def copies_in(path):
    return [p.name for _taken, p in schedule.copies(path)]


def fake_copy(path, at, content=b"copy"):
    """A copy as the schedule names it, with its checksum beside it (retention reads only names and checksums)."""
    path.mkdir(parents=True, exist_ok=True)
    copy = path / f"{schedule.PREFIX}{at:%Y%m%d-%H%M%S}{SUFFIX}"
    copy.write_bytes(content + at.isoformat().encode())
    backups._write_checksum(copy, backups._sha256(copy))
    return copy


# --- configuration --------------------------------------------------------------------------------
def test_the_time_and_folder_come_from_the_configuration(tmp_path, monkeypatch):
    from app import config
    for key in ("time", "folder"):
        monkeypatch.setitem(schedule.settings, key, schedule.settings[key])
    monkeypatch.delenv("BACKUP_TIME", raising=False)
    monkeypatch.delenv("BACKUP_DIR", raising=False)
    schedule.configure(config.load({"INSTANCE_PATH": str(tmp_path / "inst"), "SECRET_KEY": "k"}))
    assert schedule.settings["time"] == dt.time(2, 30)
    assert schedule.settings["folder"] == tmp_path / "inst" / "backups"  # by default under instance/
    monkeypatch.setenv("BACKUP_TIME", "1:05")
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "share"))
    schedule.configure(config.load({"INSTANCE_PATH": str(tmp_path / "inst"), "SECRET_KEY": "k"}))
    assert schedule.settings["time"] == dt.time(1, 5) and schedule.settings["folder"] == tmp_path / "share"
    schedule.configure(config.load({"INSTANCE_PATH": str(tmp_path / "inst"), "SECRET_KEY": "k", "BACKUP_TIME": "OFF"}))
    assert schedule.settings["time"] is None and schedule.start_scheduler(None) is None
    with pytest.raises(ConfigError, match="BACKUP_TIME 应是每天自动备份的时间"):
        config.load({"INSTANCE_PATH": str(tmp_path / "inst"), "SECRET_KEY": "k", "BACKUP_TIME": "25:00"})


# --- the night's backup ---------------------------------------------------------------------------
def test_the_backup_fires_at_the_configured_time_once_a_night(folder, clock, hall):
    with db.connection_context():
        rate(hall, 1)
    seen = []
    for at in ("2026-11-24 10:00", "2026-11-25 03:14", "2026-11-25 03:15", "2026-11-25 03:16",
               "2026-11-25 12:00", "2026-11-25 23:59", "2026-11-26 03:14:59", "2026-11-26 03:15:30",
               "2026-11-26 03:16"):
        clock.at = dt.datetime.fromisoformat(at)
        outcome = schedule.run_due()
        if outcome is not None:
            assert not outcome.error, outcome.error
            seen.append(at)
    # The first start takes a first copy at once; then one at each 03:15.
    assert seen == ["2026-11-24 10:00", "2026-11-25 03:15", "2026-11-26 03:15:30"]
    assert copies_in(folder) == [f"zhitongche-auto-20261124-100000{SUFFIX}", f"zhitongche-auto-20261125-031500{SUFFIX}",
                                 f"zhitongche-auto-20261126-031530{SUFFIX}"]
    assert all((folder / (name + ".sha256")).exists() for name in copies_in(folder))


def test_a_night_missed_while_the_computer_was_off_is_taken_when_it_runs_again(folder, clock):
    clock.at = FIRST_START
    assert schedule.run_due() is not None  # the first copy, at once
    clock.at = dt.datetime(2026, 11, 27, 8, 40)  # switched off from the 24th to the 27th morning
    assert schedule.run_due() is not None
    clock.at = dt.datetime(2026, 11, 27, 9, 0)
    assert schedule.run_due() is None
    assert copies_in(folder)[1:] == [f"zhitongche-auto-20261127-084000{SUFFIX}"]


def test_with_several_processes_one_takes_the_night(folder, clock, app):
    clock.at = FIRST_START
    schedule.run_due()
    clock.at = dt.datetime(2026, 11, 25, 3, 15)
    results, start = [], threading.Barrier(4)

    def process():
        with app.app_context():
            start.wait()
            results.append(schedule.run_due())
    workers = [threading.Thread(target=process) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sum(r is not None for r in results) == 1
    assert len(copies_in(folder)) == 2  # the first start's and the night's


def test_a_night_whose_process_died_is_taken_over_after_the_lease(folder, clock):
    clock.at = FIRST_START
    schedule.run_due()
    clock.at = dt.datetime(2026, 11, 25, 3, 15)
    with db.connection_context():
        dead = schedule.claim(clock.at)  # this process is killed before it writes anything
    assert dead
    clock.at = dt.datetime(2026, 11, 25, 4, 0)
    assert schedule.run_due() is None  # the claim still holds
    clock.at = dt.datetime(2026, 11, 25, 3, 15) + schedule.LEASE + dt.timedelta(minutes=1)
    assert schedule.run_due() is not None
    with db.connection_context():
        schedule._finish(dead, "failed")  # the old claim cannot undo the night
        assert schedule._read(schedule.NIGHT_KEY)["state"] == "done"
    assert len(copies_in(folder)) == 2  # the first start's and the night's


# --- keeping 30 daily and 12 monthly --------------------------------------------------------------
def test_retention_keeps_exactly_30_daily_and_12_monthly_copies(folder, clock, app, runner):
    day = dt.datetime(2025, 10, 1, 3, 15)
    while day < dt.datetime(2026, 12, 31):
        fake_copy(folder, day)
        if day.day == 10:  # someone ran `flask backup --prune` by hand that afternoon too
            fake_copy(folder, day.replace(hour=15))
        day += dt.timedelta(days=1)
    theirs = ["zhitongche-2026-11-25.sqlite3", "zhitongche-auto-notes.txt", "说明.txt",
              "zhitongche-auto-20250101-000000.sqlite3.bak"]
    for name in theirs:
        (folder / name).write_text("not ours")
    stale = folder / f".zhitongche-auto-20251001-031500{SUFFIX}.x1y2.part"  # a process killed while copying
    stale.write_bytes(b"half")
    os.utime(stale, (time.time() - 7 * 86400,) * 2)
    busy = folder / f".zhitongche-auto-20261231-031500{SUFFIX}.z9.part"  # another process copying now
    busy.write_bytes(b"half")

    clock.at = dt.datetime(2026, 12, 31, 3, 15)
    result = runner.invoke(args=["backup", "--prune"])
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output and "副本已核验" in result.output and "现有 42 份自动备份" in result.output

    daily = [f"zhitongche-auto-202612{d:02d}-{15 if d == 10 else 3:02d}1500{SUFFIX}"
             for d in range(2, 32)]  # the newest copy of each day
    monthly = [f"zhitongche-auto-2026{m:02d}01-031500{SUFFIX}" for m in range(1, 13)]
    assert sorted(copies_in(folder)) == sorted(daily + monthly)
    assert len(daily) == 30 and len(monthly) == 12
    for name in theirs:
        assert (folder / name).read_text() == "not ours"  # never a file it did not make
    assert not stale.exists() and busy.exists()
    leftovers = set(names(folder)) - set(theirs) - {busy.name}
    manifests = {n for n in leftovers if n.endswith(".manifest.json")}  # the real copies' (the fakes have none)
    assert manifests and {n.removesuffix(".manifest.json") for n in manifests} <= set(daily + monthly)
    assert leftovers - manifests == {n for c in daily + monthly for n in (c, c + ".sha256")}


def test_prune_never_deletes_the_newest_good_copy(folder):
    only = fake_copy(folder, dt.datetime(2020, 1, 1, 3, 15))
    assert schedule.prune(folder) == [] and only.exists()

    monthly = fake_copy(folder, dt.datetime(2026, 1, 2, 3, 15))
    good = fake_copy(folder, dt.datetime(2026, 1, 5, 3, 15))
    spoiled = []
    for n in range(1, 40):  # a failing disk: every later copy differs from its checksum
        copy = fake_copy(folder, dt.datetime(2026, 1, 5, 3, 15) + dt.timedelta(days=n))
        copy.write_bytes(b"bad sector")
        spoiled.append(copy)
    schedule.prune(folder)
    assert good.exists(), "the newest copy that still matches its checksum is kept"
    assert only.exists() and monthly.exists() and sum(c.exists() for c in spoiled) == 30


# --- failures ---------------------------------------------------------------------------------------
@pytest.fixture
def administrators(make_user, conn):
    return {"sysadmin": make_user("sys1", "sysadmin"), "secadmin": make_user("sec1", "secadmin"),
            "office": make_user("office1", "office")}


def test_an_unwritable_folder_is_a_notice_to_both_administrators_and_leaves_nothing(
        app, clock, administrators, tmp_path, monkeypatch, client):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the share should be mounted")
    monkeypatch.setitem(schedule.settings, "time", NIGHT)
    monkeypatch.setitem(schedule.settings, "folder", blocked / "备份")
    with HttpSink() as sink:
        with db.connection_context():
            Channel.create(title="系统管理员群", kind="role", role="sysadmin", url=sink.url("/sysadmin"))
            Channel.create(title="安全管理员邮箱", kind="account", user=administrators["secadmin"],
                           url=sink.url("/secadmin"))
            Channel.create(title="监督室群", kind="role", role="office", url=sink.url("/office"))
        clock.at = dt.datetime(2026, 11, 25, 3, 15)  # the first start: its first copy fails at once
        outcome = schedule.run_due()
        assert outcome.report is None and "无法在" in outcome.error
        with db.connection_context():
            notices = list(Notification.select().order_by(Notification.role))
            assert [(n.role, n.ticket_id, n.kind) for n in notices] == [
                ("secadmin", None, "backup_failed"), ("sysadmin", None, "backup_failed")]
            assert "备份失败" in notices[0].message and "not-a-folder" in notices[0].message
            assert outbox.drain(clock.at)["sent"] == 2
            assert Delivery.select().where(Delivery.status == "sent").count() == 2
        assert set(sink.messages("/sysadmin")) == set(sink.messages("/secadmin")) == {notices[0].message}
        assert sink.messages("/office") == []
    assert blocked.read_text() == "a file where the share should be mounted"

    login(client, "sys1")
    page = client.get("/admin/notifications/").get_data(as_text=True)
    assert "备份失败" in page and notices[0].message in page
    home = client.get("/admin/").get_data(as_text=True)
    assert re.search(r'id="backup-status"[^>]*alert-danger', home) and "还没有备份" in home
    assert 'id="backup-failed"' in home

    with db.connection_context():  # one notice per failed night, not one a minute
        clock.at = dt.datetime(2026, 11, 25, 3, 16)
        assert schedule.run_due() is None
        assert Notification.select().count() == 2


def test_a_backup_cut_short_leaves_no_half_written_file(folder, clock, administrators, monkeypatch, runner):
    def disk_full(path):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(backups, "_sync_file", disk_full)
    result = runner.invoke(args=["backup", "--prune"])
    assert result.exit_code == 1 and "No space left on device" in result.output and "已通知" in result.output
    assert names(folder) == []  # neither a named copy nor a .part
    with db.connection_context():
        assert Notification.select().where(Notification.kind == "backup_failed").count() == 2


# --- the administrators' home page ----------------------------------------------------------------------
def backup_box(client):
    page = client.get("/admin/").get_data(as_text=True)
    match = re.search(r'<div id="backup-status"[^>]*class="alert ([a-z-]+)"[^>]*>(.*?)</div>', page, re.S)
    return match and (match.group(1), re.sub(r"\s+", " ", match.group(2)))


@pytest.mark.parametrize("role", ["sysadmin", "secadmin"])
def test_the_home_page_shows_the_last_backup_and_turns_red_after_48_hours(folder, clock, client, login_as, role):
    login_as(role)
    colour, text = backup_box(client)
    assert colour == "alert-danger" and "还没有备份" in text and str(folder) in text and "03:15" in text

    clock.at = dt.datetime(2026, 11, 25, 3, 15)
    with db.connection_context():
        assert not schedule.take().error
    clock.at = dt.datetime(2026, 11, 25, 3, 45)
    colour, text = backup_box(client)
    assert colour == "alert-success" and "2026-11-25 03:15" in text and "30 分钟前" in text
    clock.at = dt.datetime(2026, 11, 27, 3, 14)
    colour, text = backup_box(client)
    assert colour == "alert-success" and "47 小时前" in text
    clock.at = dt.datetime(2026, 11, 27, 3, 16)
    colour, text = backup_box(client)
    assert colour == "alert-danger" and "2 天前" in text and "超过 48 小时" in text


def test_the_backup_state_is_only_on_the_administrators_home_page(folder, client, login_as):
    login_as("office")
    assert backup_box(client) is None


# --- restoring the newest copy ---------------------------------------------------------------------------
def test_the_nightly_copy_restores_with_every_row(folder, clock, hall, tmp_path):
    with db.connection_context():
        for n in range(7):
            rate(hall, n)
        evaluations = [e.id for e in Evaluation.select().order_by(Evaluation.id)]
        codes = [t.code for t in Ticket.select().order_by(Ticket.code)]
    clock.at = FIRST_START
    schedule.run_due()
    clock.at = dt.datetime(2026, 11, 25, 3, 15)
    outcome = schedule.run_due()
    assert outcome.report.path == schedule.newest_good(schedule.copies())

    restored = fresh_instance(tmp_path).test_cli_runner().invoke(args=["restore", str(outcome.report.path)])
    assert restored.exit_code == 0, restored.output
    assert "SHA-256 校验值一致" in restored.output
    with db.connection_context():
        assert [e.id for e in Evaluation.select().order_by(Evaluation.id)] == evaluations
        assert [t.code for t in Ticket.select().order_by(Ticket.code)] == codes and len(codes) == 3
