"""Every table of 直通车. The database is bound late, by app.db, from DATABASE_URL."""
import datetime
import secrets

from flask_babel import lazy_gettext as _l
from peewee import (BooleanField, CharField, CompositeKey, DatabaseProxy, DateField,
                    DateTimeField, ForeignKeyField, IntegerField, JOIN, Model, TextField, fn)
from werkzeug.security import check_password_hash, generate_password_hash

db = DatabaseProxy()


def now():
    return datetime.datetime.now().replace(microsecond=0)


def new_token():
    """A public token for a QR code: unguessable, URL-safe, short enough to print."""
    return secrets.token_urlsafe(12)


# Query codes avoid look-alike characters (0/O, 1/I/L) because citizens read them aloud.
QUERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_session_token():
    return secrets.token_hex(16)


def new_query_code():
    return "".join(secrets.choice(QUERY_ALPHABET) for _ in range(12))


def mask_phone(phone):
    """138****5678: what everyone but the commission sees of a phone number."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class SystemSetting(BaseModel):
    """Key/value facts about this installation: the schema version, demo loaded."""
    key = CharField(primary_key=True, max_length=64)
    value = TextField()

    @classmethod
    def read(cls, key, default=None):
        row = cls.get_or_none(cls.key == key)
        return row.value if row else default

    @classmethod
    def write(cls, key, value):
        cls.insert(key=key, value=str(value)).on_conflict(
            conflict_target=[cls.key], update={cls.value: str(value)}).execute()


UNIT_KINDS = (
    ("hall", _l("Hall unit")),
    ("law_enforcement", _l("Law-enforcement department")),
    ("township", _l("Township")),
    ("farm", _l("Farm")),
    ("zone", _l("Development zone")),
    ("village", _l("Village service station")),
    ("enterprise", _l("Enterprise")),
    ("community", _l("Community")),
    ("school", _l("School")),
    ("commission", _l("Discipline commission")),
)


class Unit(BaseModel):
    code = CharField(unique=True, max_length=32, verbose_name=_l("Code"))
    name = CharField(max_length=100, index=True, verbose_name=_l("Name"))
    kind = CharField(max_length=20, choices=UNIT_KINDS, index=True, verbose_name=_l("Kind"))
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT",
                             verbose_name=_l("Parent unit"))
    active = BooleanField(default=True, index=True, verbose_name=_l("Active"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created"))

    def __str__(self):
        return self.name

    @classmethod
    def commission_name(cls):
        """The discipline commission's name, for what the commission itself tells a citizen."""
        return cls.select(cls.name).where(cls.kind == "commission").scalar() or "县纪委监委"

    @classmethod
    def subtree_ids(cls, unit_id):
        """The unit and every unit below it (a township and its village stations)."""
        ids, frontier = {unit_id}, [unit_id]
        while frontier:
            frontier = [u.id for u in cls.select(cls.id).where(cls.parent.in_(frontier))
                        if u.id not in ids]
            ids.update(frontier)
        return ids


class Window(BaseModel):
    unit = ForeignKeyField(Unit, backref="windows", on_delete="RESTRICT", verbose_name=_l("Unit"))
    number = CharField(unique=True, max_length=16, verbose_name=_l("Window number"))
    name = CharField(max_length=100, verbose_name=_l("Window name"))
    services = TextField(default="", verbose_name=_l("Services offered"))
    token = CharField(unique=True, max_length=32, default=new_token, verbose_name=_l("Public token"))
    active = BooleanField(default=True, index=True, verbose_name=_l("Active"))

    def __str__(self):
        return f"{self.number} {self.name}"


class Staff(BaseModel):
    name = CharField(max_length=50, index=True, verbose_name=_l("Name"))
    number = CharField(unique=True, max_length=32, verbose_name=_l("Staff number"))
    unit = ForeignKeyField(Unit, backref="staff", on_delete="RESTRICT", verbose_name=_l("Unit"))
    window = ForeignKeyField(Window, null=True, backref="staff", on_delete="RESTRICT",
                             verbose_name=_l("Window"))
    position = CharField(max_length=50, default="", verbose_name=_l("Position"))
    token = CharField(unique=True, max_length=32, default=new_token, verbose_name=_l("Public token"))
    active = BooleanField(default=True, index=True, verbose_name=_l("Active"))

    def __str__(self):
        return f"{self.name}（{self.number}）"


class Reason(BaseModel):
    """A reason tag offered with some rating levels (不满意 at least); retired ones stay for history."""
    title = CharField(unique=True, max_length=50, verbose_name=_l("Reason"))
    sort_order = IntegerField(default=0, index=True, verbose_name=_l("Order"))
    active = BooleanField(default=True, verbose_name=_l("Active"))
    # The levels this tag is offered with, comma-separated (v9): Haixing's reasons are all for 差评.
    levels = CharField(max_length=120, default="dissatisfied,very_dissatisfied", verbose_name=_l("Offered with"))

    def __str__(self):
        return self.title

    @property
    def level_set(self):
        return frozenset(filter(None, self.levels.split(",")))

    @classmethod
    def offered(cls, level=None):
        """Active tags, in order; with `level`, only those offered with that level."""
        rows = cls.select().where(cls.active).order_by(cls.sort_order, cls.id)
        return rows if level is None else [r for r in rows if level in r.level_set]


# Both scales' levels (app/scales.py says which scale offers which, and their grades).
LEVELS = (
    ("very_satisfied", _l("Very satisfied")),
    ("satisfied", _l("Satisfied")),
    ("basically_satisfied", _l("Basically satisfied")),
    ("average", _l("Average")),
    ("dissatisfied", _l("Dissatisfied")),
    ("very_dissatisfied", _l("Very dissatisfied")),
)

CHANNELS = (
    ("kiosk", _l("Hall kiosk")),
    ("qr", _l("QR scan")),
    ("hotline", _l("Hotline")),
    ("web", _l("Web")),
    ("symposium", _l("Symposium")),
    ("visit", _l("Visit")),
    ("inspection", _l("Inspection")),
)


class Contact(BaseModel):
    """Who reported something. Kept apart so that only the commission ever joins it."""
    name = CharField(max_length=50, default="", verbose_name=_l("Name"))
    phone = CharField(max_length=20, default="", verbose_name=_l("Phone"))
    company = CharField(max_length=100, default="", verbose_name=_l("Company"))
    credit_code = CharField(max_length=18, default="", verbose_name=_l("Credit code"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created"))

    def __str__(self):
        return self.name or mask_phone(self.phone) or str(_l("Anonymous"))


class Evaluation(BaseModel):
    # Every index is written by every rating: the ones below earn their keep (v11 dropped three).
    # unit: served by the (unit, created_at) index.
    unit = ForeignKeyField(Unit, backref="evaluations", on_delete="RESTRICT", index=False, verbose_name=_l("Unit"))
    window = ForeignKeyField(Window, null=True, backref="evaluations", on_delete="RESTRICT",
                             verbose_name=_l("Window"))
    staff = ForeignKeyField(Staff, null=True, backref="evaluations", on_delete="RESTRICT",
                            verbose_name=_l("Staff"))
    level = CharField(max_length=24, choices=LEVELS, index=True, verbose_name=_l("Rating"))
    comment = TextField(default="", verbose_name=_l("Comment"))
    channel = CharField(max_length=16, choices=CHANNELS, index=True, verbose_name=_l("Channel"))
    # contact: only ever read from the evaluation's side.
    contact = ForeignKeyField(Contact, null=True, on_delete="RESTRICT", index=False, verbose_name=_l("Contact"))
    created_at = DateTimeField(default=now, index=True, verbose_name=_l("Time"))
    # An upheld appeal (误评/恶意差评) keeps the rating but leaves it out of the figures (v3);
    # nearly every row is False, so an index of its own would never be chosen.
    excluded = BooleanField(default=False, verbose_name=_l("Excluded after appeal"))
    # The page's one-time key: a double tap or a resent form does not count twice (v5).
    submission_key = CharField(max_length=40, null=True, unique=True)
    # 办件编号 of the service rated, when given: one case, one rating (一次一评) (v9).
    case_number = CharField(max_length=40, null=True, unique=True, verbose_name=_l("Case number"))

    class Meta:
        # A unit's own list, newest first (schema version 2).
        indexes = ((("unit", "created_at"), False),)

    def __str__(self):
        return f"#{self.id} {self.get_level_label()}"

    def get_level_label(self):
        return dict(LEVELS).get(self.level, self.level)


# The ratings excluded after an appeal: the few the tallies leave out, which the evaluations
# list counts beside them, read from this index alone (v16). Partial, so no other rating writes
# to it; the condition is the bare column, the one form SQLite matches against a query's WHERE.
Evaluation.add_index(Evaluation.index(Evaluation.created_at, Evaluation.unit, Evaluation.level,
                                      where=Evaluation.excluded, name="evaluation_excluded"))


class EvaluationReason(BaseModel):
    # evaluation: the composite primary key's own index starts with it (v11).
    evaluation = ForeignKeyField(Evaluation, backref="reason_links", on_delete="RESTRICT", index=False)
    reason = ForeignKeyField(Reason, backref="evaluation_links", on_delete="RESTRICT")

    class Meta:
        primary_key = CompositeKey("evaluation", "reason")


MESSAGE_KINDS = (
    ("opinion", _l("Opinion")),
    ("suggestion", _l("Suggestion")),
    ("appeal", _l("Appeal")),
    ("consultation", _l("Consultation")),
    ("complaint", _l("Complaint")),
    ("report", _l("Report")),
)

MESSAGE_STATUSES = (
    ("new", _l("New")),
    ("accepted", _l("Accepted as problem")),
    ("answered", _l("Answered")),
)


class Message(BaseModel):
    """A 留言 on the message board; one that needs handling becomes a Ticket."""
    kind = CharField(max_length=16, choices=MESSAGE_KINDS, index=True, verbose_name=_l("Kind"))
    unit = ForeignKeyField(Unit, null=True, backref="messages", on_delete="RESTRICT",
                           verbose_name=_l("Unit addressed"))
    content = TextField(verbose_name=_l("Content"))
    channel = CharField(max_length=16, choices=CHANNELS, default="web", index=True,
                        verbose_name=_l("Channel"))
    contact = ForeignKeyField(Contact, null=True, on_delete="RESTRICT", verbose_name=_l("Contact"))
    query_code = CharField(unique=True, max_length=16, default=new_query_code,
                           verbose_name=_l("Query code"))
    status = CharField(max_length=16, choices=MESSAGE_STATUSES, default="new", index=True,
                       verbose_name=_l("Status"))
    reply = TextField(default="", verbose_name=_l("Public reply"))
    created_at = DateTimeField(default=now, index=True, verbose_name=_l("Time"))

    def __str__(self):
        return f"#{self.id} {self.content[:20]}"


TICKET_STATUSES = (
    ("open", _l("Open")),
    ("closed", _l("Closed")),
)

CLOSING_KINDS = (
    ("solved", _l("Solved")),
    ("explained", _l("Explained")),
    ("not_accepted", _l("Not accepted")),
    ("merged", _l("Merged into another ticket")),
)

ALERT_LEVELS = (
    (0, _l("On time")),
    (1, _l("Reminded")),
    (2, _l("Yellow card")),
    (3, _l("Red card")),
)

GRADES = (
    ("satisfied", _l("Satisfied")),
    ("basically_satisfied", _l("Basically satisfied")),
    ("dissatisfied", _l("Dissatisfied")),
)

OUTCOMES = (
    ("rectify", _l("Ordered to rectify")),
    ("criticism", _l("Criticism and education")),
    ("talk", _l("Reminder talk")),
    ("notice", _l("Circulated notice")),
    ("dismissal", _l("Dismissed from post")),
)


class Symposium(BaseModel):
    """A 座谈会 (e.g. 纪企直通车 with companies): the issues raised become a list of tickets (v7)."""
    title = CharField(max_length=100, verbose_name=_l("Meeting"))
    place = CharField(max_length=100, default="", verbose_name=_l("Place"))
    held_on = DateField(verbose_name=_l("Date"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created"))

    def __str__(self):
        return f"{self.held_on} {self.title}"


class User(BaseModel):
    username = CharField(unique=True, max_length=50, verbose_name=_l("Username"))
    full_name = CharField(max_length=50, default="", verbose_name=_l("Full name"))
    password_hash = CharField(max_length=255, verbose_name=_l("Password"))
    role = CharField(max_length=16, index=True, verbose_name=_l("Role"))
    unit = ForeignKeyField(Unit, null=True, backref="users", on_delete="RESTRICT",
                           verbose_name=_l("Unit"))
    active = BooleanField(default=True, verbose_name=_l("Active"))
    # The officer on the roster this account belongs to, if any: a ticket about that officer is
    # never shown to this account (v21).
    staff = ForeignKeyField(Staff, null=True, on_delete="RESTRICT", verbose_name=_l("Staff record"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created"))
    last_login_at = DateTimeField(null=True, verbose_name=_l("Last login"))
    # Set when an administrator gives the password: its owner must choose a new one first (v19).
    must_change_password = BooleanField(default=False, verbose_name=_l("Must change password"))
    # Part of every session's login id: a new one at logout or password change ends every
    # session opened before, a copied cookie included (v19).
    session_token = CharField(max_length=32, default=new_session_token)
    password_changed_at = DateTimeField(null=True, verbose_name=_l("Password changed"))
    # The second factor (app/totp.py): its secret, and the last code's time step, never accepted twice.
    totp_secret = CharField(max_length=64, default="")
    totp_last_step = IntegerField(default=0)

    def __str__(self):
        return f"{self.full_name or self.username}（{self.username}）"

    # Flask-Login
    @property
    def is_active(self):
        return self.active

    is_authenticated = True
    is_anonymous = False

    def get_id(self):
        return f"{self.id}:{self.session_token}"

    def end_sessions(self):
        """Every session opened before now is refused from the next request on."""
        self.session_token = new_session_token()

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)
        self.password_changed_at = now()

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)


class LoginThrottle(BaseModel):
    """Failed logins per typed username, known or not, so both get the same answer (v19)."""
    username = CharField(primary_key=True, max_length=50)
    failures = IntegerField(default=0)
    locked_until = DateTimeField(null=True)


class TrackThrottle(BaseModel):
    """Wrong phone digits typed at 进度查询 per query code, existing or not, and its lock (v26)."""
    code = CharField(primary_key=True, max_length=16)
    failures = IntegerField(default=0)
    first_at = DateTimeField()  # of the failures counted now: an hour later they no longer count
    last_at = DateTimeField(index=True)
    locked_until = DateTimeField(null=True)


class Ticket(BaseModel):
    """A problem (问题/工单) driven to a documented result within a deadline."""
    code = CharField(unique=True, max_length=32, verbose_name=_l("Ticket number"))
    title = CharField(max_length=200, verbose_name=_l("Summary"))
    content = TextField(verbose_name=_l("Content"))
    source = CharField(max_length=16, choices=CHANNELS, index=True, verbose_name=_l("Source"))
    unit = ForeignKeyField(Unit, null=True, backref="tickets", on_delete="RESTRICT",
                           verbose_name=_l("Unit concerned"))
    window = ForeignKeyField(Window, null=True, on_delete="RESTRICT", verbose_name=_l("Window"))
    staff = ForeignKeyField(Staff, null=True, on_delete="RESTRICT", verbose_name=_l("Staff concerned"))
    # handling_unit: served by the (handling_unit, created_at) index (v11).
    handling_unit = ForeignKeyField(Unit, null=True, backref="handled_tickets", on_delete="RESTRICT", index=False,
                                    verbose_name=_l("Handling unit"))
    # contact: only ever read from the ticket's side (v11).
    contact = ForeignKeyField(Contact, null=True, on_delete="RESTRICT", index=False, verbose_name=_l("Contact"))
    evaluation = ForeignKeyField(Evaluation, null=True, on_delete="RESTRICT",
                                 verbose_name=_l("Evaluation"))
    message = ForeignKeyField(Message, null=True, backref="tickets", on_delete="RESTRICT",
                              verbose_name=_l("Message"))
    query_code = CharField(unique=True, max_length=16, default=new_query_code,
                           verbose_name=_l("Query code"))
    workflow = CharField(max_length=32, default="problem", verbose_name=_l("Workflow"))
    stage = CharField(max_length=32, default="accept", index=True, verbose_name=_l("Stage"))
    # status: first in the open problems' index (Meta), v15.
    status = CharField(max_length=16, choices=TICKET_STATUSES, default="open", index=False,
                       verbose_name=_l("Status"))
    deadline = DateField(null=True, index=True, verbose_name=_l("Deadline"))
    handler = ForeignKeyField(User, null=True, on_delete="RESTRICT", verbose_name=_l("Handler"))
    result = TextField(default="", verbose_name=_l("Result"))  # internal: never shown to the citizen
    # 答复群众: the only text about the handling a citizen ever reads (/track, the API, her SMS);
    # written by the step that answers her, apart from every internal result and comment (v22).
    reply = TextField(default="", verbose_name=_l("Public reply"))
    replied_at = DateTimeField(null=True, verbose_name=_l("Replied at"))
    reply_unit = ForeignKeyField(Unit, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Answering unit"))
    # closing_kind: in the closed problems' index (Meta), v15; three values, no index of its own.
    closing_kind = CharField(max_length=16, choices=CLOSING_KINDS, null=True, index=False,
                             verbose_name=_l("Closing kind"))
    outcome = CharField(max_length=16, choices=OUTCOMES, null=True, verbose_name=_l("Accountability"))
    # created_at, closed_at: indexed with the columns the figures count by (Meta), v15.
    created_at = DateTimeField(default=now, index=False, verbose_name=_l("Accepted at"))
    closed_at = DateTimeField(null=True, index=False, verbose_name=_l("Closed at"))
    # Written only by the workflow engine (schema version 3).
    workflow_version = IntegerField(default=1, verbose_name=_l("Workflow version"))
    revision = IntegerField(default=0)  # bumped by every action: two officers cannot both win
    classification = CharField(max_length=50, default="", verbose_name=_l("Classification"))
    stage_entered_at = DateTimeField(null=True, verbose_name=_l("Stage entered"))
    due_at = DateTimeField(null=True, index=True, verbose_name=_l("Due"))
    deadline_estimated = BooleanField(default=False, verbose_name=_l("Deadline beyond the known calendar"))
    next_alert_at = DateTimeField(null=True, index=True)  # the sweep's indexed range
    alert_level = IntegerField(default=0, choices=ALERT_LEVELS, index=True, verbose_name=_l("Warning"))
    paused_at = DateTimeField(null=True, verbose_name=_l("Paused since"))
    transfers = IntegerField(default=0, verbose_name=_l("Transfers"))
    extension_requested = IntegerField(null=True, verbose_name=_l("Extension requested"))
    supervised = BooleanField(default=False, index=True, verbose_name=_l("On the supervision list"))
    grade = CharField(max_length=24, null=True, choices=GRADES, verbose_name=_l("Revisit grade"))
    # merged_into: followed forwards only, by id (v11).
    merged_into = ForeignKeyField("self", null=True, backref="merged", on_delete="RESTRICT", index=False,
                                  verbose_name=_l("Merged into"))
    symposium = ForeignKeyField(Symposium, null=True, backref="tickets", on_delete="RESTRICT",
                                verbose_name=_l("Meeting"))  # v7
    # A limit agreed for this one matter (a symposium's 限期), in working days from its receipt;
    # it replaces the workflow's overall limit, the stage deadline counted `from: created` (v10).
    time_limit = IntegerField(null=True, verbose_name=_l("Agreed time limit (working days)"))
    # Opened for a 差评 that still counts (an upheld appeal clears it): the 整改率 and 回访率 of
    # the national indicators are read from the tickets alone, without a million ratings (v15).
    bad_rating = BooleanField(default=False)
    # A ticket merged into another (closing_kind "merged") takes that problem's outcome when it
    # closes: solved or explained, and its revisit grade, so a 差评 merged into one matter keeps its
    # credit in 整改率 and 回访率 (v24).
    settled_as = CharField(max_length=16, null=True)

    class Meta:
        # A handling unit's own list, newest first (schema version 2). The dashboard's counts
        # read only these indexes, never the rows (v15): problems accepted, and closed.
        indexes = ((("handling_unit", "created_at"), False),
                   (("created_at", "symposium", "merged_into", "handling_unit"), False),
                   (("closed_at", "status", "closing_kind", "supervised", "symposium", "merged_into",
                     "handling_unit"), False),
                   (("status", "symposium", "merged_into", "handling_unit", "due_at"), False))

    def __str__(self):
        return f"{self.code} {self.title}"

    @classmethod
    def solved(cls):
        return cls.select().where(cls.status == "closed", cls.closing_kind == "solved")


# Partial, so small: the 差评 tickets, for the national figures.
Ticket.add_index(Ticket.index(Ticket.created_at, Ticket.unit, Ticket.status, Ticket.closing_kind, Ticket.grade,
                              Ticket.bad_rating, name="ticket_bad_rating_figures", where=Ticket.bad_rating))
# Partial, so small: the tickets merged into each problem, found when that problem closes (v24).
Ticket.add_index(Ticket.index(Ticket.merged_into, name="ticket_merged", where=Ticket.merged_into.is_null(False)))


class TicketEvent(BaseModel):
    """One step in a ticket's history: who did what, when, from which stage to which."""
    # ticket: served by the (ticket, created_at) index (v11).
    ticket = ForeignKeyField(Ticket, backref="events", on_delete="RESTRICT", index=False, verbose_name=_l("Ticket"))
    actor = ForeignKeyField(User, null=True, on_delete="RESTRICT", verbose_name=_l("Actor"))
    action = CharField(max_length=32, verbose_name=_l("Action"))
    from_stage = CharField(max_length=32, default="", verbose_name=_l("From stage"))
    to_stage = CharField(max_length=32, default="", verbose_name=_l("To stage"))
    comment = TextField(default="", verbose_name=_l("Comment"))
    created_at = DateTimeField(default=now, index=True, verbose_name=_l("Time"))
    role = CharField(max_length=16, default="", verbose_name=_l("Role"))  # v3
    title = CharField(max_length=100, default="", verbose_name=_l("Step"))  # v3: as the rule named it
    data = TextField(default="", verbose_name=_l("Detail"))  # v3: JSON of the other fields filled in

    class Meta:
        indexes = ((("ticket", "created_at"), False),)


class AuditLog(BaseModel):
    """Who did what and when; rows are only ever added, each sealing the one before (app/audit.py)."""
    actor = ForeignKeyField(User, null=True, on_delete="RESTRICT", verbose_name=_l("Actor"))
    username = CharField(max_length=50, default="", verbose_name=_l("Username"))
    action = CharField(max_length=32, index=True, verbose_name=_l("Action"))
    object_type = CharField(max_length=32, default="", verbose_name=_l("Object type"))
    object_id = CharField(max_length=64, default="", verbose_name=_l("Object"))
    detail = TextField(default="", verbose_name=_l("Detail"))
    ip = CharField(max_length=64, default="", verbose_name=_l("IP address"))
    created_at = DateTimeField(default=now, index=True, verbose_name=_l("Time"))
    prev_hash = CharField(max_length=64, default="")  # v20
    row_hash = CharField(max_length=64, default="", verbose_name=_l("Seal"))  # v20

    # The sealing writer (app/audit.py), which knows the key: it registers itself on import, so that
    # the models, the lowest layer, import nothing of the services above them.
    append = None

    @classmethod
    def record(cls, action, user=None, obj=None, detail="", ip=""):
        if cls.append is None:
            raise RuntimeError("app.audit is not loaded: audit rows are written only through its seal")
        return cls.append(
            actor=user.id if user is not None and getattr(user, "id", None) else None,
            username=getattr(user, "username", "") or "",
            action=action,
            object_type=type(obj).__name__ if obj is not None else "",
            object_id=str(obj._pk) if obj is not None else "",
            detail=detail, ip=ip or "", created_at=now())


ACCOUNT_REQUEST_KINDS = (
    ("grant", _l("Grant a role")),
    ("password", _l("Reset the password")),
    ("second_factor", _l("Reset the second factor")),
)
ACCOUNT_REQUEST_STATUSES = (
    ("pending", _l("Awaiting approval")),
    ("approved", _l("Approved")),
    ("rejected", _l("Rejected")),
    ("withdrawn", _l("Withdrawn")),
)


class AccountRequest(BaseModel):
    """A change to a commission or auditor account that two people make (v25): the security
    administrator asks, a commission leader approves, and only then is it applied."""
    user = ForeignKeyField(User, backref="account_requests", on_delete="RESTRICT", verbose_name=_l("Account"))
    kind = CharField(max_length=16, choices=ACCOUNT_REQUEST_KINDS, verbose_name=_l("Request"))
    role = CharField(max_length=16, default="", verbose_name=_l("Role"))  # the role a grant gives
    reason = TextField(verbose_name=_l("Reason for the request"))
    requested_by = ForeignKeyField(User, on_delete="RESTRICT", verbose_name=_l("Requested by"))
    requested_at = DateTimeField(default=now, verbose_name=_l("Requested"))
    status = CharField(max_length=16, default="pending", index=True, choices=ACCOUNT_REQUEST_STATUSES,
                       verbose_name=_l("Status"))
    decided_by = ForeignKeyField(User, null=True, on_delete="RESTRICT", verbose_name=_l("Approved or rejected by"))
    decided_at = DateTimeField(null=True, verbose_name=_l("Decided at"))
    decision = TextField(default="", verbose_name=_l("Decision note"))


class ScopeProbe(BaseModel):
    """An officer's look-ups of rows outside his scope, gathered until they go into the audit trail (v27)."""
    user = ForeignKeyField(User, primary_key=True, on_delete="RESTRICT")
    since = DateTimeField()  # when his last audit row of this kind was written
    count = IntegerField(default=0)  # look-ups since then, not yet in the trail
    rows = TextField(default="")  # the first of them, "Ticket 12, Evaluation 7"
    ip = CharField(max_length=64, default="")


class ApiToken(BaseModel):
    """A machine's key to the officer endpoints of the open API; only its hash is kept (v6)."""
    user = ForeignKeyField(User, backref="api_tokens", on_delete="RESTRICT", verbose_name=_l("Account"))
    name = CharField(max_length=100, verbose_name=_l("Name"))
    token_hash = CharField(max_length=64, unique=True)
    active = BooleanField(default=True, verbose_name=_l("Active"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created"))
    last_used_at = DateTimeField(null=True, verbose_name=_l("Last used"))


class FraudSignal(BaseModel):
    """A pattern in ratings the commission should look at; the ratings themselves are kept (v8)."""
    kind = CharField(max_length=24, index=True, verbose_name=_l("Kind"))  # burst | officer_device | uncased_praise
    unit = ForeignKeyField(Unit, on_delete="RESTRICT", verbose_name=_l("Unit"))
    window = ForeignKeyField(Window, null=True, on_delete="RESTRICT", verbose_name=_l("Window"))
    evaluation = ForeignKeyField(Evaluation, null=True, on_delete="RESTRICT", verbose_name=_l("Evaluation"))
    detail = TextField(default="", verbose_name=_l("Detail"))
    bucket = CharField(max_length=40, default="", index=True)  # one burst signal per window and period
    created_at = DateTimeField(default=now, index=True, verbose_name=_l("Time"))


class CoHandling(BaseModel):
    """A co-handling unit (协办单位) of a ticket; the lead unit waits for its answer (v4)."""
    ticket = ForeignKeyField(Ticket, backref="co_handling", on_delete="RESTRICT", verbose_name=_l("Ticket"))
    unit = ForeignKeyField(Unit, on_delete="RESTRICT", verbose_name=_l("Unit"))
    active = BooleanField(default=True)  # a later transfer replaces the set; rows stay as history
    answer = TextField(default="", verbose_name=_l("Answer"))
    answered_at = DateTimeField(null=True, verbose_name=_l("Answered at"))
    answered_by = ForeignKeyField(User, null=True, on_delete="RESTRICT", verbose_name=_l("Answered by"))
    created_at = DateTimeField(default=now)

    class Meta:
        indexes = ((("unit", "active"), False),)


class WorkflowVersion(BaseModel):
    """One accepted version of one workflow, never changed afterwards."""
    key = CharField(max_length=32, verbose_name=_l("Workflow"))
    version = IntegerField(verbose_name=_l("Version"))
    title = CharField(max_length=100, verbose_name=_l("Name"))
    note = TextField(default="", verbose_name=_l("Change note"))
    effective = DateField(verbose_name=_l("Effective"))
    canonical = TextField()  # the definition as stable JSON
    sha256 = CharField(max_length=64)
    created_by = ForeignKeyField(User, null=True, on_delete="RESTRICT", verbose_name=_l("Saved by"))
    created_at = DateTimeField(default=now, verbose_name=_l("Saved at"))

    class Meta:
        indexes = ((("key", "version"), True),)


class WorkflowFile(BaseModel):
    """Every accepted text of workflows.yaml, for the history and its diffs."""
    text = TextField()
    sha256 = CharField(max_length=64, index=True)
    origin = CharField(max_length=16, default="file")  # file | editor
    created_by = ForeignKeyField(User, null=True, on_delete="RESTRICT", verbose_name=_l("Saved by"))
    created_at = DateTimeField(default=now, index=True, verbose_name=_l("Saved at"))


class CalendarDay(BaseModel):
    """Whether a day is a working day: official holidays and 调休 make-up days included."""
    day = DateField(primary_key=True, verbose_name=_l("Date"))
    workday = BooleanField(verbose_name=_l("Working day"))
    name = CharField(max_length=50, default="", verbose_name=_l("Note"))
    origin = CharField(max_length=16, default="office", verbose_name=_l("Source"))

    def __str__(self):
        return self.day.isoformat()


class Notification(BaseModel):
    """The outbox: shown in the admin now; an SMS or mail gateway can send it later."""
    role = CharField(max_length=16, index=True, verbose_name=_l("Role"))
    # A notice to one account only (its role changed, its password was reset: v25); None: the role's.
    user = ForeignKeyField(User, null=True, on_delete="RESTRICT", verbose_name=_l("Account"))
    unit = ForeignKeyField(Unit, null=True, on_delete="RESTRICT", verbose_name=_l("Unit"))
    ticket = ForeignKeyField(Ticket, null=True, backref="notifications", on_delete="RESTRICT",
                             verbose_name=_l("Ticket"))
    kind = CharField(max_length=16, verbose_name=_l("Kind"))
    message = TextField(verbose_name=_l("Message"))
    channel = CharField(max_length=16, default="admin", verbose_name=_l("Channel"))
    created_at = DateTimeField(default=now, index=True, verbose_name=_l("Time"))
    sent_at = DateTimeField(null=True, verbose_name=_l("Sent at"))


CHANNEL_KINDS = (
    ("unit", _l("Unit group")),
    ("role", _l("Role group")),
    ("account", _l("Officer account")),
    ("citizen_sms", _l("Citizen SMS")),
)


def mask_url(url):
    """wecombot://****abcd: enough of a channel's address to recognise it, never its secret."""
    if not url:
        return ""
    scheme, sep, rest = url.partition("://")
    tail = rest.rstrip("/")[-4:] if len(rest) > 12 else ""
    return f"{scheme}{sep}****{tail}" if sep else "****"


class Channel(BaseModel):
    """Where notices go out (v23): a unit's or a role's group, an officer's mailbox, the citizen SMS gateway.

    `url` is an Apprise URL holding a webhook key or a password; it must be sent, so it is kept as
    it is, but no screen and no audit row ever shows more than its masked form.
    """
    title = CharField(max_length=100, verbose_name=_l("Title"))
    kind = CharField(max_length=16, choices=CHANNEL_KINDS, index=True, verbose_name=_l("Recipient"))
    unit = ForeignKeyField(Unit, null=True, on_delete="RESTRICT", verbose_name=_l("Unit"))
    role = CharField(max_length=16, default="", verbose_name=_l("Role"))
    user = ForeignKeyField(User, null=True, on_delete="RESTRICT", verbose_name=_l("Account"))
    url = TextField(verbose_name=_l("Address"))
    active = BooleanField(default=True, index=True, verbose_name=_l("Active"))
    created_at = DateTimeField(default=now, verbose_name=_l("Created"))

    def __str__(self):
        return f"{self.title} {mask_url(self.url)}"

    @property
    def masked_url(self):
        return mask_url(self.url)


DELIVERY_STATUSES = (
    ("pending", _l("Waiting to be sent")),
    ("sent", _l("Sent")),
    ("failed", _l("Sending failed")),
    ("skipped", _l("Not sent")),
)


class Delivery(BaseModel):
    """One notice on its way to one channel (v23), written with the action that caused it.

    The worker claims a row (`claim`, `claimed_until`), sends, then records; a row whose claim
    ran out (its worker died) is claimed again, so a crash repeats at most the one in flight.
    A citizen's phone is never stored here: the worker reads it from the contact when it sends.
    """
    notification = ForeignKeyField(Notification, backref="deliveries", on_delete="RESTRICT",
                                   verbose_name=_l("Notice"))
    channel = ForeignKeyField(Channel, backref="deliveries", on_delete="RESTRICT", verbose_name=_l("Channel"))
    status = CharField(max_length=16, choices=DELIVERY_STATUSES, default="pending", verbose_name=_l("Status"))
    attempts = IntegerField(default=0, verbose_name=_l("Attempts"))
    scheduled_at = DateTimeField(verbose_name=_l("Scheduled for"))
    next_attempt_at = DateTimeField(verbose_name=_l("Next attempt"))
    claim = CharField(max_length=32, default="")
    claimed_until = DateTimeField(null=True)
    last_error = TextField(default="", verbose_name=_l("Gateway's answer"))
    sent_at = DateTimeField(null=True, verbose_name=_l("Sent at"))
    created_at = DateTimeField(default=now, index=True, verbose_name=_l("Time"))

    class Meta:
        indexes = ((("status", "next_attempt_at"), False),)


class Attachment(BaseModel):
    """A file on a ticket (photo, 整改报告, scan), stored under instance/, served by role."""
    ticket = ForeignKeyField(Ticket, backref="attachments", on_delete="RESTRICT", verbose_name=_l("Ticket"))
    event = ForeignKeyField(TicketEvent, null=True, on_delete="RESTRICT")
    filename = CharField(max_length=200, verbose_name=_l("File name"))
    stored_name = CharField(max_length=100, unique=True)
    content_type = CharField(max_length=100)
    size = IntegerField(verbose_name=_l("Size"))
    uploaded_by = ForeignKeyField(User, null=True, on_delete="RESTRICT", verbose_name=_l("Uploaded by"))
    created_at = DateTimeField(default=now, verbose_name=_l("Time"))


ACCOUNTABILITY_KINDS = (
    ("rectify", _l("Ordered to rectify")),           # 责令整改
    ("criticism", _l("Criticism and education")),   # 批评教育
    ("reminder_talk", _l("Reminder talk")),         # 约谈提醒
    ("circular", _l("Circulated criticism")),       # 通报批评
    ("admonishment", _l("Admonishment talk")),      # 诫勉谈话
    ("dismissal", _l("Removed from post")),         # 免去职务
    ("referral", _l("Referred for investigation")), # 移送审查
)


class Accountability(BaseModel):
    """问责: a decision about a unit or one of its officers, usually on a ticket (v12)."""
    ticket = ForeignKeyField(Ticket, null=True, backref="accountability", on_delete="RESTRICT",
                             verbose_name=_l("Ticket"))
    unit = ForeignKeyField(Unit, backref="accountability", on_delete="RESTRICT", verbose_name=_l("Unit concerned"))
    staff = ForeignKeyField(Staff, null=True, backref="accountability", on_delete="RESTRICT",
                            verbose_name=_l("Person concerned"))
    kind = CharField(max_length=16, choices=ACCOUNTABILITY_KINDS, index=True, verbose_name=_l("Measure"))
    decided_on = DateField(index=True, verbose_name=_l("Decided on"))
    document_number = CharField(max_length=60, verbose_name=_l("Decision document number"))
    decider = CharField(max_length=60, verbose_name=_l("Decided by"))
    note = TextField(default="", verbose_name=_l("Facts and reasons"))
    created_by = ForeignKeyField(User, null=True, on_delete="RESTRICT", verbose_name=_l("Recorded by"))
    created_at = DateTimeField(default=now, verbose_name=_l("Recorded at"))

    def __str__(self):
        return f"{self.get_kind_label()} {self.document_number}"

    def get_kind_label(self):
        return dict(ACCOUNTABILITY_KINDS).get(self.kind, self.kind)


class CaseVolume(BaseModel):
    """办件量: cases a unit served in a month, entered by the hall, for the 主动评价率 (v13)."""
    unit = ForeignKeyField(Unit, backref="case_volumes", on_delete="RESTRICT", verbose_name=_l("Unit"))
    month = DateField(verbose_name=_l("Month (its first day)"))
    cases = IntegerField(verbose_name=_l("Cases served"))

    class Meta:
        indexes = ((("unit", "month"), True),)


class RatingTally(BaseModel):
    """Ratings counted per level, kept exact by the transaction that writes or excludes a rating (v14).

    The dashboard reads a year of a province's ratings from a few thousand of these rows instead
    of a million evaluations. One row per grain and key:
    - grain "u": a unit's ratings of a month, by channel;
    - grain "d": a unit's ratings of a day (period is the day), for the weekly trend;
    - grain "w" / "s": a window's / an officer's ratings of a month (subject is its id);
    - grain "r": a month's uses of one reason tag (subject) in a unit, by the rating's level;
    - grains "U", "W", "S", "R": the same by calendar year (period is 1 January).
    Ratings excluded after an appeal are not counted.
    """
    grain = CharField(max_length=1)
    period = DateField()  # the month's first day; the day itself for grain "d"
    unit = IntegerField()
    subject = IntegerField(default=0)
    channel = CharField(max_length=16, default="")
    very_satisfied = IntegerField(default=0)
    satisfied = IntegerField(default=0)
    basically_satisfied = IntegerField(default=0)
    average = IntegerField(default=0)
    dissatisfied = IntegerField(default=0)
    very_dissatisfied = IntegerField(default=0)

    class Meta:
        # The key is the primary key; on SQLite the rows are stored in its order (WITHOUT ROWID,
        # set by app.db.bind), so a period's rows are read in one sweep, without a lookup each.
        primary_key = CompositeKey("grain", "period", "unit", "subject", "channel")


class TicketTally(BaseModel):
    """Problems counted per month and unit, kept exact by triggers on the ticket table (v18).

    The database itself adds and takes away a ticket's counts whenever a ticket row is written,
    whatever code wrote it (app/ticket_tallies.py). One row per kind and key:
    - kind "a": problems accepted in the month (created_at), by handling unit;
    - kind "c": problems closed in the month (closed_at), by handling unit, with how they closed;
    - kind "b": tickets of a 差评 that still counts (bad_rating), by the month of the rating and
      the unit rated, with their rectification and revisit.
    Merged tickets are not problems of their own ("a", "c"); `symposium`: raised at a meeting.
    """
    kind = CharField(max_length=1)
    period = DateField()  # the month's first day
    unit = IntegerField()  # 0: none
    symposium = BooleanField(default=False)
    n = IntegerField(default=0)
    solved = IntegerField(default=0)
    explained = IntegerField(default=0)
    on_time = IntegerField(default=0)  # closed never having been on the supervision list
    rectified = IntegerField(default=0)
    revisited = IntegerField(default=0)
    pleased = IntegerField(default=0)

    class Meta:
        primary_key = CompositeKey("kind", "period", "unit", "symposium")


ALL_MODELS = (SystemSetting, Unit, Window, Staff, Reason, Contact, Evaluation, EvaluationReason,
              Message, Symposium, User, Ticket, TicketEvent, AuditLog, WorkflowVersion, WorkflowFile, CalendarDay,
              Notification, Attachment, CoHandling, ApiToken, FraudSignal, Accountability, CaseVolume,
              RatingTally, TicketTally, LoginThrottle, Channel, Delivery, AccountRequest, ScopeProbe,
              TrackThrottle)

__all__ = [m.__name__ for m in ALL_MODELS] + ["db", "fn", "JOIN", "ALL_MODELS", "mask_phone", "mask_url"]
