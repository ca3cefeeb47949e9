"""The commission's screens at a province's scale: 1,000,000 ratings and 100,000 problems.

Prints, each against a baseline measured in the same run on the same database:
- the dashboard (admin home, last 12 months, whole province), end to end through the app, against
  the plain unindexed GROUP BY over the raw evaluations that gives the same rating figures; the
  figures of both are compared and must be identical (target: at most 5% of its time);
- the evaluations list: page 5,000 and the last page against page 1, page 1 against the same page
  without a count (targets 1.2x, 2x, 1.5x);
- rating submissions through the real server while the dashboard runs in a loop in another
  process, p99 against the idle p99 (target at most 2x).

    python bench/dashboard.py [evaluations] [tickets]            # SQLite in a temporary folder
    python bench/dashboard.py --pg [evaluations] [tickets]       # PostgreSQL, database zhitongche_bench
    python bench/dashboard.py --reuse URL                        # a database generated before
"""
import datetime
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

START = datetime.date(2025, 12, 1)  # "last 12 months" on the generated province's last day
QUERY = "/admin/?start=2025-12-01"
PG_URL = "postgresql://postgres@127.0.0.1:5432/zhitongche_bench"


def timed(func, repeat=5):
    """Median seconds of `repeat` calls (after one warm-up) and the last result."""
    result = func()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


# --- the baseline: one plain GROUP BY over the raw evaluations -------------------------------------

def baseline_rows():
    """(day, unit, window, staff, channel, level, n) of the period, no index and no tally used.

    By day, not by month: the dashboard's weekly trend is among the figures it must give.
    """
    from peewee import PostgresqlDatabase
    from models import db
    since = datetime.datetime.combine(START, datetime.time())
    if isinstance(db.obj, PostgresqlDatabase):
        with db.atomic():
            for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
                db.execute_sql(f"SET LOCAL {setting} = off")
            # PostgreSQL's own default, which the app turns off for its small queries: a plain
            # GROUP BY over a million rows gets its parallel workers.
            db.execute_sql("SET LOCAL max_parallel_workers_per_gather = 2")
            return db.execute_sql(
                "SELECT to_char(created_at, 'YYYY-MM-DD'), unit_id, window_id, staff_id, channel, level, COUNT(*) "
                "FROM evaluation WHERE NOT excluded AND created_at >= %s GROUP BY 1, 2, 3, 4, 5, 6",
                (since,)).fetchall()
    return db.execute_sql(
        "SELECT substr(created_at, 1, 10), unit_id, window_id, staff_id, channel, level, COUNT(*) "
        "FROM evaluation NOT INDEXED WHERE NOT excluded AND created_at >= ? GROUP BY 1, 2, 3, 4, 5, 6",
        (str(since),)).fetchall()


def baseline_figures(rows):
    """The dashboard's rating figures derived from the GROUP BY's rows."""
    from app import scales
    out = {"total": defaultdict(int), "unit": defaultdict(lambda: defaultdict(int)),
           "window": defaultdict(lambda: defaultdict(int)), "staff": defaultdict(lambda: defaultdict(int)),
           "channel": defaultdict(int), "month": defaultdict(lambda: defaultdict(int)),
           "week": defaultdict(lambda: defaultdict(int))}
    last = max(datetime.date.fromisoformat(row[0]) for row in rows)
    first_week = last - datetime.timedelta(days=last.weekday() + 7 * 11)  # the twelve weeks up to the last rating
    for day, unit, window, staff, channel, level, n in rows:
        grade = scales.GRADE_OF[level]
        month = day[:7]
        day = datetime.date.fromisoformat(day)
        if day >= first_week:
            year, week, _weekday = day.isocalendar()
            out["week"][f"{year}-W{week:02d}"][grade] += n
        out["total"][grade] += n
        out["unit"][unit][grade] += n
        if window:
            out["window"][window][grade] += n
        if staff:
            out["staff"][staff][grade] += n
        out["channel"][channel] += n
        out["month"][month][grade] += n
    return out


def dashboard_figures():
    """The same figures as the dashboard computes them (the functions its page calls)."""
    from app import dashboard, figures
    grades = figures.grades(START, None)
    out = {"total": {g: n for g, n in grades.items() if n}}
    for by in ("unit", "window", "staff"):
        ranking = dashboard.rankings(START, None, None, by)
        out[by] = {r["id"]: (r["total"], r["good"], r["bad"]) for r in ranking["ranked"] + ranking["too_few"]}
    out["channel"] = {key: n for key, _label, n in dashboard.channels(START, None)}
    out["month"] = {month: (total, good, bad) for month, total, good, bad, _rate in dashboard.monthly_trend(START, None)}
    out["week"] = {week: (total, good, bad) for week, total, good, bad, _rate in dashboard.weekly_trend(START, None)}
    return out


def compare(base, shown):
    from app import scales
    G, B = scales.GOOD, scales.BAD
    expected = {"total": {g: n for g, n in base["total"].items() if n}}
    for by in ("unit", "window", "staff"):
        expected[by] = {key: (sum(c.values()), c[G], c[B]) for key, c in base[by].items() if sum(c.values())}
    expected["channel"] = {key: n for key, n in base["channel"].items() if n}
    expected["month"] = {m: (sum(c.values()), c[G], c[B]) for m, c in base["month"].items()}
    expected["week"] = {w: (sum(c.values()), c[G], c[B]) for w, c in base["week"].items()}
    differ = [name for name in expected if expected[name] != shown[name]]
    return differ


# --- the app, as an officer uses it -----------------------------------------------------------------

def logged_in(app, username="office", password=None):
    from seed.loader import DEMO_PASSWORD
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": password or DEMO_PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def list_pages(app, client, rounds=15):
    """Median seconds for page 1, page 5,000, the last page, and page 1 without a count.

    The four are fetched in turn, round after round, so that the machine's other load falls on
    each alike.
    """
    first = get(client, "/admin/evaluation/")
    last_page = max(int(p) for p in re.findall(r"[?&]page=(\d+)", first))
    view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", "") == "evaluation")

    def uncounted():
        view.simple_list_pager = True  # Flask-Admin's own switch: no count query at all
        try:
            return get(client, "/admin/evaluation/")
        finally:
            view.simple_list_pager = False

    pages = {"page 1": lambda: get(client, "/admin/evaluation/"),
             "page 5000": lambda: get(client, "/admin/evaluation/?page=4999"),
             f"last page ({last_page + 1})": lambda: get(client, f"/admin/evaluation/?page={last_page}"),
             "page 1, no count": uncounted}
    times = {name: [] for name in pages}
    for _ in range(rounds):
        for name, fetch in pages.items():
            started = time.perf_counter()
            fetch()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) for name, t in times.items()}


# --- ratings while the dashboard runs --------------------------------------------------------------

def rating_latencies(port, tokens, count, threads=4):
    latencies, lock = [], threading.Lock()

    def worker(seed):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for i in range(count // threads):
            body = json.dumps({"token": tokens[(seed * 7919 + i) % len(tokens)], "level": "satisfied",
                               "channel": "qr", "submission_key": os.urandom(16).hex()})
            started = time.perf_counter()
            conn.request("POST", "/api/v1/evaluations", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            assert response.status == 201, response.status
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    latencies.sort()
    return latencies[int(len(latencies) * 0.99) - 1]


def dashboard_loop(url, folder):
    """Child process: render the dashboard again and again until killed."""
    from app import create_app
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder})
    client = logged_in(app)
    print("ready", flush=True)
    n = 0
    while True:
        get(client, QUERY)
        n += 1
        if n % 5 == 0:
            print(n, flush=True)


def ratings_under_load(url, folder, count=1200):
    from ratings import free_port, wait
    port = free_port()
    env = dict(os.environ, INSTANCE_PATH=folder, DATABASE_URL=url, RATING_RATE_LIMIT="100000000 per minute")
    log = open(Path(folder) / "server.log", "w")
    server = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--port", str(port), "--no-demo"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    loop = None
    try:
        wait(port)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/api/v1/windows")
        tokens = [w["token"] for w in json.loads(conn.getresponse().read())]
        conn.close()
        rating_latencies(port, tokens, 200)  # warm
        idle = statistics.median(rating_latencies(port, tokens, count) for _ in range(3))
        loop = subprocess.Popen([sys.executable, __file__, "--loop", url, folder], stdout=subprocess.PIPE, text=True)
        assert loop.stdout.readline().strip() == "ready"
        loaded = statistics.median(rating_latencies(port, tokens, count) for _ in range(3))
        loop.terminate()
        rounds = loop.stdout.read().split()
        dashboards = int(rounds[-1]) if rounds else 0
    finally:
        if loop is not None and loop.poll() is None:
            loop.kill()
        server.terminate()
        server.wait(timeout=10)
        log.close()
    return idle, loaded, dashboards


def pg_database():
    import psycopg2
    conn = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = 'zhitongche_bench'")
        if cur.fetchone() is None:
            cur.execute("CREATE DATABASE zhitongche_bench")
    conn.close()
    return PG_URL


def main():
    args = sys.argv[1:]
    if args[:1] == ["--loop"]:
        dashboard_loop(args[1], args[2])
        return
    folder = tempfile.mkdtemp()
    if args[:1] == ["--reuse"]:
        url = args[1]
    else:
        pg = args[:1] == ["--pg"]
        args = args[1:] if pg else args
        n_evaluations = int(args[0]) if args else 1_000_000
        n_tickets = int(args[1]) if len(args) > 1 else 100_000
        url = pg_database() if pg else f"sqlite:///{folder}/province.sqlite3"
        from generate import prepare
        print(f"generating {n_evaluations} evaluations and {n_tickets} tickets into {url}")
        started = time.perf_counter()
        prepare(url, n_evaluations, n_tickets, out=lambda line: print(line, flush=True))
        print(f"  generated in {time.perf_counter() - started:.0f} s")

    from app import create_app
    from models import Evaluation, Ticket, db
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder})
    with app.app_context(), db.connection_context():
        print(f"database: {url.split(':')[0]}, {Evaluation.select().count()} evaluations, "
              f"{Ticket.select().count()} tickets")
        client = logged_in(app)
        base_seconds, rows = timed(baseline_rows, repeat=3)
        page_seconds, page = timed(lambda: get(client, QUERY), repeat=9)
        with app.test_request_context():
            differ = compare(baseline_figures(rows), dashboard_figures())
        total = sum(n for *_key, n in rows)
        shown = f"{total:,}" in page or str(total) in page
        print(f"dashboard, last 12 months: {page_seconds * 1000:8.1f} ms   plain GROUP BY over {total} ratings: "
              f"{base_seconds * 1000:8.1f} ms")
        print(f"  ratio {page_seconds / base_seconds:6.3f} (target <= 0.05); figures identical: "
              f"{'yes' if not differ else 'NO: ' + ', '.join(differ)}; total on the page: {'yes' if shown else 'NO'}")
        pages = list_pages(app, client)
        print("evaluations list, " + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in pages.items()))
        last_key = next(k for k in pages if k.startswith("last page"))
        print(f"  page 5000 / page 1 {pages['page 5000'] / pages['page 1']:5.2f} (target <= 1.2), "
              f"last / page 1 {pages[last_key] / pages['page 1']:5.2f} (target <= 2), "
              f"page 1 / no count {pages['page 1'] / pages['page 1, no count']:5.2f} (target <= 1.5)")
    db.obj.close_all()
    idle, loaded, dashboards = ratings_under_load(url, folder)
    print(f"ratings: p99 idle {idle * 1000:.1f} ms, p99 while the dashboard ran {dashboards} times "
          f"{loaded * 1000:.1f} ms; ratio {loaded / idle:5.2f} (target <= 2)")


if __name__ == "__main__":
    main()
