"""Crash test: the server killed with SIGKILL at random moments while it writes, many times over.

Each cycle starts run.py on the same SQLite file, has a few clients send ratings (the API) and
board messages (the form, with CSRF), and kills the server at a random moment with SIGKILL, in
the middle of whatever it was doing. Then, on the file as the next start finds it:

- PRAGMA integrity_check is ok;
- every write the server acknowledged (a 201 or the thank-you page received) is there, by its marker;
- nothing half-written: each message has its ticket, the rating tallies (kept in the rating's own
  transaction) and the problem tallies (kept by triggers) match a recount, the audit chain holds.

The next cycle's start is the restart. A last start checks that the server still takes a rating.

    python bench/crash.py [--cycles 30] [--threads 4] [--seed 1]
"""
import argparse
import http.client
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from load import LIMITLESS, MESSAGE_TEXT, WRITES, Browser, prepare, stored_markers
from ratings import ROOT, free_port, wait

KINDS = ("rating_api", "message")


def messages_without_ticket(url):
    from app.db import bind
    from models import Message, Ticket, db
    bind(url, 1)
    with db.connection_context():
        orphans = (Message.select().where(Message.content.startswith(MESSAGE_TEXT),
                                          ~Message.id.in_(Ticket.select(Ticket.message)
                                                          .where(Ticket.message.is_null(False))))
                   .count())
    db.obj.close_all()
    return orphans


def cycle(env, county, threads, rng, folder):
    """One start, writes, SIGKILL; returns ({kind: acknowledged markers}, requests cut by the kill)."""
    port = free_port()
    with open(folder / "server.log", "a") as log:
        server = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--no-demo", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait(port)
    acknowledged = {kind: set() for kind in KINDS}
    cut, lock, killed, flowing = [0], threading.Lock(), threading.Event(), threading.Event()

    def client(seed):
        client_rng, browser = random.Random(seed), Browser(timeout=30)
        while not killed.is_set():
            kind = client_rng.choice(KINDS)
            try:
                marker, status, _text, ok = WRITES[kind](browser, port, county, client_rng)
            except (OSError, http.client.HTTPException):
                with lock:
                    cut[0] += 1
                break
            if ok:
                flowing.set()
                with lock:
                    acknowledged[kind].add(marker)
            elif status is not None and status >= 500:
                raise RuntimeError(f"{kind} answered {status}")
        browser.close()

    pool = [threading.Thread(target=client, args=(rng.random(),)) for _ in range(threads)]
    for t in pool:
        t.start()
    flowing.wait(30)
    time.sleep(rng.uniform(0.05, 1.5))  # a random moment while the writes flow
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    killed.set()
    for t in pool:
        t.join()
    return acknowledged, cut[0]


def still_serves(env, county, folder):
    port = free_port()
    with open(folder / "server.log", "a") as log:
        server = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--no-demo", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait(port)
        browser = Browser()
        _marker, _status, _text, ok = WRITES["rating_api"](browser, port, county, random.Random(0))
        browser.close()
        return ok
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="zt-crash-"))
    url = f"sqlite:///{folder / 'crash.sqlite3'}"
    county = prepare(url, folder, 0)
    env = dict(os.environ, INSTANCE_PATH=str(folder), DATABASE_URL=url, **LIMITLESS)
    env.pop("RATELIMIT_STORAGE_URI", None)  # one process: its own counts in memory
    totals = {"acknowledged": 0, "lost": 0, "cut": 0, "failed checks": 0}
    started = time.perf_counter()
    for n in range(1, args.cycles + 1):
        acknowledged, cut = cycle(env, county, args.threads, rng, folder)
        stored, checks = stored_markers(url)
        lost = sum(len(markers - stored[kind]) for kind, markers in acknowledged.items())
        checks["every message with its ticket"] = messages_without_ticket(url) == 0
        failed = [name for name, ok in checks.items() if not ok]
        totals["acknowledged"] += sum(len(m) for m in acknowledged.values())
        totals["lost"] += lost
        totals["cut"] += cut
        totals["failed checks"] += len(failed)
        print(f"cycle {n:3d}: acknowledged {sum(len(m) for m in acknowledged.values()):4d}, requests cut by the "
              f"kill {cut}, lost {lost}{', FAILED: ' + ', '.join(failed) if failed else ''}", flush=True)
    serves = still_serves(env, county, folder)
    print(f"{args.cycles} SIGKILL cycles in {time.perf_counter() - started:.0f} s, {args.threads} clients, "
          f"SQLite WAL synchronous=FULL: acknowledged {totals['acknowledged']}, lost {totals['lost']}, "
          f"requests cut by a kill {totals['cut']}, failed checks {totals['failed checks']} "
          f"(integrity_check, tallies against a recount, audit chain, messages with tickets); "
          f"serves after the last kill: {'yes' if serves else 'NO'}")
    return 1 if totals["lost"] or totals["failed checks"] or not serves else 0


if __name__ == "__main__":
    sys.exit(main())
