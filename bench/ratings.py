"""Rating submissions per second through the real server, against a bare one-row insert.

Both run under waitress (what run.py serves with), on SQLite with the same durability settings
(WAL, synchronous=FULL, pooled connections), in the same run, driven by the same client threads.
The full submission is POST /api/v1/evaluations: validation, the duplicate guard, the auto_open
rule (one in ten ratings is 不满意 and opens a ticket), all in one transaction. Prints both
throughputs, both p99 latencies and the ratios (targets: >= 0.70 of the bare throughput, p99 at
most 2x the bare p99).

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


def bare_server(port, path):
    """A bare Flask + peewee endpoint inserting one row, same database settings, same server."""
    sys.path.insert(0, str(ROOT))
    from flask import Flask, request
    from peewee import CharField, DateTimeField, Model
    from waitress import serve

    from app.db import make_database
    db = make_database(f"sqlite:///{path}")

    class Row(Model):
        level = CharField()
        at = DateTimeField()

        class Meta:
            database = db

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
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1], statistics.median(latencies)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        bare_server(int(sys.argv[2]), sys.argv[3])
        return
    per_thread = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    folder = Path(tempfile.mkdtemp())
    full_port, bare_port = free_port(), free_port()
    env = dict(os.environ, INSTANCE_PATH=str(folder), DATABASE_URL=f"sqlite:///{folder}/full.sqlite3",
               RATING_RATE_LIMIT="100000000 per minute")
    log = open(folder / "server.log", "w")
    full = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--port", str(full_port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    bare = subprocess.Popen([sys.executable, __file__, "--bare", str(bare_port), str(folder / "bare.sqlite3")],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait(full_port)
        wait(bare_port)
        sys.path.insert(0, str(ROOT))
        conn = http.client.HTTPConnection("127.0.0.1", full_port)
        conn.request("GET", "/api/v1/windows")
        tokens = [w["token"] for w in json.loads(conn.getresponse().read())]
        conn.request("GET", "/api/v1/reasons")
        reasons = [r["id"] for r in json.loads(conn.getresponse().read())]
        conn.close()

        def rating(rng):
            bad = rng.random() < 0.1
            return {"token": rng.choice(tokens), "level": "dissatisfied" if bad else "satisfied",
                    "reasons": [rng.choice(reasons)] if bad else [], "channel": "qr",
                    "submission_key": os.urandom(16).hex()}  # never reused across runs

        drive(full_port, "/api/v1/evaluations", rating, 30, 2)  # warm both
        drive(bare_port, "/insert", lambda rng: {"level": "satisfied"}, 30, 2)
        bare_rate, bare_p99, bare_median = drive(bare_port, "/insert", lambda rng: {"level": "satisfied"},
                                                 per_thread, threads)
        full_rate, full_p99, full_median = drive(full_port, "/api/v1/evaluations", rating, per_thread, threads)
    finally:
        for process in (full, bare):
            process.terminate()
            process.wait(timeout=10)
        log.close()
    print(f"{threads} client threads x {per_thread} requests, SQLite WAL synchronous=FULL, waitress")
    print(f"bare one-row insert:   {bare_rate:8.1f} req/s   p50 {bare_median * 1000:6.1f} ms   p99 {bare_p99 * 1000:6.1f} ms")
    print(f"full rating submission:{full_rate:8.1f} req/s   p50 {full_median * 1000:6.1f} ms   p99 {full_p99 * 1000:6.1f} ms")
    print(f"throughput ratio (target >= 0.70): {full_rate / bare_rate:6.2f}")
    print(f"p99 ratio        (target <= 2.00): {full_p99 / bare_p99:6.2f}")


if __name__ == "__main__":
    main()
