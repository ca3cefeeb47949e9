"""Crash test of the outbox: `flask deliver` killed with SIGKILL at random moments, 20 times over.

A queue of numbered notices waits for one channel, a local HTTP sink (tests/sinks.py) that takes a
few milliseconds per message. Each cycle starts `flask deliver` on the same SQLite file, lets it
send for a random while and kills it with SIGKILL, in the middle of whatever it was doing; the
next cycle's start is the restart. A last `flask deliver --once` (after the claims of the killed
workers ran out) drains the rest. Then:

- every notice arrived at least once;
- the repeats, summed, are at most one per kill (a kill between sending and recording repeats the
  one message in flight, never more);
- every delivery row is 已发送.

    python bench/notify_crash.py [--cycles 20] [--notices 1500] [--seed 1]
"""
import argparse
import collections
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEASE_SECONDS = 1  # a killed worker's claim is taken over after a second, not five minutes


def queue(url, count, channel_url):
    """The database with `count` numbered notices waiting for one channel."""
    from app import create_app
    from models import Channel, Delivery, Notification, db, now
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(Path(url[len("sqlite:///"):]).parent)})
    with app.app_context(), db.connection_context(), db.atomic():
        channel = Channel.create(title="压测群", kind="role", role="office", url=channel_url)
        at = now()
        for i in range(count):
            notice = Notification.create(role="office", kind="new_work", message=f"notice-{i:05d}", created_at=at)
            Delivery.create(notification=notice, channel=channel, scheduled_at=at, next_attempt_at=at, created_at=at)
    db.obj.close_all()


def statuses(url):
    from app.db import bind
    from models import Delivery, db
    bind(url, 1)
    with db.connection_context():
        counts = collections.Counter(status for (status,) in Delivery.select(Delivery.status).tuples())
    db.obj.close_all()
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--notices", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    from tests.sinks import HttpSink
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'outbox.sqlite3'}"
    env = dict(os.environ, DATABASE_URL=url, INSTANCE_PATH=str(folder), DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS),
               PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "flask", "--app", "app", "deliver"]
    kills = 0
    with HttpSink(delay=0.004) as sink, open(folder / "deliver.log", "w") as log:
        queue(url, args.notices, sink.url("/hook"))
        for number in range(args.cycles):
            worker = subprocess.Popen(command + ["--every", "1"], cwd=ROOT, env=env, stdout=log,
                                      stderr=subprocess.STDOUT)
            before = len(sink.received)
            deadline = time.monotonic() + 30
            while len(sink.received) == before and time.monotonic() < deadline:  # started and sending
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.4))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            kills += 1
            print(f"cycle {number + 1:2d}: killed after {len(sink.received) - before} messages", flush=True)
        time.sleep(LEASE_SECONDS + 1)  # the last killed worker's claim runs out
        subprocess.run(command + ["--once"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
        received = collections.Counter(sink.messages())
    expected = {f"notice-{i:05d}" for i in range(args.notices)}
    lost = expected - set(received)
    repeats = sum(n - 1 for n in received.values())
    stranger = set(received) - expected
    counts = statuses(url)
    print(f"{args.notices} notices, {kills} SIGKILLs of flask deliver: {sum(received.values())} messages received, "
          f"{len(lost)} lost, {repeats} repeated ({max(received.values())} at most of one notice), "
          f"{len(stranger)} unknown; delivery rows: {dict(counts)}")
    ok = not lost and not stranger and repeats <= kills and counts == {"sent": args.notices}
    print("OK: none lost, at most one repeat per kill" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
