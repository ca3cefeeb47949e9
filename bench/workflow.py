"""Workflow engine benchmarks; each figure is a ratio measured within one run.

1. The deadline sweep with 100 tickets due among 100,000 open ones, against the same 100 due
   among 1,000 open (target <= 1.5x: the sweep costs what is due, not what is open).
2. A unit handler's 我的待办 page (through the app, rendered) with 100,000 tickets in the
   database against 1,000; the handler's own to-do is the same 60 tickets in both
   (target <= 1.5x: the page costs what the officer has to do, not the size of the county).
3. A 15-working-day due date from the app's calendar against one call of chinesecalendar's
   find_workday doing the same (target <= 10%).
4. Recounting the open tickets' due dates after a calendar change (one day marked as a holiday,
   then back), 100 deadlines moving among 100,000 open tickets against the same 100 among 1,000
   (target <= 1.5x: the recount costs the tickets a change can touch, not the open ones).

    python bench/workflow.py              # SQLite in a temporary folder
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python bench/workflow.py
"""
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import calendar_edits, create_app, tickets, workdays  # noqa: E402
from app.procedures import active_versions  # noqa: E402
from models import ALL_MODELS, Ticket, Unit, User, db  # noqa: E402
from seed.loader import DEMO_PASSWORD, load  # noqa: E402

NOW = datetime.datetime(2026, 6, 15, 10, 0)
OPEN_STAGES = ("accept", "approve", "investigate", "receive", "rectify", "feedback", "revisit")


def fresh_app():
    folder = tempfile.mkdtemp()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite3"
    if url.startswith("postgres"):
        from app.db import bind
        bind(url, 4)
        with db.connection_context():
            db.drop_tables(ALL_MODELS, cascade=True, safe=True)
    app = create_app({"INSTANCE_PATH": folder, "DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
    with db.connection_context():
        load(demo=True)
    return app


def fill(total, due=100, handler_todo=60, open_share=1.0, seed=1):
    """`total` tickets: `due` with an alert already due, `handler_todo` waiting for handler1's
    unit, the rest spread over other units and stages with alerts in the future."""
    rng = random.Random(seed)
    own = User.get(User.username == "handler1").unit_id
    others = [u for (u,) in Unit.select(Unit.id).where(Unit.id != own).tuples()]
    version = active_versions()["problem"]
    rows = []
    for i in range(total):
        created = NOW - datetime.timedelta(days=rng.randrange(1, 300))
        is_open = i < due or i < due + handler_todo or rng.random() < open_share
        row = {"code": f"B-{i:07d}", "title": "基准工单", "content": "基准", "source": "web",
               "workflow": "problem", "workflow_version": version, "created_at": created,
               "stage_entered_at": created, "handling_unit": rng.choice(others),
               "status": "open" if is_open else "closed",
               "stage": rng.choice(OPEN_STAGES[:4]) if is_open else "closed",  # not the handler's stages
               "due_at": NOW + datetime.timedelta(days=rng.randrange(5, 60)),
               "next_alert_at": NOW + datetime.timedelta(days=rng.randrange(3, 60)) if is_open else None,
               "query_code": f"Q{i:011d}"}
        if i < due:  # the ones the sweep must handle now
            row.update(next_alert_at=NOW - datetime.timedelta(hours=1), due_at=NOW - datetime.timedelta(hours=1))
        elif i < due + handler_todo:  # handler1's to-do
            row.update(handling_unit=own, stage=rng.choice(("receive", "rectify")))
        rows.append(row)
    with db.atomic():
        for start in range(0, len(rows), 1000):
            Ticket.insert_many(rows[start:start + 1000]).execute()
    db.execute_sql("ANALYZE")  # fresh statistics, as a live database has


def time_sweep(total):
    app = fresh_app()
    with app.app_context(), db.connection_context():
        fill(total)
        workdays.current()
        tickets.workflow_of(Ticket(workflow="problem", workflow_version=active_versions()["problem"]))
        started = time.perf_counter()
        counts = tickets.sweep(NOW)
        elapsed = time.perf_counter() - started
        assert counts["yellow"] == 100, counts
    db.obj.close_all()
    return elapsed


def time_todo(total, repeats=15):
    app = fresh_app()
    with app.app_context(), db.connection_context():
        fill(total, due=0)
    client = app.test_client()
    client.post("/login", data={"username": "handler1", "password": DEMO_PASSWORD})
    page = client.get("/admin/todo/").get_data(as_text=True)  # warm
    assert "共 60 件" in page, page[:300]
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        client.get("/admin/todo/")
        samples.append(time.perf_counter() - started)
    db.obj.close_all()
    return statistics.median(samples)


def time_due_dates(repeats=20000):
    import chinese_calendar
    app = fresh_app()
    with app.app_context():
        calendar = workdays.current()
    starts = [datetime.date(2025, 1, 1) + datetime.timedelta(days=i % 500) for i in range(repeats)]
    started = time.perf_counter()
    for day in starts:
        calendar.add_workdays(day, 15)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    for day in starts:
        chinese_calendar.find_workday(15, day)
    library = time.perf_counter() - started
    # The two agree from a working day; from a holiday the library first moves to the next
    # working day and counts from there, while the app counts the days after the holiday.
    for day in starts[:500]:
        if chinese_calendar.is_workday(day):
            assert calendar.add_workdays(day, 15)[0] == chinese_calendar.find_workday(15, day), day
    db.obj.close_all()
    return ours / repeats, library / repeats


CHANGED_DAY = datetime.date(2026, 8, 5)  # a Wednesday, well after most tickets' deadlines


def fill_for_recount(total, moving=100, seed=2):
    """`moving` tickets in 调查跟踪督办 whose 15 working days run over CHANGED_DAY; the rest due weeks before."""
    rng = random.Random(seed)
    units = [u for (u,) in Unit.select(Unit.id).tuples()]
    version = active_versions()["problem"]
    rows = []
    for i in range(total):
        created = NOW - datetime.timedelta(days=rng.randrange(1, 300))
        row = {"code": f"R-{i:07d}", "title": "基准工单", "content": "基准", "source": "web",
               "workflow": "problem", "workflow_version": version, "created_at": created,
               "stage_entered_at": created, "handling_unit": rng.choice(units), "status": "open",
               "stage": rng.choice(OPEN_STAGES), "due_at": NOW + datetime.timedelta(days=rng.randrange(5, 25)),
               "next_alert_at": NOW + datetime.timedelta(days=rng.randrange(3, 20)), "query_code": f"R{i:011d}"}
        if i < moving:  # entered Mon 07-20: 15 working days end Fri 08-07, over the changed day
            row.update(stage="investigate", created_at=datetime.datetime(2026, 7, 15, 9),
                       stage_entered_at=datetime.datetime(2026, 7, 20, 9),
                       due_at=datetime.datetime(2026, 8, 7, 23, 59, 59), next_alert_at=datetime.datetime(2026, 8, 6))
        rows.append(row)
    with db.atomic():
        for start in range(0, len(rows), 1000):
            Ticket.insert_many(rows[start:start + 1000]).execute()
    db.execute_sql("ANALYZE")


def time_recount(total, repeats=6):
    app = fresh_app()
    samples = []
    with app.app_context(), db.connection_context():
        fill_for_recount(total)
        workdays.current()
        for i in range(repeats):  # off, then on again: each time the same 100 deadlines move
            started = time.perf_counter()
            moved = calendar_edits.set_range(CHANGED_DAY, CHANGED_DAY, i % 2 == 1, "基准", at=NOW)
            samples.append(time.perf_counter() - started)
            assert moved == 100, moved
        assert Ticket.select().where(Ticket.due_at == datetime.datetime(2026, 8, 7, 23, 59, 59)).count() == 100
    db.obj.close_all()
    return statistics.median(samples)


def main():
    backend = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    print(f"backend: {backend}")
    small, large = time_sweep(1_000), time_sweep(100_000)
    print(f"sweep, 100 due among 1,000 open:    {small * 1000:8.1f} ms")
    print(f"sweep, 100 due among 100,000 open:  {large * 1000:8.1f} ms")
    print(f"ratio (target <= 1.5):              {large / small:8.2f}x")
    small, large = time_todo(1_000), time_todo(100_000)
    print(f"我的待办, 1,000 tickets:            {small * 1000:8.1f} ms")
    print(f"我的待办, 100,000 tickets:          {large * 1000:8.1f} ms")
    print(f"ratio (target <= 1.5):              {large / small:8.2f}x")
    ours, library = time_due_dates()
    print(f"15 working days, app calendar:      {ours * 1e6:8.2f} µs")
    print(f"15 working days, chinesecalendar:   {library * 1e6:8.2f} µs")
    print(f"ratio (target <= 0.10):             {ours / library:8.3f}")
    small, large = time_recount(1_000), time_recount(100_000)
    print(f"recount, 100 moving among 1,000:    {small * 1000:8.1f} ms")
    print(f"recount, 100 moving among 100,000:  {large * 1000:8.1f} ms")
    print(f"ratio (target <= 1.5):              {large / small:8.2f}x")


if __name__ == "__main__":
    main()
