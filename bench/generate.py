"""A province's data for benchmarks and demos: the demo county, then many more halls, ratings and problems.

    python bench/generate.py [evaluations] [tickets]    # into DATABASE_URL (default: a new SQLite file)

Rows go in by the batch (executemany on SQLite, execute_values on PostgreSQL): peewee's
insert_many builds its SQL per batch, which would make a million ratings take minutes. The
rating tallies are then counted once by `tallies.rebuild()`, the same code `flask tallies
rebuild` runs, so the generated database is what a province would hold after years of use.
"""
import datetime
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime.datetime(2026, 11, 20, 16, 0)
MONTHS = 24  # ratings spread over the two years before NOW
HALLS, WINDOWS_PER_HALL, STAFF_PER_WINDOW = 120, 8, 3
LEVEL_WEIGHTS = (("very_satisfied", 6), ("satisfied", 74), ("basically_satisfied", 3), ("average", 9),
                 ("dissatisfied", 7), ("very_dissatisfied", 1))
CHANNEL_WEIGHTS = (("kiosk", 40), ("qr", 35), ("web", 10), ("hotline", 5), ("pad", 10))


def bulk(table, columns, rows):
    """INSERT many rows at once through the driver, in the caller's transaction."""
    from peewee import PostgresqlDatabase
    from models import db
    names = ", ".join(f'"{c}"' for c in columns)
    if isinstance(db.obj, PostgresqlDatabase):
        from psycopg2.extras import execute_values
        execute_values(db.cursor(), f'INSERT INTO "{table}" ({names}) VALUES %s', rows, page_size=2000)
    else:
        db.cursor().executemany(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})', rows)


def _stamp(value):
    """Datetimes as peewee writes them to SQLite; PostgreSQL takes them as they are."""
    from peewee import PostgresqlDatabase
    from models import db
    if value is None or isinstance(db.obj, PostgresqlDatabase):
        return value
    return str(value)


def _next_id(model):
    from peewee import fn
    return (model.select(fn.MAX(model.id)).scalar() or 0) + 1


def _fix_sequences(tables):
    from peewee import PostgresqlDatabase
    from models import db
    if isinstance(db.obj, PostgresqlDatabase):
        for table in tables:
            db.execute_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")


def organisation(rng):
    """HALLS service halls, each with its windows and officers; returns [(unit, window, [staff])]."""
    from models import Staff, Unit, Window, db, new_token
    places = []
    with db.atomic():
        for h in range(HALLS):
            unit = Unit.create(code=f"P{h:03d}", name=f"第{h + 1}政务服务中心", kind="hall")
            for w in range(WINDOWS_PER_HALL):
                window = Window.create(unit=unit, number=f"P{h:03d}-{w:02d}", name=f"综合受理{w + 1}号窗口",
                                       token=new_token())
                staff = [Staff.create(unit=unit, window=window, number=f"P{h:03d}{w:02d}{s}",
                                      name=rng.choice("王李张刘陈杨赵黄周吴") + rng.choice("伟芳娜敏静丽强磊军洋"),
                                      token=new_token()).id
                         for s in range(STAFF_PER_WINDOW)]
                places.append((unit.id, window.id, staff))
    return places


def evaluations(rng, places, total):
    """`total` ratings over MONTHS months; one reason on every 差评; returns the 差评 [(id, unit, window, staff, at)]."""
    from models import Evaluation, Reason, db
    from app import scales
    reasons = {level: [r.id for r in Reason.select() if level in r.level_set] for level, _w in LEVEL_WEIGHTS}
    levels, level_w = zip(*LEVEL_WEIGHTS)
    channels, channel_w = zip(*CHANNEL_WEIGHTS)
    span = MONTHS * 30 * 24 * 3600
    first_id = _next_id(Evaluation)
    columns = ("id", "unit_id", "window_id", "staff_id", "level", "comment", "channel", "created_at",
               "excluded", "submission_key")
    bad = []
    with db.atomic():
        for start in range(0, total, 20000):
            n = min(20000, total - start)
            rows, links = [], []
            chosen_levels = rng.choices(levels, level_w, k=n)
            chosen_channels = rng.choices(channels, channel_w, k=n)
            for i in range(n):
                ident = first_id + start + i
                unit_id, window_id, staff = places[rng.randrange(len(places))]
                staff_id = rng.choice(staff) if rng.random() < 0.8 else None
                at = (NOW - datetime.timedelta(seconds=rng.randrange(span))).replace(microsecond=0)
                level = chosen_levels[i]
                tagged = level in scales.BAD_LEVELS or (level in ("average",) and rng.random() < 0.3)
                excluded = level in scales.BAD_LEVELS and rng.random() < 0.01  # an upheld appeal
                rows.append((ident, unit_id, window_id, staff_id, level, "", chosen_channels[i], _stamp(at),
                             excluded, f"{ident:032x}"))
                if tagged and reasons[level]:
                    links.append((ident, rng.choice(reasons[level])))
                if level in scales.BAD_LEVELS and not excluded:
                    bad.append((ident, unit_id, window_id, staff_id, at))
            bulk("evaluation", columns, rows)
            bulk("evaluation_reason", ("evaluation_id", "reason_id"), links)
    _fix_sequences(["evaluation"])
    return bad


def tickets(rng, places, bad, total):
    """`total` problems: one for each 差评 (newest first) up to the total, the rest from messages."""
    from app.procedures import active_versions
    from models import Ticket, db, new_query_code
    first_id = _next_id(Ticket)
    versions = active_versions()  # the procedures as stored: the tickets open on their current version
    columns = ("id", "code", "title", "content", "source", "unit_id", "window_id", "staff_id", "handling_unit_id",
               "evaluation_id", "query_code", "workflow", "workflow_version", "stage", "status", "deadline",
               "result", "closing_kind", "created_at", "closed_at", "revision", "stage_entered_at", "due_at",
               "alert_level", "supervised", "grade", "transfers", "deadline_estimated", "classification", "bad_rating",
               "reply")
    from_ratings = sorted(bad, key=lambda b: b[4], reverse=True)[:total]
    span = MONTHS * 30 * 24 * 3600
    with db.atomic():
        rows = []
        for i in range(total):
            ident = first_id + i
            if i < len(from_ratings):
                evaluation_id, unit_id, window_id, staff_id, at = from_ratings[i]
                source, workflow, stage = "kiosk", "evaluation", "rectify"
            else:
                unit_id, window_id, staff = places[rng.randrange(len(places))]
                evaluation_id, staff_id, source, workflow, stage = None, None, "web", "problem", "rectify"
                at = (NOW - datetime.timedelta(seconds=rng.randrange(span))).replace(microsecond=0)
            due = at + datetime.timedelta(days=10)
            closed = due < NOW and rng.random() < 0.9 or rng.random() < 0.5
            late = rng.random() < 0.15
            kind = rng.choices(("solved", "explained"), (8, 2))[0] if closed else None
            closed_at = at + datetime.timedelta(days=rng.randrange(1, 15 if late else 10)) if closed else None
            if closed_at and closed_at > NOW:
                closed_at = NOW
            rows.append((ident, f"ZTC-G-{ident:07d}", "窗口办事拖拉", "材料齐全仍被要求补材料。", source, unit_id, window_id,
                         staff_id, unit_id, evaluation_id, new_query_code(), workflow, versions[workflow],
                         "closed" if closed else stage, "closed" if closed else "open", due.date(),
                         "已整改并反馈。" if closed else "", kind, _stamp(at), _stamp(closed_at), 1, _stamp(at),
                         None if closed else _stamp(due), 2 if late else 0, late,
                         rng.choice(("satisfied", "basically_satisfied", "dissatisfied")) if closed and rng.random() < 0.6
                         else None, 0, False, "", evaluation_id is not None,
                         "经核实，已整改。" if closed else ""))  # the public reply (答复群众, v22)
            if len(rows) == 5000:
                bulk("ticket", columns, rows)
                rows = []
        bulk("ticket", columns, rows)
    _fix_sequences(["ticket"])


def generate(n_evaluations=1_000_000, n_tickets=100_000, seed=7, out=print):
    """Fill the bound database (schema and demo county already there); returns the seconds taken."""
    from peewee import PostgresqlDatabase

    from app import tallies
    from models import db
    started = time.perf_counter()
    rng = random.Random(seed)
    places = organisation(rng)
    out(f"  {len(places)} windows in {HALLS} halls")
    bad = evaluations(rng, places, n_evaluations)
    out(f"  {n_evaluations} evaluations ({time.perf_counter() - started:.0f} s)")
    tickets(rng, places, bad, n_tickets)
    out(f"  {n_tickets} tickets ({time.perf_counter() - started:.0f} s)")
    rows = tallies.rebuild()
    out(f"  {rows} tally rows ({time.perf_counter() - started:.0f} s)")
    if isinstance(db.obj, PostgresqlDatabase):
        # What autovacuum does soon after a bulk load: without the visibility map it writes,
        # PostgreSQL reads every row behind an index instead of the index alone.
        connection = db.connection()
        connection.commit()
        connection.autocommit = True
        try:
            db.execute_sql("VACUUM ANALYZE")
        finally:
            connection.autocommit = False
    else:
        db.execute_sql("ANALYZE")
    return time.perf_counter() - started


def prepare(url, n_evaluations, n_tickets, out=print):
    """A fresh database at `url` (its tables dropped first), the demo county and the generated province."""
    from app import create_app, migrations, workdays
    from models import ALL_MODELS, db
    from seed.loader import load
    folder = tempfile.mkdtemp()
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder})
    with app.app_context(), db.connection_context():
        if url.startswith("postgres"):
            db.drop_tables(ALL_MODELS, cascade=True)
            migrations.upgrade()
        workdays.invalidate()
        load(demo=True)
        generate(n_evaluations, n_tickets, out=out)
    db.obj.close_all()
    return app


def main():
    n_evaluations = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_tickets = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/province.sqlite3"
    print(f"generating into {url}")
    prepare(url, n_evaluations, n_tickets)
    print("done")


if __name__ == "__main__":
    main()
