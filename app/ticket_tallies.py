"""Problem tallies: the database counts tickets per month and unit, by triggers on the ticket table.

A ticket changes in many places (the workflow engine's actions, merges, the supervision list, an
upheld appeal, the sweeper, an import), and a count kept by each of them would be wrong the day
one is forgotten. So the database keeps them: a trigger on every insert, update of a counted
column and delete of a ticket takes the old row's counts away and adds the new row's, in the
statement's own transaction (SQLite and PostgreSQL alike). `check()` compares them with a
recount, `rebuild()` recounts; `flask tallies check|rebuild` runs both with the rating tallies.

The dashboard reads a province's year of problems (100,000 tickets) from about 1,500 rows here;
the part-months at either end of a period come from the ticket indexes, as before.
"""
from peewee import PostgresqlDatabase, fn

from models import Ticket, TicketTally, db

COUNTS = ("n", "solved", "explained", "on_time", "rectified", "revisited", "pleased")
# The ticket columns a tally depends on: an update of any other column fires nothing.
WATCHED = ("created_at", "closed_at", "status", "closing_kind", "supervised", "grade", "bad_rating",
           "handling_unit_id", "unit_id", "symposium_id", "merged_into_id", "settled_as")
PLEASED = ("satisfied", "basically_satisfied")
SETTLED = ("solved", "explained")  # how a problem closes when it was put right or answered


def _contributions(row, sign, postgres):
    """INSERT … ON CONFLICT statements adding `sign` times the counts of ticket `row` (NEW or OLD)."""
    def month(column):
        return f"date_trunc('month', {row}.{column})::date" if postgres else f"date({row}.{column}, 'start of month')"

    def when(condition):
        return f"CASE WHEN {condition} THEN {sign} ELSE 0 END"

    symposium = f"{row}.symposium_id IS NOT NULL"
    handling = f"COALESCE({row}.handling_unit_id, 0)"
    pleased = ", ".join(f"'{grade}'" for grade in PLEASED)
    kinds = [
        ("a", month("created_at"), handling, symposium, {"n": str(sign)}, f"{row}.merged_into_id IS NULL"),
        ("c", month("closed_at"), handling, symposium,
         {"n": str(sign), "solved": when(f"{row}.closing_kind = 'solved'"),
          "explained": when(f"{row}.closing_kind = 'explained'"), "on_time": when(f"NOT {row}.supervised")},
         f"{row}.status = 'closed' AND {row}.closed_at IS NOT NULL AND {row}.merged_into_id IS NULL"),
        ("b", month("created_at"), f"COALESCE({row}.unit_id, 0)", "FALSE" if postgres else "0",
         {"n": str(sign),
          "rectified": when(f"{row}.status = 'closed' AND ({row}.closing_kind IN ('solved', 'explained') "
                            f"OR {row}.settled_as IN ('solved', 'explained'))"),
          "revisited": when(f"{row}.grade IS NOT NULL"), "pleased": when(f"{row}.grade IN ({pleased})")},
         f"{row}.bad_rating"),
    ]
    table = TicketTally._meta.table_name
    statements = []
    for kind, period, unit, symposium_flag, counts, condition in kinds:
        values = [counts.get(name, "0") for name in COUNTS]
        statements.append(
            f"INSERT INTO {table} (kind, period, unit, symposium, {', '.join(COUNTS)}) "
            f"SELECT '{kind}', {period}, {unit}, {symposium_flag}, {', '.join(values)} WHERE {condition} "
            f"ON CONFLICT (kind, period, unit, symposium) DO UPDATE SET "
            + ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in COUNTS) + ";")
    return statements


def _trigger_sql():
    """The statements (re)creating the triggers for the bound database."""
    table = Ticket._meta.table_name
    watched = ", ".join(WATCHED)
    if isinstance(db.obj, PostgresqlDatabase):
        old, new = (" ".join(_contributions(row, sign, True)) for row, sign in (("OLD", -1), ("NEW", 1)))
        return [
            "CREATE OR REPLACE FUNCTION ticket_tally_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {old} END IF; IF TG_OP <> 'DELETE' THEN {new} END IF; "
            "RETURN NULL; END $$",
            f"DROP TRIGGER IF EXISTS ticket_tally_keep ON {table}",
            f"CREATE TRIGGER ticket_tally_keep AFTER INSERT OR DELETE OR UPDATE OF {watched} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ticket_tally_keep()",
        ]
    old, new = (" ".join(_contributions(row, sign, False)) for row, sign in (("OLD", -1), ("NEW", 1)))
    return [
        "DROP TRIGGER IF EXISTS ticket_tally_insert", "DROP TRIGGER IF EXISTS ticket_tally_update",
        "DROP TRIGGER IF EXISTS ticket_tally_delete",
        f"CREATE TRIGGER ticket_tally_insert AFTER INSERT ON {table} BEGIN {new} END",
        f"CREATE TRIGGER ticket_tally_update AFTER UPDATE OF {watched} ON {table} BEGIN {old} {new} END",
        f"CREATE TRIGGER ticket_tally_delete AFTER DELETE ON {table} BEGIN {old} END",
    ]


def install():
    """Create the triggers (again): at creation, by the v18 upgrade, and after a rebuild."""
    for statement in _trigger_sql():
        db.execute_sql(statement)


def installed():
    """The names of the tally triggers the database has."""
    if isinstance(db.obj, PostgresqlDatabase):
        rows = db.execute_sql("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                              (Ticket._meta.table_name,))
    else:
        rows = db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                              (Ticket._meta.table_name,))
    return sorted(name for (name,) in rows if name.startswith("ticket_tally"))


# --- recount --------------------------------------------------------------------------------------

def recount():
    """{(kind, period, unit, symposium): counts} from the tickets themselves: what the tallies must hold."""
    expected = {}

    def add(key, **counts):
        row = expected.setdefault(key, dict.fromkeys(COUNTS, 0))
        for name, n in counts.items():
            row[name] += n

    columns = [getattr(Ticket, name) for name in WATCHED]
    for t in Ticket.select(*columns).namedtuples().iterator():
        symposium = t.symposium is not None
        if t.merged_into is None:
            add(("a", _month(t.created_at), t.handling_unit or 0, symposium), n=1)
            if t.status == "closed" and t.closed_at is not None:
                add(("c", _month(t.closed_at), t.handling_unit or 0, symposium), n=1,
                    solved=int(t.closing_kind == "solved"), explained=int(t.closing_kind == "explained"),
                    on_time=int(not t.supervised))
        if t.bad_rating:
            add(("b", _month(t.created_at), t.unit or 0, False), n=1,
                rectified=int(t.status == "closed" and (t.closing_kind in SETTLED or t.settled_as in SETTLED)),
                revisited=int(t.grade is not None), pleased=int(t.grade in PLEASED))
    return {key: tuple(row[name] for name in COUNTS) for key, row in expected.items()}


def _month(at):
    from app.tallies import as_date
    return as_date(at).replace(day=1)


def stored():
    """{key: counts} as the tallies hold them, rows counting nothing left out."""
    from app.tallies import as_date
    out = {}
    fields = [TicketTally.kind, TicketTally.period, TicketTally.unit, TicketTally.symposium] + [
        getattr(TicketTally, name) for name in COUNTS]
    for kind, period, unit, symposium, *counts in TicketTally.select(*fields).tuples().iterator():
        if any(counts):
            out[(kind, as_date(period), unit, bool(symposium))] = tuple(counts)
    return out


def check():
    """The keys whose tallies differ from a recount: [] when the figures are exact."""
    expected, have = recount(), stored()
    return sorted(key for key in expected.keys() | have.keys() if expected.get(key) != have.get(key))


def rebuild():
    """Count the tallies again from the tickets, in one transaction; the triggers made anew."""
    expected = recount()
    with db.atomic():
        install()
        TicketTally.delete().execute()
        fields = [TicketTally.kind, TicketTally.period, TicketTally.unit, TicketTally.symposium] + [
            getattr(TicketTally, name) for name in COUNTS]
        rows = sorted(key + counts for key, counts in expected.items())
        for i in range(0, len(rows), 500):
            TicketTally.insert_many(rows[i:i + 500], fields=fields).execute()
    return len(rows)


# --- reading --------------------------------------------------------------------------------------

def sums(kind, first, after, unit_ids=None, symposium=None):
    """{count: n} summed over the whole months [first, after) (either None: open) of one kind."""
    from app.tallies import in_period
    query = in_period(TicketTally.select(*[fn.SUM(getattr(TicketTally, name)) for name in COUNTS])
                      .where(TicketTally.kind == kind), TicketTally, first, after, unit_ids)
    if symposium is not None:
        query = query.where(TicketTally.symposium == symposium)
    return dict(zip(COUNTS, (int(n or 0) for n in query.tuples()[0])))
