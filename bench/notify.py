"""The outbox under load: 10,000 queued notices to a local sink, and the ratings while they go out.

1. Throughput: the worker (`outbox.drain`, what `flask deliver` and run.py's thread run: claim,
   send with Apprise, record, one notice at a time on SQLite with the app's durability settings)
   against calling Apprise directly in a loop with the same sink, in the same run, alternating
   rounds. Target: at least 0.8 of the direct loop.
2. Ratings while the worker drains: run.py serves (waitress), its own delivery thread sends 10,000
   notices queued in its database, and client threads post ratings through the API (as
   bench/ratings.py does); their p99 against the p99 of the same load with nothing queued (before
   the notices are queued and after they are all sent, pooled). Target: at most 1.2x. The thread
   lets requests go first (app/outbox.py InFlight), so under this unbroken load it sends a notice
   every few seconds and drains at full speed once the ratings stop.

    python bench/notify.py [--notices 10000] [--threads 4] [--ratings 600]
"""
import argparse
import json
import http.client
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ratings import ROOT, drive, free_port, wait

sys.path.insert(0, str(ROOT))


def queue(count, channel_url, tag):
    """`count` notices for one channel, written in one transaction (the database bound already)."""
    from models import Channel, Delivery, Notification, db, now
    with db.atomic():
        channel = Channel.create(title=f"压测群 {tag}", kind="role", role="office", url=channel_url)
        at = now()
        for start in range(0, count, 500):
            notices = [Notification.create(role="office", kind="new_work", message=f"{tag}-{i:05d}", created_at=at)
                       for i in range(start, min(start + 500, count))]
            Delivery.insert_many([{"notification": n.id, "channel": channel.id, "scheduled_at": at,
                                   "next_attempt_at": at, "created_at": at} for n in notices]).execute()


def pending():
    from models import Delivery
    return Delivery.select().where(Delivery.status == "pending").count()


def throughput(count, sink, rounds=4):
    """(direct messages/s, worker messages/s) over alternating rounds of count/rounds messages each."""
    from app import create_app, outbox
    from models import db
    folder = Path(tempfile.mkdtemp())
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'outbox.sqlite3'}", "INSTANCE_PATH": str(folder)})
    apprise = outbox._apprise()
    direct = apprise.Apprise()
    direct.add(sink.url("/direct"))
    timings = {"direct": 0.0, "worker": 0.0}
    per_round = count // rounds
    with app.app_context(), db.connection_context():
        for number in range(rounds):
            queue(per_round, sink.url("/worker"), f"w{number}")
            order = ["direct", "worker"] if number % 2 == 0 else ["worker", "direct"]
            for side in order:
                started = time.perf_counter()
                if side == "direct":
                    for i in range(per_round):
                        if not direct.notify(body=f"d{number}-{i:05d}", title="直通车"):
                            raise RuntimeError("the sink refused a direct message")
                else:
                    sent = outbox.drain()["sent"]
                    if sent != per_round:
                        raise RuntimeError(f"the worker sent {sent} of {per_round}")
                timings[side] += time.perf_counter() - started
    db.obj.close_all()
    return per_round * rounds / timings["direct"], per_round * rounds / timings["worker"]


def sink_process(port):
    """The sink of phase 2 in a process of its own, off the rating clients' interpreter lock."""
    from tests.sinks import HttpSink
    sink = HttpSink()
    sink.port = port
    from werkzeug.serving import make_server

    from tests.sinks import QuietHandler
    make_server("127.0.0.1", port, sink.app, threaded=True, request_handler=QuietHandler).serve_forever()


def ratings_while_draining(count, threads, per_thread):
    """(idle p99, draining p99, notices still pending when the ratings ended, seconds to drain)."""
    from app.db import bind
    from models import db
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'run.sqlite3'}"
    port = free_port()
    env = dict(os.environ, INSTANCE_PATH=str(folder), DATABASE_URL=url, RATING_RATE_LIMIT="100000000 per minute")
    log = open(folder / "server.log", "w")
    server = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--port", str(port)], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    sink_port = free_port()
    sink = subprocess.Popen([sys.executable, __file__, "--sink", str(sink_port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait(port)
        wait(sink_port)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/api/v1/windows")
        tokens = [w["token"] for w in json.loads(conn.getresponse().read())]
        conn.close()

        def rating(rng):
            return {"token": rng.choice(tokens), "level": "satisfied", "channel": "qr",
                    "submission_key": os.urandom(16).hex()}

        drive(port, "/api/v1/evaluations", rating, 30, 2)  # warm
        idle = drive(port, "/api/v1/evaluations", rating, per_thread, threads)[2]
        bind(url, 2)
        with db.connection_context():
            queue(count, f"json://127.0.0.1:{sink_port}/run", "r")
            started = time.monotonic()
            while pending() == count and time.monotonic() - started < 30:  # its thread looks every 5 s
                time.sleep(0.05)
            busy = drive(port, "/api/v1/evaluations", rating, per_thread, threads)[2]
            left = pending()
            while pending() and time.monotonic() - started < 900:
                time.sleep(0.2)
            drained = time.monotonic() - started
        idle += drive(port, "/api/v1/evaluations", rating, per_thread, threads)[2]  # and idle again after
        db.obj.close_all()
    finally:
        for process in (server, sink):
            process.terminate()
            process.wait(timeout=10)
        log.close()
    p99 = lambda values: sorted(values)[int(len(values) * 0.99) - 1]  # noqa: E731
    return p99(idle), p99(busy), left, drained


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--ratings", type=int, default=250, help="ratings per client thread in each phase")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        return sink_process(args.sink)
    random.seed(1)
    from tests.sinks import HttpSink
    with HttpSink() as sink:
        direct, worker = throughput(args.notices, sink)
        received = len(sink.messages("/worker"))
        print(f"{args.notices} notices to a local json:// sink, alternating rounds:")
        print(f"Apprise directly in a loop: {direct:7.1f} messages/s")
        print(f"outbox worker (claim, send, record on SQLite): {worker:7.1f} messages/s "
              f"({received} received)")
        print(f"throughput ratio {worker / direct:5.2f} (target >= 0.80)")
    idle, busy, left, drained = ratings_while_draining(args.notices, args.threads, args.ratings)
    print(f"ratings ({args.threads} client threads x {args.ratings}) through run.py: p99 idle {idle * 1000:6.1f} ms, "
          f"while its worker drains {args.notices} notices {busy * 1000:6.1f} ms "
          f"({left} still queued when the ratings ended; all sent after {drained:.0f} s)")
    print(f"rating p99 ratio {busy / idle:5.2f} (target <= 1.20)")


if __name__ == "__main__":
    main()
