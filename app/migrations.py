"""Schema versions: a new database gets the current tables; an old one is upgraded in order.

Each migration runs in its own transaction together with the version bump, so a failed
upgrade leaves the database at the last good version, never half-changed.
"""
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator
from peewee import ModelIndex, PostgresqlDatabase

from models import ALL_MODELS, SystemSetting, db

VERSION_KEY = "schema_version"


def _migrator():
    if isinstance(db.obj, PostgresqlDatabase):
        return PostgresqlMigrator(db.obj)
    return SqliteMigrator(db.obj)


def v2_unit_list_indexes(migrator):
    """A unit handler's lists filter by unit and sort by time: index both together."""
    migrator.add_index("evaluation", ("unit_id", "created_at")).run()
    migrator.add_index("ticket", ("handling_unit_id", "created_at")).run()


def _literal(value):
    """A constant as SQL text, for a column's DEFAULT (where no parameter may stand)."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(int(value)) if isinstance(value, bool) else str(value)


def ensure_columns(migrator, model, names):
    """Add the model's columns that the table lacks (a later migration may have added them)."""
    table = model._meta.table_name
    present = {c.name for c in db.get_columns(table)}
    for name in names:
        field = model._meta.fields[name]
        if field.column_name in present:
            continue
        if isinstance(migrator, SqliteMigrator) and not field.null and field.default is not None \
                and not callable(field.default):
            # peewee's SQLite migrator adds NOT NULL by copying the table and dropping the old
            # one, which the rows of other tables pointing at it forbid: say the default instead.
            kind = db.get_sql_context().sql(field.ddl_datatype(db.get_sql_context())).query()[0]
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{field.column_name}" {kind} NOT NULL '
                           f"DEFAULT {_literal(field.db_value(field.default))}")
        else:
            migrator.add_column(table, field.column_name, field).run()
    for entry in getattr(model._meta, "indexes", ()):
        if not isinstance(entry, tuple):  # a ModelIndex (partial): the migration that needs it creates it
            continue
        index_fields, unique = entry
        columns = [model._meta.fields[f].column_name for f in index_fields]
        if not set(columns) <= present | {model._meta.fields[n].column_name for n in names}:
            continue  # over a column a later migration adds: that one creates it
        if not any(list(i.columns) == columns for i in db.get_indexes(table)):
            migrator.add_index(table, columns, unique).run()


def v3_workflow_engine(migrator):
    """The workflow engine: deadlines, versions, calendar, outbox, attachments, appeals."""
    from models import (Attachment, CalendarDay, Evaluation, Notification, Ticket, TicketEvent,
                        WorkflowFile, WorkflowVersion)
    ensure_columns(migrator, Evaluation, ["excluded"])
    ensure_columns(migrator, Ticket, [
        "workflow_version", "revision", "classification", "stage_entered_at", "due_at",
        "deadline_estimated", "next_alert_at", "alert_level", "paused_at", "transfers",
        "extension_requested", "supervised", "grade", "merged_into"])
    for name in ("due_at", "next_alert_at", "alert_level", "supervised"):
        column = Ticket._meta.fields[name].column_name
        if not any(list(i.columns) == [column] for i in db.get_indexes("ticket")):
            migrator.add_index("ticket", [column]).run()
    if not any(list(i.columns) == ["excluded"] for i in db.get_indexes("evaluation")):
        migrator.add_index("evaluation", ["excluded"]).run()
    ensure_columns(migrator, TicketEvent, ["role", "title", "data"])
    db.create_tables([WorkflowVersion, WorkflowFile, CalendarDay, Notification, Attachment], safe=True)


def v4_co_handling(migrator):
    """主办/协办: co-handling units that the lead unit waits for."""
    from models import CoHandling
    db.create_tables([CoHandling], safe=True)


def v5_submission_key(migrator):
    """One rating per service moment: the rating page's one-time key, unique."""
    from models import Evaluation
    ensure_columns(migrator, Evaluation, ["submission_key"])
    if not any(list(i.columns) == ["submission_key"] for i in db.get_indexes("evaluation")):
        migrator.add_index("evaluation", ["submission_key"], unique=True).run()


def v6_api_tokens(migrator):
    """Keys for the officer endpoints of the open API."""
    from models import ApiToken
    db.create_tables([ApiToken], safe=True)


def v7_symposia(migrator):
    """座谈会: a meeting and the tickets registered from it."""
    from models import Symposium, Ticket
    db.create_tables([Symposium], safe=True)
    ensure_columns(migrator, Ticket, ["symposium"])


def v8_fraud_signals(migrator):
    """Patterns in ratings flagged for the commission."""
    from models import FraudSignal
    db.create_tables([FraudSignal], safe=True)


def v9_rating_scales(migrator):
    """The national five-level scale: longer level ids, tags per level, 办件编号 once per case."""
    from models import Evaluation, Reason
    if isinstance(db.obj, PostgresqlDatabase):  # SQLite does not enforce a VARCHAR's length
        db.execute_sql("ALTER TABLE evaluation ALTER COLUMN level TYPE VARCHAR(24)")
    ensure_columns(migrator, Reason, ["levels"])
    ensure_columns(migrator, Evaluation, ["case_number"])
    if not any(list(i.columns) == ["case_number"] for i in db.get_indexes("evaluation")):
        migrator.add_index("evaluation", ["case_number"], unique=True).run()


def v10_agreed_time_limits(migrator):
    """限期 agreed for one matter, at a symposium."""
    from models import Ticket
    ensure_columns(migrator, Ticket, ["time_limit"])


def v11_lighter_rating_writes(migrator):
    """Indexes that no query needs (another index starts with the same column, or nobody filters
    by it alone), each written by every rating or ticket."""
    unused = {"evaluation": (["unit_id"], ["contact_id"], ["excluded"]), "evaluation_reason": (["evaluation_id"],),
              "ticket": (["handling_unit_id"], ["contact_id"], ["merged_into_id"]), "ticket_event": (["ticket_id"],)}
    for table, column_sets in unused.items():
        for index in db.get_indexes(table):
            if list(index.columns) in column_sets and not index.unique:
                migrator.drop_index(table, index.name).run()


def v12_accountability(migrator):
    """问责 records on tickets, units and officers."""
    from models import Accountability
    db.create_tables([Accountability], safe=True)


def v13_case_volumes(migrator):
    """办件量 per unit and month, for the 主动评价率."""
    from models import CaseVolume
    db.create_tables([CaseVolume], safe=True)


def v14_rating_tallies(migrator):
    """Ratings counted per month, day, window, officer and reason, for the dashboard at scale."""
    from app import tallies
    from models import RatingTally
    db.create_tables([RatingTally], safe=True)
    tallies.rebuild()


def v15_problem_figure_indexes(migrator):
    """The dashboard's problem counts from indexes alone; the 差评 tickets marked on the ticket;
    the rating tallies keyed by their own columns and counted by year as well, so counted anew."""
    from app import scales, tallies
    from models import Evaluation, RatingTally, Ticket
    db.drop_tables([RatingTally])
    db.create_tables([RatingTally])
    tallies.rebuild()
    ensure_columns(migrator, Ticket, ["bad_rating"])
    bad = Evaluation.select(Evaluation.id).where(Evaluation.level.in_(scales.BAD_LEVELS), ~Evaluation.excluded)
    Ticket.update(bad_rating=True).where(Ticket.evaluation.in_(bad), Ticket.workflow != "appeal").execute()
    for index in db.get_indexes("ticket"):  # each in a wider index now
        if list(index.columns) in (["created_at"], ["closed_at"], ["status"], ["closing_kind"]) and not index.unique:
            migrator.drop_index("ticket", index.name).run()
    create_present_indexes(Ticket)


def create_present_indexes(model):
    """The model's indexes over columns the table has now: one over a column a later migration adds
    is left to it (SQLite would otherwise index the column's name as a constant string)."""
    present = {c.name for c in db.get_columns(model._meta.table_name)}
    for index in model._meta.fields_to_index():
        if all(getattr(e, "column_name", None) in present for e in index._expressions):
            db.execute(index.safe())


def v16_excluded_ratings_index(migrator):
    """The ratings excluded after an appeal, in a partial index: the evaluations list counts them beside the tallies."""
    from models import Evaluation
    for index in Evaluation._meta.indexes:
        if isinstance(index, ModelIndex):  # partial: migrator.add_index cannot write its WHERE
            db.execute(index)


def v17_covering_tally_key(migrator):
    """PostgreSQL: the tally counts carried in the key's index (tallies.cover_key); SQLite has them in its rows."""
    from app import tallies
    tallies.cover_key()


def v18_ticket_tallies(migrator):
    """Problems counted per month and unit by triggers on the ticket table (app/ticket_tallies.py)."""
    from app import ticket_tallies
    from models import Ticket, TicketTally
    ensure_columns(migrator, Ticket, ["settled_as"])  # the v24 column the triggers count by
    db.create_tables([TicketTally], safe=True)
    ticket_tallies.rebuild()


def v19_accounts(migrator):
    """等保 accounts: first-login password change, sessions ended at logout, login lockout."""
    from models import LoginThrottle, User, new_session_token
    ensure_columns(migrator, User, ["must_change_password", "password_changed_at", "totp_secret", "totp_last_step"])
    if "session_token" not in {c.name for c in db.get_columns("user")}:
        # Each account its own token: a column default would give them all the same one.
        db.execute_sql("ALTER TABLE \"user\" ADD COLUMN session_token VARCHAR(32) NOT NULL DEFAULT ''")
        for user_id in [u.id for u in User.select(User.id)]:
            User.update(session_token=new_session_token()).where(User.id == user_id).execute()
    db.create_tables([LoginThrottle], safe=True)


def v20_audit_chain(migrator):
    """The audit trail sealed as a hash chain and made append-only (app/audit.py)."""
    from app import audit
    from models import AuditLog
    ensure_columns(migrator, AuditLog, ["prev_hash", "row_hash"])
    audit.seal_existing()
    audit.install()


def v21_accused_kept_apart(migrator):
    """Accounts linked to their roster entry, so that an officer never sees a ticket about him;
    enterprise tickets titled by their category and words, no longer by the company."""
    from app.appeals import enterprise_title
    from models import Ticket, User
    ensure_columns(migrator, User, ["staff"])
    for ticket in Ticket.select(Ticket.id, Ticket.classification, Ticket.content, Ticket.title).where(
            Ticket.workflow == "enterprise"):
        category = ticket.title[1:ticket.title.index("】")] if ticket.title.startswith("【") and "】" in ticket.title \
            else ticket.classification
        Ticket.update(title=enterprise_title(category, ticket.content)).where(Ticket.id == ticket.id).execute()


def v22_public_reply(migrator):
    """The public reply (答复群众) apart from the internal result. Old results stay internal:
    nothing written for the office alone is turned into an answer to the citizen."""
    from models import Ticket
    ensure_columns(migrator, Ticket, ["reply", "replied_at", "reply_unit"])


def v23_outbox(migrator):
    """The outbox goes out: channels (Apprise URLs) and one delivery row per notice and channel."""
    from models import Channel, Delivery
    db.create_tables([Channel, Delivery], safe=True)


def v24_merged_tickets_settled(migrator):
    """A ticket merged into a problem takes its outcome: the column, the index that finds the merged
    tickets of a problem, the tally triggers that count it, and the problems closed before."""
    from app import ticket_tallies, tickets
    from models import Ticket
    ensure_columns(migrator, Ticket, ["settled_as"])
    db.execute(next(i for i in Ticket._meta.indexes if getattr(i, "_name", "") == "ticket_merged").safe())
    ticket_tallies.install()  # the triggers now watch settled_as
    targets = Ticket.select(Ticket.merged_into).where(Ticket.merged_into.is_null(False)).distinct()
    for (target,) in targets.tuples():
        tickets.settle_merged(Ticket.get_by_id(target))


def v25_two_person_accounts(migrator):
    """三员分立 in fact: changes to commission and auditor accounts wait for a leader's approval,
    and a notice may be addressed to one account."""
    from models import AccountRequest, Notification
    db.create_tables([AccountRequest], safe=True)
    ensure_columns(migrator, Notification, ["user"])


def v26_track_lock(migrator):
    """Wrong phone digits at 进度查询 counted per query code: five lock the code for an hour."""
    from models import TrackThrottle
    db.create_tables([TrackThrottle], safe=True)


def v27_keyed_audit_seals(migrator):
    """The audit trail sealed with a key kept outside the database; INSERT OR REPLACE refused on SQLite;
    officers' look-ups outside their scope counted for the trail (app/probes.py)."""
    from app import audit
    from models import ScopeProbe
    audit.install()
    audit.start_sealing()
    db.create_tables([ScopeProbe], safe=True)


# version -> function(migrator) bringing the schema from version-1 to version.
# Version 1 is the first released schema (tests/data/schema_v1.*.sql).
MIGRATIONS = {
    2: v2_unit_list_indexes,
    3: v3_workflow_engine,
    4: v4_co_handling,
    5: v5_submission_key,
    6: v6_api_tokens,
    7: v7_symposia,
    8: v8_fraud_signals,
    9: v9_rating_scales,
    10: v10_agreed_time_limits,
    11: v11_lighter_rating_writes,
    12: v12_accountability,
    13: v13_case_volumes,
    14: v14_rating_tallies,
    15: v15_problem_figure_indexes,
    16: v16_excluded_ratings_index,
    17: v17_covering_tally_key,
    18: v18_ticket_tallies,
    19: v19_accounts,
    20: v20_audit_chain,
    21: v21_accused_kept_apart,
    22: v22_public_reply,
    23: v23_outbox,
    24: v24_merged_tickets_settled,
    25: v25_two_person_accounts,
    26: v26_track_lock,
    27: v27_keyed_audit_seals,
}

LATEST = max(MIGRATIONS, default=1)


def current_version():
    if not db.table_exists(SystemSetting._meta.table_name):
        return 0
    return int(SystemSetting.read(VERSION_KEY, "0"))


def _exclusive():
    """Several app processes may start at once: only one changes the schema at a time."""
    if isinstance(db.obj, PostgresqlDatabase):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
    # SQLite: the IMMEDIATE transaction already holds the write lock.


MIGRATION_LOCK = 0x7A7463  # "ztc"


def upgrade():
    """Create or upgrade the schema; returns (version before, version after)."""
    with db.connection_context():
        before = current_version()
        if before > LATEST:
            raise RuntimeError(
                f"数据库结构版本 {before} 比本程序支持的 {LATEST} 新：请升级程序，不要用旧程序打开新数据库。")
        with db.atomic():
            _exclusive()
            if current_version() == 0:  # read again under the lock
                db.create_tables(ALL_MODELS)
                from app import audit, tallies, ticket_tallies
                tallies.cover_key()
                ticket_tallies.install()
                audit.install()
                SystemSetting.write(VERSION_KEY, LATEST)
                return 0, LATEST
        for version in range(before + 1, LATEST + 1):
            with db.atomic():
                _exclusive()
                if current_version() >= version:  # another process got here first
                    continue
                MIGRATIONS[version](_migrator())
                SystemSetting.write(VERSION_KEY, version)
        return before, LATEST
