"""Durability under load: mixed writes from many clients against several server processes.

N processes of run.py (waitress, what a county runs) share one database (a SQLite file, or
PostgreSQL with --pg) and their rate-limit counts in Redis, as in README's deployment. 32 client
threads send mixed writes round-robin across them, each write with a marker of its own:

- rating (API): POST /api/v1/evaluations, as a kiosk device does; the marker is its submission_key;
- rating (QR page): the phone's page /e/<token>, then its form to /rate with CSRF;
- board message: the /board form with CSRF, its text carrying the marker;
- officer action: `office` logged in, the ticket page's 不予受理 form with CSRF, its comment
  carrying the marker, each on a ticket of its own.

Afterwards every acknowledged write must be found in the database by its marker; no 5xx, no
"database is locked" in any answer or server log; SQLite's integrity_check, the tallies against a
recount (`flask tallies check`) and the audit chain (`flask audit verify`) must pass.

The baseline, in the same run and alternating round by round with the mixed load so that the
machine's other work falls on both alike: as many bare API ratings against one server.

    python bench/load.py [--writes 5000] [--threads 32] [--servers 4]
    python bench/load.py --pg postgresql://postgres@127.0.0.1:5432/zt_load [--restart]

--restart (PostgreSQL only) restarts the cluster serving the URL halfway through the load and
reports the requests that failed while it restarted, and that the servers, never restarted, answer
every write after it. Exits non-zero if an acknowledged write is lost or a 5xx is answered outside
the restart.
"""
import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlparse

from ratings import ROOT, free_port, wait

sys.path.insert(0, str(ROOT))

LIMITLESS = {"RATING_RATE_LIMIT": "100000000 per minute", "RATING_DEVICE_LIMIT": "100000000 per minute",
             "MESSAGE_RATE_LIMIT": "100000000 per hour", "MESSAGE_DEVICE_LIMIT": "100000000 per hour"}
MIX = (("rating_api", 40), ("rating_page", 20), ("message", 25), ("officer", 15))
OFFICER, PASSWORD = "office", "Demo@2026"
MESSAGE_TEXT, ACTION_TEXT = "负载测试留言 ", "负载测试不予受理 "
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HIDDEN = re.compile(r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"'
                    r'|<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"')
ERROR_MESSAGE = re.compile(r'id="error-message">([^<]*)<')
LOCKED = "database is locked"


# --- the client ------------------------------------------------------------------------------
class Browser:
    """One client: a keep-alive connection to each server and one cookie jar for all of them.

    One jar serves every server because they share the secret key: a session begun on one is
    good on the others, as behind a reverse proxy that spreads requests.
    """

    def __init__(self, timeout=60):
        self.timeout, self.connections, self.cookies = timeout, {}, {}

    def request(self, port, method, path, form=None, json_body=None):
        headers, body = {}, None
        if form is not None:
            body, headers["Content-Type"] = urlencode(form, doseq=True), "application/x-www-form-urlencoded"
        if json_body is not None:
            body, headers["Content-Type"] = json.dumps(json_body), "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = self.connections.get(port)
        if conn is None:
            conn = self.connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            conn.close()
            del self.connections[port]
            raise
        for cookie in response.headers.get_all("Set-Cookie") or ():
            name, _sep, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text

    def close(self):
        for conn in self.connections.values():
            conn.close()


class County:
    """What the clients need to know of the database: tokens, reasons, the tickets for officers."""

    def __init__(self, tokens, reasons, unit_ids, tickets):
        self.tokens, self.reasons, self.unit_ids = tokens, reasons, unit_ids
        self._tickets, self._lock = list(tickets), threading.Lock()

    def next_ticket(self):
        with self._lock:
            return self._tickets.pop() if self._tickets else None


def rating_body(rng, county, key):
    bad = rng.random() < 0.1  # one in ten 不满意, which opens its ticket in the same transaction
    return {"token": rng.choice(county.tokens), "level": "dissatisfied" if bad else "satisfied",
            "reasons": [rng.choice(county.reasons)] if bad else [], "channel": "kiosk", "submission_key": key}


def write_rating_api(browser, port, county, rng):
    key = uuid.uuid4().hex
    status, text = browser.request(port, "POST", "/api/v1/evaluations", json_body=rating_body(rng, county, key))
    return key, status, text, status == 201


def write_rating_page(browser, port, county, rng):
    status, page = browser.request(port, "GET", f"/e/{rng.choice(county.tokens)}")
    if status != 200:
        return None, status, page, False
    fields = dict(hidden_fields(page))
    bad = rng.random() < 0.1
    form = dict(fields, level="dissatisfied" if bad else "satisfied", comment="扫码评价",
                reasons=[rng.choice(county.reasons)] if bad else [])
    status, text = browser.request(port, "POST", "/rate", form=form)
    return fields.get("submission_key"), status, text, status == 200


def write_message(browser, port, county, rng):
    if "csrf" not in browser.__dict__:  # one token per session, good on every server
        status, page = browser.request(port, "GET", "/board")
        if status != 200:
            return None, status, page, False
        browser.csrf = CSRF.search(page).group(1)
    marker = uuid.uuid4().hex
    form = {"csrf_token": browser.csrf, "kind": rng.choice(("opinion", "suggestion")),
            "unit": rng.choice(county.unit_ids), "content": MESSAGE_TEXT + marker}
    status, text = browser.request(port, "POST", "/board", form=form)
    return marker, status, text, status == 200


def write_officer_action(browser, port, county, rng):
    if "logged_in" not in browser.__dict__:
        status, page = browser.request(port, "GET", "/login")
        status, text = browser.request(port, "POST", "/login", form={
            "csrf_token": CSRF.search(page).group(1), "username": OFFICER, "password": PASSWORD})
        if status != 302:
            return None, status, text, False
        browser.logged_in = True
    ticket_id = county.next_ticket()
    if ticket_id is None:
        raise RuntimeError("no ticket left for the officer: raise the tickets prepared")
    status, page = browser.request(port, "GET", f"/admin/handle/{ticket_id}/")
    if status != 200:
        return None, status, page, False
    form_html = page.split('id="form-reject"', 1)[1].split("</form>", 1)[0]
    marker = uuid.uuid4().hex
    form = dict(hidden_fields(form_html), **{"reject-comment": ACTION_TEXT + marker})
    status, text = browser.request(port, "POST", f"/admin/handle/{ticket_id}/act/reject", form=form)
    return marker, status, text, status == 302


WRITES = {"rating_api": write_rating_api, "rating_page": write_rating_page, "message": write_message,
          "officer": write_officer_action}


def hidden_fields(html):
    return [(m[0] or m[2], m[1] or m[3]) for m in HIDDEN.findall(html)]


class Record:
    """Every write sent: when, how long, what came back; the markers of the acknowledged ones."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = []  # (phase, kind, started, seconds, status or None, acknowledged)
        self.acknowledged = {kind: set() for kind in WRITES}
        self.locked_answers = 0
        self.errors = []

    def add(self, phase, kind, started, seconds, status, ok, marker, text):
        with self.lock:
            self.rows.append((phase, kind, started, seconds, status, ok))
            if ok and marker:
                self.acknowledged[kind].add(marker)
            if text and LOCKED in text:
                self.locked_answers += 1
            if not ok and len(self.errors) < 5:
                said = ERROR_MESSAGE.search(text or "")
                self.errors.append(f"{kind} {status}: {said.group(1) if said else (text or '')[:200]!r}")


def drive(phase, plan, ports, county, record, threads, progress=None):
    """Send the writes of `plan` from `threads` clients, write i to server i mod N; returns seconds."""
    position, lock = iter(range(len(plan))), threading.Lock()

    def client(seed):
        # A citizen's phone and an officer's PC: logging in begins a new session, and with it new CSRF tokens.
        rng, browsers = random.Random(seed), {"citizen": Browser(), "officer": Browser()}
        while True:
            with lock:
                i = next(position, None)
            if i is None:
                break
            kind, port = plan[i], ports[i % len(ports)]
            started = time.perf_counter()
            try:
                browser = browsers["officer" if kind == "officer" else "citizen"]
                marker, status, text, ok = WRITES[kind](browser, port, county, rng)
            except (OSError, http.client.HTTPException) as exc:
                marker, status, text, ok = None, None, repr(exc), False
            record.add(phase, kind, started, time.perf_counter() - started, status, ok, marker, text)
            if progress is not None:
                progress()
        for browser in browsers.values():
            browser.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=client, args=(f"{phase}-{n}",)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - started


# --- the servers -----------------------------------------------------------------------------
def prepare(url, instance, officer_writes):
    """Schema, demo county, and a ticket of its own for each officer write; returns the County."""
    from app import create_app
    from app.appeals import leave_message
    from models import Reason, Unit, Window, db
    from seed.loader import load
    create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
    with db.connection_context():
        load(demo=True)
        with db.atomic():
            tickets = [leave_message("opinion", None, f"待处理的留言 {n}", "", "").tickets.get().id
                       for n in range(officer_writes)]
        tokens = [w.token for w in Window.select().where(Window.active)]
        reasons = [str(r.id) for r in Reason.offered() if "dissatisfied" in r.level_set]
        units = [str(u.id) for u in Unit.select().where(Unit.active, Unit.kind == "hall")]
    db.obj.close_all()
    return County(tokens, reasons, units, tickets)


def start_servers(count, env, folder):
    ports = [free_port() for _ in range(count)]
    servers = []
    for n, port in enumerate(ports):
        log = open(folder / f"server{n}.log", "w")
        servers.append((subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--no-demo", "--port", str(port)],
                                         cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    for port in ports:
        wait(port)
    return ports, servers


def stop_servers(servers):
    for process, log in servers:
        process.terminate()
    for process, log in servers:
        process.wait(timeout=30)
        log.close()


def drop_everything(url):
    """A PostgreSQL database of the bench's own: started empty, as the tests do theirs."""
    from app.db import bind
    from models import ALL_MODELS, db
    bind(url, 2)
    with db.connection_context():
        db.drop_tables(ALL_MODELS, cascade=True, safe=True)
    db.obj.close_all()


def pg_cluster(url):
    """(version, name) of the local cluster listening on the URL's port, from pg_lsclusters."""
    port = str(urlparse(url).port or 5432)
    for line in subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout.splitlines():
        version, name, cluster_port = line.split()[:3]
        if cluster_port == port:
            return version, name
    raise SystemExit(f"没有在端口 {port} 上的 PostgreSQL 集群（pg_lsclusters）")


def restart_when(done, at, url, window):
    """Restart the cluster once `done()` reaches `at`; window gets (started, finished)."""
    version, name = pg_cluster(url)

    def run():
        while done() < at:
            time.sleep(0.01)
        window.append(time.perf_counter())
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"], check=True,
                       capture_output=True)
        window.append(time.perf_counter())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# --- the checks ------------------------------------------------------------------------------
def stored_markers(url):
    """The markers in the database, by kind of write, and the checks that need no server."""
    from app import audit, tallies, ticket_tallies
    from app.db import bind
    from models import Evaluation, Message, TicketEvent, db
    bind(url, 2)
    with db.connection_context():
        keys = {k for (k,) in Evaluation.select(Evaluation.submission_key)
                .where(Evaluation.submission_key.is_null(False)).tuples()}
        messages = {c[len(MESSAGE_TEXT):] for (c,) in Message.select(Message.content)
                    .where(Message.content.startswith(MESSAGE_TEXT)).tuples()}
        actions = {c[len(ACTION_TEXT):] for (c,) in TicketEvent.select(TicketEvent.comment)
                   .where(TicketEvent.comment.startswith(ACTION_TEXT)).tuples()}
        checks = {"tallies": tallies.check() == [] and ticket_tallies.check() == [],
                  "audit": not audit.verify()[1]}
        if url.startswith("sqlite"):
            checks["integrity"] = db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.obj.close_all()
    return {"rating_api": keys, "rating_page": keys, "message": messages, "officer": actions}, checks


def checkout_cost(url, n=2000):
    """µs per request of the pool's liveness check (a SELECT 1 as it lends a connection), and without it."""
    from app.db import make_database
    checked = make_database(url, 2)
    bare = make_database(url, 2)
    bare._is_closed = lambda conn: bool(conn.closed)  # trust the driver's flag: no round trip
    out = []
    for database in (checked, bare):
        database.connect()
        database.close()
        started = time.perf_counter()
        for _ in range(n):
            database.connect()
            database.close()
        out.append((time.perf_counter() - started) / n * 1e6)
        database.close_all()
    return out


def percentile(values, q):
    values = sorted(values)
    return values[max(0, int(len(values) * q) - 1)] if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writes", type=int, default=5000, help="mixed writes (and as many baseline ratings)")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="baseline and mixed alternate this many times")
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL database of the bench's own (never `test`)")
    parser.add_argument("--restart", action="store_true", help="restart PostgreSQL halfway through the load")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7", help="rate-limit storage shared by the servers")
    args = parser.parse_args()
    if args.restart and not args.pg:
        parser.error("--restart needs --pg")
    if args.pg and urlparse(args.pg).path.lstrip("/") in ("", "test", "postgres"):
        parser.error("--pg: a database of the bench's own, e.g. createdb zt_load; never the shared `test`")
    try:
        import redis  # noqa: F401 - what limits needs for redis://
    except ImportError:
        raise SystemExit("需要 redis 包：python -m pip install -r requirements.txt")

    folder = Path(tempfile.mkdtemp(prefix="zt-load-"))
    url = args.pg or f"sqlite:///{folder / 'load.sqlite3'}"
    rng = random.Random(2026)
    kinds, weights = zip(*MIX)
    per_round = args.writes // args.rounds
    plans = [rng.choices(kinds, weights, k=per_round) for _ in range(args.rounds)]
    officer_writes = sum(plan.count("officer") for plan in plans)
    if args.pg:
        drop_everything(args.pg)
    county = prepare(url, folder, officer_writes)
    env = dict(os.environ, INSTANCE_PATH=str(folder), DATABASE_URL=url, RATELIMIT_STORAGE_URI=args.redis,
               **LIMITLESS)
    record, window, restarter = Record(), [], None
    ports, servers = start_servers(args.servers, env, folder)
    try:
        warm = Browser()
        for port in ports:  # each server's first request pays for imports and caches
            warm.request(port, "GET", "/api/v1/scale")
        warm.close()
        seconds = {"baseline": 0.0, "mixed": 0.0}
        done = [0]
        if args.restart:
            restarter = restart_when(lambda: done[0], args.writes // 2, args.pg, window)
        for r, plan in enumerate(plans):
            sides = [("baseline", ["rating_api"] * len(plan), ports[:1]), ("mixed", plan, ports)]
            for phase, phase_plan, phase_ports in (sides if r % 2 == 0 else sides[::-1]):
                step = (lambda: done.__setitem__(0, done[0] + 1)) if phase == "mixed" else None
                seconds[phase] += drive(phase, phase_plan, phase_ports, county, record, args.threads, step)
        if restarter is not None:
            restarter.join(timeout=120)
    finally:
        stop_servers(servers)
    logs = "".join((folder / f"server{n}.log").read_text(errors="replace") for n in range(args.servers))
    stored, checks = stored_markers(url)

    lost = {kind: len(acked - stored[kind]) for kind, acked in record.acknowledged.items()}
    server_errors = [r for r in record.rows if r[4] is not None and r[4] >= 500]
    in_window = (lambda r: window and window[0] - 0.001 <= r[2] + r[3] and r[2] <= window[1]) if window else (lambda r: False)
    outside = [r for r in server_errors if not in_window(r)]
    print(f"{args.servers} server processes (run.py, waitress) on "
          f"{'PostgreSQL' if args.pg else 'SQLite WAL synchronous=FULL'}, limits in {args.redis}; "
          f"{args.threads} client threads, {args.rounds} alternating rounds")
    print(f"mixed: {', '.join(f'{k} {sum(p.count(k) for p in plans)}' for k in kinds)}")
    rates = {}
    for phase in ("baseline", "mixed"):
        rows = [r for r in record.rows if r[0] == phase]
        latencies = [r[3] for r in rows]
        rates[phase] = len(rows) / seconds[phase]
        print(f"{phase + ':':<10}{len(rows):6d} writes {rates[phase]:8.1f} writes/s   "
              f"p50 {statistics.median(latencies) * 1000:6.1f} ms   p99 {percentile(latencies, 0.99) * 1000:7.1f} ms"
              f"   ({'bare API ratings, one server' if phase == 'baseline' else 'mixed, all servers'})")
    for kind in kinds:
        latencies = [r[3] for r in record.rows if r[0] == "mixed" and r[1] == kind]
        print(f"  {kind:<12}{len(latencies):6d} writes   p50 {statistics.median(latencies) * 1000:6.1f} ms   "
              f"p99 {percentile(latencies, 0.99) * 1000:7.1f} ms   (a page's GET before its POST included)")
    print(f"throughput ratio mixed/baseline: {rates['mixed'] / rates['baseline']:.2f}")
    acknowledged = sum(len(a) for a in record.acknowledged.values())
    refused = sum(1 for r in record.rows if not r[5])
    print(f"acknowledged {acknowledged}, not acknowledged {refused}, 5xx {len(server_errors)}, "
          f"lost {sum(lost.values())} {lost}")
    print(f"'{LOCKED}': {record.locked_answers} in answers, {logs.count(LOCKED)} in server logs; "
          f"tracebacks in server logs: {logs.count('Traceback')}")
    print("checks: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in checks.items()))
    failed_after = 0
    if window:
        during = [r for r in record.rows if not r[5] and in_window(r)]
        after = [r for r in record.rows if r[2] > window[1]]
        failed_after = sum(1 for r in after if not r[5])
        print(f"PostgreSQL restarted in {window[1] - window[0]:.1f} s with the servers running: "
              f"{len(during)} writes failed meanwhile ({sorted({str(r[4]) for r in during})}); "
              f"after it {len(after) - failed_after} of {len(after)} writes acknowledged, none of the servers restarted")
    if args.pg:
        checked, bare = checkout_cost(args.pg)
        p50 = statistics.median(r[3] for r in record.rows if r[0] == "mixed") * 1e6
        print(f"pool's check as it lends a connection: {checked - bare:.0f} µs per request "
              f"({checked:.0f} against {bare:.0f} µs unchecked), {(checked - bare) / p50:.1%} of the mixed p50")
    if record.errors:
        print("first refusals: " + " | ".join(record.errors))
    bad = (sum(lost.values()) or outside or record.locked_answers or logs.count(LOCKED) or failed_after
           or not all(checks.values()))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
