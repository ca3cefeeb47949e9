"""The problems ledger (台账) export: peak memory with 100,000 problems against 1,000.

Each export runs in a fresh process (so that its peak resident memory is its own), on a
database filled with generated problems — each with a reporter, a leader's instruction and, for
one in twenty, an accountability record — and writes the XLSX to a file; the month's report
(.docx) is written from the big database too. Prints the peaks, the times and the memory ratios
against the small export (target <= 1.5: streamed, not built in memory).

    python bench/ledger.py             # SQLite in a temporary folder
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python bench/ledger.py
"""
import datetime
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime.datetime(2026, 11, 1, 9, 0)


def fill(total, seed=5):
    from models import Accountability, Contact, Ticket, TicketEvent, Unit, User, db
    rng = random.Random(seed)
    units = [u for (u,) in Unit.select(Unit.id).where(Unit.kind.in_(("hall", "law_enforcement"))).tuples()]
    office = User.get(User.username == "office")
    from app.procedures import active_versions
    version = active_versions()["problem"]
    with db.atomic():
        for start in range(0, total, 1000):
            n = min(1000, total - start)
            contacts = [{"name": "王建国", "phone": "13812345678"} for _ in range(n)]
            Contact.insert_many(contacts).execute()
            first_contact = Contact.select(Contact.id).order_by(Contact.id.desc()).limit(1).scalar() - n + 1
            rows = []
            for i in range(n):
                created = NOW - datetime.timedelta(days=rng.randrange(1, 700), minutes=rng.randrange(600))
                closed = rng.random() < 0.8
                rows.append({"code": f"L-{start + i:07d}", "title": "窗口办事拖拉", "content": "材料齐全仍被要求跑三趟，" * 4,
                             "source": rng.choice(("web", "kiosk", "qr", "hotline")), "workflow": "problem",
                             "workflow_version": version, "created_at": created, "stage_entered_at": created,
                             "unit": rng.choice(units), "handling_unit": rng.choice(units),
                             "contact": first_contact + i, "status": "closed" if closed else "open",
                             "stage": "closed" if closed else "rectify", "closing_kind": "solved" if closed else None,
                             "closed_at": created + datetime.timedelta(days=rng.randrange(2, 30)) if closed else None,
                             "result": "已整改并向群众反馈。" * 3 if closed else "", "query_code": f"Q{start + i:011d}"})
            Ticket.insert_many(rows).execute()
        ids = [t for (t,) in Ticket.select(Ticket.id).tuples()]
        for start in range(0, len(ids), 1000):
            chunk = ids[start:start + 1000]
            TicketEvent.insert_many([{"ticket": t, "role": "leader", "action": "dispatch", "title": "批办",
                                      "comment": "请监督检查室核实，限期整改", "created_at": NOW} for t in chunk]).execute()
            Accountability.insert_many([{"ticket": t, "unit": units[0], "kind": "criticism",
                                         "decided_on": NOW.date(), "document_number": f"海纪〔2026〕{t}号",
                                         "decider": "县纪委监委", "created_by": office.id}
                                        for t in chunk if t % 20 == 0]).execute()
    db.execute_sql("ANALYZE")


def export(url, folder):
    """Child process: write the whole ledger; print rows, seconds and peak memory (KB)."""
    from app import create_app, ledger
    from models import db
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder})
    with app.app_context(), db.connection_context():
        started = time.perf_counter()
        count = ledger.write_xlsx(os.path.join(folder, "ledger.xlsx"), ledger.Filters(), at=NOW)
        seconds = time.perf_counter() - started
    print(count, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def report(url, folder):
    """Child process: the month's report as .docx; print seconds and peak memory (KB)."""
    from app import create_app
    from app import report as monthly_report
    from models import db
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder})
    with app.app_context(), db.connection_context():
        started = time.perf_counter()
        figures = monthly_report.monthly(NOW.year, NOW.month - 1)
        with open(os.path.join(folder, "report.docx"), "wb") as target:
            monthly_report.write_docx(figures, target)
        seconds = time.perf_counter() - started
    print(0, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def prepare(total):
    """A database with the demo county and `total` problems; returns its URL."""
    from app import create_app
    from models import ALL_MODELS, db
    from seed.loader import load
    folder = tempfile.mkdtemp()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/ledger.sqlite3"
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder})
    with app.app_context(), db.connection_context():
        if url.startswith("postgres"):
            db.drop_tables(ALL_MODELS, cascade=True)
            from app import migrations
            migrations.upgrade()
        load(demo=True)  # the county's units and officers, and its own 40 problems
        fill(total)
    db.obj.close_all()
    return url, folder


def child(mode, url, folder):
    out = subprocess.run([sys.executable, __file__, mode, url, folder], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), float(out[1]), int(out[2]) / 1024


def measure(total, with_report=False):
    url, folder = prepare(total)
    exported = child("--export", url, folder)
    return exported, child("--report", url, folder) if with_report else None


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("--export", "--report"):
        (export if sys.argv[1] == "--export" else report)(sys.argv[2], sys.argv[3])
        return
    (small_rows, small_seconds, small_mb), _ = measure(1_000)
    (big_rows, big_seconds, big_mb), (_, report_seconds, report_mb) = measure(100_000, with_report=True)
    print(f"ledger export and monthly report, {'PostgreSQL' if os.environ.get('DATABASE_URL') else 'SQLite'}")
    print(f"{small_rows:>7} problems: {small_seconds:6.1f} s   peak {small_mb:6.1f} MB")
    print(f"{big_rows:>7} problems: {big_seconds:6.1f} s   peak {big_mb:6.1f} MB")
    print(f"monthly report on {big_rows} problems: {report_seconds:6.1f} s   peak {report_mb:6.1f} MB")
    print(f"peak memory ratio against the 1,000-row export (target <= 1.50): ledger {big_mb / small_mb:5.2f}, "
          f"report {report_mb / small_mb:5.2f}")


if __name__ == "__main__":
    main()
