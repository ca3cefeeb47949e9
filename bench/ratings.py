"""Rating submissions per second through the real server, against a bare one-row insert.

All run under waitress (what run.py serves with), on the same SQLite database file with the same
durability settings (WAL, synchronous=FULL, busy timeout, IMMEDIATE writes, pooled connections),
in the same run, driven by the same client threads, in alternating rounds so that the machine's
other load falls on each alike.

- full: POST /api/v1/evaluations through run.py: the rate limit, validation, the duplicate guard,
  the auto_open rule (one in ten ratings is 不满意 and opens its ticket), all in one transaction.
- bare: a bare Flask + peewee endpoint inserting one row with peewee's own PooledSqliteDatabase
  (the baseline of the target: >= 0.70 of its throughput, p99 at most 2x its p99).
- bare + writer queue: the same, on app.db's database class, whose threads queue for the write
  lock in the process instead of in SQLite's sleeping busy handler. Printed as a stricter
  reference: the queue is the app's own engineering, which a bare endpoint does not have.

    python bench/ratings.py [requests_per_thread] [threads]
"""
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bare_server(port, path, queued):
    """A bare Flask + peewee endpoint inserting one row, same database settings, same server."""
    sys.path.insert(0, str(ROOT))
    from flask import Flask, request
    from peewee import CharField, DateTimeField, Model
    from playhouse.pool import PooledSqliteDatabase
    from waitress import serve

    from app.db import SQLITE_PRAGMAS, make_database
    if queued:
        db = make_database(f"sqlite:///{path}")
    else:  # the settings make_database uses, on peewee's plain class
        db = PooledSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", max_connections=16,
                                  stale_timeout=3600, timeout=30, check_same_thread=False)

    class Row(Model):
        level = CharField()
        at = DateTimeField()

        class Meta:
            database = db
            table_name = "bare_queued" if queued else "bare"

    with db.connection_context():
        db.create_tables([Row])
    app = Flask("bare")

    @app.post("/insert")
    def insert():
        import datetime
        with db.connection_context(), db.atomic():
            Row.create(level=request.get_json()["level"], at=datetime.datetime.now())
        return {"ok": True}, 201

    serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)


def wait(port):
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


def drive(port, path, make_body, per_thread, threads):
    """(requests, seconds, latencies) of `threads` clients each sending `per_thread` requests."""
    latencies, lock, failures = [], threading.Lock(), []

    def worker(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(per_thread):
            body = json.dumps(make_body(rng))
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 201:
                failures.append(response.status)
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed: {sorted(set(failures))}")
    return len(latencies), elapsed, latencies


def rounds(sides, per_thread, threads, count=6):
    """Alternate the sides round by round; {name: (req/s, p99, p50)} over all rounds."""
    totals = {name: [0, 0.0, []] for name in sides}
    for i in range(count):
        order = list(sides.items())
        order = order[i % len(order):] + order[:i % len(order)]  # each side goes first in turn
        for name, (port, path, make_body) in order:
            n, seconds, latencies = drive(port, path, make_body, per_thread // count, threads)
            totals[name][0] += n
            totals[name][1] += seconds
            totals[name][2].extend(latencies)
    out = {}
    for name, (n, seconds, latencies) in totals.items():
        latencies.sort()
        out[name] = (n / seconds, latencies[int(len(latencies) * 0.99) - 1], statistics.median(latencies))
    return out


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        bare_server(int(sys.argv[2]), sys.argv[3], sys.argv[4] == "queued")
        return
    per_thread = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    folder = Path(tempfile.mkdtemp())
    database = folder / "full.sqlite3"
    ports = {"full": free_port(), "bare": free_port(), "bare + writer queue": free_port()}
    env = dict(os.environ, INSTANCE_PATH=str(folder), DATABASE_URL=f"sqlite:///{database}",
               RATING_RATE_LIMIT="100000000 per minute")
    log = open(folder / "server.log", "w")
    servers = [subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--port", str(ports["full"])],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)]
    wait(ports["full"])  # the full server has created the database the bare ones write beside it
    for name, mode in (("bare", "plain"), ("bare + writer queue", "queued")):
        servers.append(subprocess.Popen([sys.executable, __file__, "--bare", str(ports[name]), str(database), mode],
                                        stdout=log, stderr=subprocess.STDOUT))
    try:
        for port in ports.values():
            wait(port)
        conn = http.client.HTTPConnection("127.0.0.1", ports["full"])
        conn.request("GET", "/api/v1/windows")
        tokens = [w["token"] for w in json.loads(conn.getresponse().read())]
        conn.request("GET", "/api/v1/reasons")
        reasons = [r["id"] for r in json.loads(conn.getresponse().read()) if "dissatisfied" in r["levels"]]
        conn.close()

        def rating(rng):
            bad = rng.random() < 0.1
            return {"token": rng.choice(tokens), "level": "dissatisfied" if bad else "satisfied",
                    "reasons": [rng.choice(reasons)] if bad else [], "channel": "qr",
                    "submission_key": os.urandom(16).hex()}  # never reused across runs

        def row(rng):
            return {"level": "satisfied"}

        sides = {"full": (ports["full"], "/api/v1/evaluations", rating),
                 "bare": (ports["bare"], "/insert", row),
                 "bare + writer queue": (ports["bare + writer queue"], "/insert", row)}
        for port, path, make_body in sides.values():
            drive(port, path, make_body, 30, 2)  # warm each
        measured = rounds(sides, per_thread, threads)
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=10)
        log.close()
    print(f"{threads} client threads x {per_thread} requests in 6 alternating rounds, SQLite WAL "
          "synchronous=FULL, waitress")
    for name, (rate, p99, median) in measured.items():
        print(f"{name + ':':<21}{rate:8.1f} req/s   p50 {median * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms")
    full_rate, full_p99, _ = measured["full"]
    for name in ("bare", "bare + writer queue"):
        rate, p99, _ = measured[name]
        target = "target" if name == "bare" else "reference"
        print(f"against {name}: throughput ratio {full_rate / rate:5.2f} ({target} >= 0.70), "
              f"p99 ratio {full_p99 / p99:5.2f} ({target} <= 2.00)")


if __name__ == "__main__":
    main()
