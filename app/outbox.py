"""The outbox: notices written with the action that causes them, sent by Apprise from a worker.

Writing a notice (inside the action's transaction) never touches the network: it adds the
我的通知 row and one `Delivery` per channel it goes to. `drain` claims one due delivery at a time,
sends it with Apprise and records the gateway's answer; a failure waits 1, 2, 4… minutes and after
the last try is 发送失败, listed for the office to 重发. Free of Flask: settings come in as arguments
(`configure` takes them from the app at start).
"""
import contextlib
import datetime
import logging
import re
import secrets
import sys
import threading
import time
import warnings

from peewee import PostgresqlDatabase

from app import procedures
from app.roles import UNIT_BOUND
from app.workflow.schema import PLACEHOLDER
from models import (Channel, Contact, Delivery, Notification, Staff, Ticket, Unit, User, db, mask_phone,
                    now)

CITIZEN = "citizen"  # the role of a citizen's notice: no officer's 我的通知 lists it
MOBILE = re.compile(r"^1[3-9]\d{9}$")
PHONE = "{phone}"  # where a citizen SMS channel's URL takes the number, filled in at send time only
TEST_PHONE = "13800000000"  # stands for {phone} when a URL is checked
QUIET_FROM, QUIET_UNTIL = 21, 8  # no SMS from 21:00 to 8:00: held until morning
CITIZEN_DAILY_CAP = 3  # SMS per ticket and day; more wait for the next morning
TITLE = "直通车"
LEASE_MARGIN = 30  # seconds: a worker stops sending from a claim this long before it runs out

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
settings = {
    "public_base_url": DEFAULT_BASE_URL,
    "max_attempts": 6,         # tries before 发送失败
    "backoff_seconds": 60,     # 1 min, 2, 4, 8, 16 between tries
    "lease_seconds": 300,      # a claimed row whose worker died is claimed again after this
}


def configure(config):
    """Take the outbox's settings from the app configuration."""
    settings.update(public_base_url=str(config.get("PUBLIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
                    max_attempts=int(config.get("DELIVERY_MAX_ATTEMPTS", 6)),
                    backoff_seconds=int(config.get("DELIVERY_BACKOFF_SECONDS", 60)),
                    lease_seconds=int(config.get("DELIVERY_LEASE_SECONDS", 300)))


# --- writing notices (inside the action's transaction) --------------------------------------------
def render(kind, values):
    """The office's text for `kind` with its placeholders filled (unknown ones were refused on save)."""
    text = procedures.notices()[kind]
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def _unit_name(unit_id):
    return Unit.get_by_id(unit_id).name if unit_id else ""


def _stage_title(ticket):
    from app.tickets import workflow_of
    stage = workflow_of(ticket).stages.get(ticket.stage)
    return stage.title if stage else ticket.stage


def _due(ticket):
    return f"{ticket.due_at:%Y-%m-%d %H:%M}" if ticket.due_at else "—"


def notify(ticket, role, kind, at, unit=None, **values):
    """An officer notice to `role` (and, for a unit-bound role, the handling unit or `unit`)."""
    unit = unit or (ticket.handling_unit_id if role in UNIT_BOUND else None)
    text = render(kind, dict(values, code=ticket.code, title=ticket.title, stage=_stage_title(ticket),
                             unit=_unit_name(unit or ticket.handling_unit_id), due=_due(ticket),
                             link=f"{settings['public_base_url']}/admin/handle/{ticket.id}/"))
    notification = Notification.create(role=role, unit=unit, ticket=ticket, kind=kind, message=text,
                                       created_at=at)
    for channel_id in route(role, unit, ticket):
        Delivery.create(notification=notification, channel=channel_id, scheduled_at=at, next_attempt_at=at,
                        created_at=at)
    return notification


def notify_account(user, kind, message, at=None):
    """A notice to one account about the account itself: on its notices page, and to its own mailboxes only."""
    at = at or now()
    notification = Notification.create(role=user.role, user=user, kind=kind, message=message, created_at=at)
    channels = Channel.select(Channel.id).where(Channel.active, Channel.kind == "account", Channel.user == user.id)
    for (channel_id,) in channels.order_by(Channel.id).tuples():
        Delivery.create(notification=notification, channel=channel_id, scheduled_at=at, next_attempt_at=at,
                        created_at=at)
    return notification


def notify_system(role, kind, message, at=None):
    """A notice about the system itself (a failed backup, an account request) to every officer of `role`: no ticket."""
    at = at or now()
    notification = Notification.create(role=role, unit=None, ticket=None, kind=kind, message=message, created_at=at)
    for channel_id in route(role, None, None):
        Delivery.create(notification=notification, channel=channel_id, scheduled_at=at, next_attempt_at=at,
                        created_at=at)
    return notification


def notify_unit(ticket, unit_id, kind="co_chase", at=None, role="handler"):
    """A notice to one unit's officers about a ticket, e.g. a 催办 to a co-handling unit."""
    return notify(ticket, role, kind, at or now(), unit=unit_id)


def _unit_and_above(unit_id):
    ids, seen = [], set()
    while unit_id and unit_id not in seen:
        seen.add(unit_id)
        ids.append(unit_id)
        unit_id = Unit.select(Unit.parent).where(Unit.id == unit_id).scalar()
    return ids


def route(role, unit_id, ticket):
    """The active channels an officer notice goes to, in id order.

    The unit's group (unit-bound notices), the role's group (roles that are not unit-bound: a
    county-wide group of handlers would tell every unit of every ticket), and the mailboxes of the
    active accounts of that role (and unit). Never the account a ticket accuses; never the group of
    the accused officer's own unit, which may count him among its members.
    """
    staff_id = ticket.staff_id if ticket is not None else None  # a system notice has no ticket
    accused_unit = Staff.select(Staff.unit).where(Staff.id == staff_id).scalar() if staff_id else None
    wanted = (Channel.kind == "role") & (Channel.role == role) if role not in UNIT_BOUND else None
    if unit_id and unit_id != accused_unit:
        unit_cond = (Channel.kind == "unit") & (Channel.unit == unit_id)
        wanted = unit_cond if wanted is None else wanted | unit_cond
    users = User.select(User.id).where(User.role == role, User.active)
    if role in UNIT_BOUND:
        users = users.where(User.unit.in_(_unit_and_above(unit_id) or [0]))
    if staff_id:
        users = users.where(User.staff.is_null() | (User.staff != staff_id))
    account_cond = (Channel.kind == "account") & Channel.user.in_(users)
    wanted = account_cond if wanted is None else wanted | account_cond
    return [c for (c,) in Channel.select(Channel.id).where(Channel.active, wanted).order_by(Channel.id).tuples()]


def notify_citizen(ticket, kind, at, reply=""):
    """A citizen's SMS, where she left a phone: unit, stage, query code, link and the public reply only."""
    if ticket.contact_id is None or not Contact.select().where(
            Contact.id == ticket.contact_id, Contact.phone != "").exists():
        return None
    from app.tickets import answering_unit
    # An answer names the unit that answered, as /track does; other texts the unit handling it now.
    unit = answering_unit(ticket) if kind == "citizen_replied" else \
        _unit_name(ticket.handling_unit_id) or Unit.commission_name()
    text = render(kind, {"code": ticket.query_code, "unit": unit,
                         "stage": _stage_title(ticket), "due": _due(ticket), "reply": reply,
                         "link": f"{settings['public_base_url']}/track?code={ticket.query_code}"})
    notification = Notification.create(role=CITIZEN, ticket=ticket, kind=kind, message=text, created_at=at)
    channel = Channel.select(Channel.id).where(Channel.kind == "citizen_sms", Channel.active) \
        .order_by(Channel.id).first()
    if channel is not None:
        when = citizen_slot(ticket.id, at)
        Delivery.create(notification=notification, channel=channel.id, scheduled_at=when, next_attempt_at=when,
                        created_at=at)
    return notification


def out_of_quiet_hours(at):
    """`at`, or 8:00 next if it falls between 21:00 and 8:00."""
    if at.hour >= QUIET_FROM:
        return datetime.datetime.combine(at.date() + datetime.timedelta(days=1), datetime.time(QUIET_UNTIL))
    if at.hour < QUIET_UNTIL:
        return datetime.datetime.combine(at.date(), datetime.time(QUIET_UNTIL))
    return at


def citizen_slot(ticket_id, at):
    """When a ticket's next SMS may go: outside quiet hours, at most three a day (later ones next morning)."""
    when = out_of_quiet_hours(at)
    while True:
        start = datetime.datetime.combine(when.date(), datetime.time())
        taken = (Delivery.select().join(Notification)
                 .where(Notification.ticket == ticket_id, Notification.role == CITIZEN,
                        Delivery.scheduled_at >= start, Delivery.scheduled_at < start + datetime.timedelta(days=1))
                 .count())
        if taken < CITIZEN_DAILY_CAP:
            return when
        when = datetime.datetime.combine(when.date() + datetime.timedelta(days=1), datetime.time(QUIET_UNTIL))


# --- sending ------------------------------------------------------------------------------------
class _Answer(logging.Handler):
    """What Apprise logged while it sent: the gateway's answer, not the payload."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        message = record.getMessage()
        if message.startswith("Response Details") and record.args and isinstance(record.args[0], bytes):
            # Apprise logs the body as Python's repr of bytes: a Chinese gateway's answer as \\xe9…
            message = "Response Details: " + record.args[0].decode("utf-8", "replace").strip()
        if record.levelno >= logging.WARNING or message.startswith(("Response Details", "Socket Exception")):
            self.lines.append(message)


def _apprise_logger(detail):
    logger = logging.getLogger("apprise")
    # Kept out of the app's log: Apprise's debug lines hold payloads and, for SMS, phone numbers.
    logger.propagate = False
    # The gateway's own words (a response body, a socket error) are debug lines, and asking Apprise
    # for debug lines costs a fifth of a send: only for a retry or a test, where they are wanted.
    level = logging.DEBUG if detail else logging.INFO
    if logger.level != level:  # setting it clears every logger's cache: only when it changes
        logger.setLevel(level)
    return logger


def _apprise():
    """The apprise module. Its e-mail plugin imports the standard library's imghdr (for PGP), which
    warns that it goes away in Python 3.13: imported here first with that one warning quieted."""
    if "imghdr" not in sys.modules:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="'imghdr' is deprecated", category=DeprecationWarning)
            try:
                import imghdr  # noqa: F401
            except ImportError:  # Python 3.13: Apprise brings its own stand-in
                pass
    import apprise
    return apprise


def valid_url(url):
    """Whether Apprise understands the URL (a citizen SMS URL with its {phone} filled in)."""
    apprise = _apprise()
    return bool(url) and apprise.Apprise().add(url.replace(PHONE, TEST_PHONE))


# Apprise sends on threads of its own, so its log lines cannot be told apart by thread: one send
# at a time in a process (the worker sends one at a time anyway) keeps each answer with its notice.
_sending = threading.Lock()


_senders = {}  # channel URL -> its Apprise object, parsed once per worker (never for an SMS: it holds a phone)


def send(url, body, title=TITLE, reuse=False, detail=True):
    """(ok, answer): Apprise's verdict and what the gateway answered, as Apprise logged it.

    `detail` False: the answer is Apprise's one-line warning (the status code), not the body too.
    """
    apprise = _apprise()
    sender = _senders.get(url) if reuse else None
    if sender is None:
        sender = apprise.Apprise()
        if not sender.add(url):
            return False, "Apprise 无法识别这个地址。"
        if reuse:
            if len(_senders) > 500:  # channels come and go in the admin: keep the cache small
                _senders.clear()
            _senders[url] = sender
    answer = _Answer()
    with _sending:
        logger = _apprise_logger(detail)
        logger.addHandler(answer)
        try:
            ok = bool(sender.notify(body=body, title=title))
        except Exception as exc:  # a plugin's own bug must not stop the worker
            ok, answer.lines = False, answer.lines + [f"{type(exc).__name__}: {exc}"]
        finally:
            logger.removeHandler(answer)
    text = "\n".join(answer.lines).strip()
    if not ok and not text:
        text = "网关没有确认收到（Apprise 未给出原因）。"
    return ok, text[:2000]


# --- the worker -------------------------------------------------------------------------------
def _is_postgres():
    return isinstance(db.obj, PostgresqlDatabase)


CLAIM_BATCH = 20  # rows a worker claims at once; it still sends and records them one by one


def claim(at, limit=1):
    """Claim up to `limit` due deliveries for this worker: (ids, claim token, claimed until).

    Safe across processes: PostgreSQL skips rows another worker holds (FOR UPDATE SKIP LOCKED);
    SQLite has one writer at a time, and the UPDATE repeats the condition, so one worker wins a row.
    """
    token = secrets.token_hex(8)
    until = at + datetime.timedelta(seconds=settings["lease_seconds"])
    due = "status = 'pending' AND next_attempt_at <= %s AND (claimed_until IS NULL OR claimed_until <= %s)"
    if _is_postgres():
        sql = (f"UPDATE delivery SET claim = %s, claimed_until = %s WHERE id IN (SELECT id FROM delivery "
               f"WHERE {due} ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id")
        with db.atomic():
            rows = db.execute_sql(sql, (token, until, at, at, limit)).fetchall()
    else:
        due = due.replace("%s", "?")
        sql = (f"UPDATE delivery SET claim = ?, claimed_until = ? WHERE id IN (SELECT id FROM delivery "
               f"WHERE {due} ORDER BY next_attempt_at, id LIMIT ?) AND {due} RETURNING id")
        with db.atomic("IMMEDIATE"):
            rows = db.execute_sql(sql, (token, until, at, at, limit, at, at)).fetchall()  # all: the statement ends
    return sorted(r[0] for r in rows), token, until


RECORDED = ("status", "attempts", "next_attempt_at", "sent_at", "last_error")


def _record(row, **fields):
    """Write the outcome, unless the row was claimed again meanwhile (then the other worker owns it).

    One plain statement: this runs once per notice, between two sends, and peewee's query
    building would cost as much as the write.
    """
    p = db.param
    sql = (f"UPDATE delivery SET {', '.join(f'{name} = {p}' for name in RECORDED)}, claim = '', claimed_until = NULL "
           f"WHERE id = {p} AND claim = {p}")
    values = {"status": row.status, "attempts": row.attempts, "next_attempt_at": row.next_attempt_at,
              "sent_at": row.sent_at, "last_error": row.last_error}
    values.update(fields)
    params = [Delivery._meta.fields[name].db_value(values[name]) for name in RECORDED]
    with db.atomic():  # IMMEDIATE on SQLite, in the app's queue for the write lock
        return db.execute_sql(sql, params + [row.id, row.claim]).rowcount


def deliver(row, at):
    """Send one claimed delivery and record the outcome; returns sent, retry, failed, skipped or held."""
    channel, notice = row.channel, row.notification
    if not channel.active:
        _record(row, status="skipped", last_error="通道已停用，没有发送。")
        return "skipped"
    url, phone = channel.url, None
    if channel.kind == "citizen_sms":
        held = out_of_quiet_hours(at)
        if held != at:
            _record(row, next_attempt_at=held)
            return "held"
        phone = (Contact.select(Contact.phone).join(Ticket, on=(Ticket.contact == Contact.id))
                 .where(Ticket.id == notice.ticket_id).scalar() or "").strip()
        if not MOBILE.match(phone):
            _record(row, status="skipped",
                    last_error="群众留的电话不是手机号码，没有发短信，请电话联系。")
            return "skipped"
        url = url.replace(PHONE, phone)
    # A first try sends lean; a retry asks Apprise for the gateway's full answer, which the row keeps.
    ok, answer = send(url, notice.message, reuse=phone is None, detail=row.attempts > 0)
    if phone:
        answer = answer.replace(phone, mask_phone(phone))
    attempts = row.attempts + 1
    if ok:
        _record(row, status="sent", attempts=attempts, sent_at=at, last_error="")
        return "sent"
    if attempts >= settings["max_attempts"]:
        _record(row, status="failed", attempts=attempts, last_error=answer)
        return "failed"
    wait = datetime.timedelta(seconds=settings["backoff_seconds"] * 2 ** (attempts - 1))
    _record(row, attempts=attempts, next_attempt_at=at + wait, last_error=answer)
    return "retry"


@contextlib.contextmanager
def _relaxed_sync():
    """On SQLite, this connection's commits skip the disk flush while the worker records outcomes.

    A process killed loses nothing (WAL); a power cut may forget the last few "sent" marks, and
    those notices go out again: at least once, as promised. Every other write keeps synchronous=FULL.
    """
    if _is_postgres():
        yield
        return
    db.execute_sql("PRAGMA synchronous = NORMAL")
    try:
        yield
    finally:
        db.execute_sql("PRAGMA synchronous = FULL")


def drain(at=None, limit=None, between=None):
    """Deliver everything due at `at` (now by default); returns the count of each outcome.

    `between()`, if given, is called before each send (run.py's thread waits there for a quiet moment).
    """
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "held": 0}
    done = 0
    with _relaxed_sync():
        while limit is None or done < limit:
            ids, token, until = claim(at or now(), CLAIM_BATCH if limit is None else min(CLAIM_BATCH, limit - done))
            if not ids:
                break
            rows = list(Delivery.select(Delivery, Channel, Notification).join(Channel).switch(Delivery)
                        .join(Notification).where(Delivery.id.in_(ids), Delivery.claim == token)
                        .order_by(Delivery.id))  # read whole: no read transaction left open across the sends
            for row in rows:
                moment = at or now()
                margin = min(LEASE_MARGIN, settings["lease_seconds"] / 2)
                if at is None and moment >= until - datetime.timedelta(seconds=margin):
                    break  # the claim runs out soon: leave the rest to be claimed again, never sent twice
                if between is not None:
                    between()
                    moment = at or now()
                counts[deliver(row, moment)] += 1
                done += 1
    return counts


def resend(delivery_ids, at=None):
    """重发: failed or skipped deliveries go out again at once, with a fresh count of tries."""
    return (Delivery.update(status="pending", attempts=0, next_attempt_at=at or now(), claim="", claimed_until=None)
            .where(Delivery.id.in_(list(delivery_ids)), Delivery.status.in_(["failed", "skipped"])).execute())


class InFlight:
    """WSGI middleware counting the requests being served, so the delivery thread can let them go first.

    The thread shares the interpreter lock with the ones serving pages, and a send holds it for a few
    milliseconds: each one that overlaps a request is that request's delay. So it sends after 50 ms
    without a request (at full speed when pages are idle), and under unbroken load one notice every
    five seconds, which keeps moving without touching the slowest percent of the pages.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app, self.count, self.last_end = wsgi_app, 0, 0.0
        self._lock, self._idle = threading.Lock(), threading.Event()
        self._idle.set()

    def __call__(self, environ, start_response):
        with self._lock:
            self.count += 1
            self._idle.clear()
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            with self._lock:
                self.count -= 1
                if not self.count:
                    self.last_end = time.monotonic()
                    self._idle.set()

    def wait_quiet(self, longest=5.0, calm=0.05):
        """Return once no request has been served for `calm` seconds, or after `longest` (notices still move)."""
        deadline = time.monotonic() + longest
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._idle.wait(left):
                return
            since = time.monotonic() - self.last_end
            if since >= calm and not self.count:
                return
            time.sleep(max(0.0, min(calm - since, left)))


def start_worker(app, every_seconds=5):
    """Deliver inside the app process (a thread, like the deadline sweep); `flask deliver` is the other way."""
    in_flight = InFlight(app.wsgi_app)
    app.wsgi_app = in_flight

    from app.background import every
    return every(app, every_seconds, "zhitongche-deliver", lambda: drain(between=in_flight.wait_quiet),
                 "notice delivery failed")
