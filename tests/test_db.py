"""The database layer under the rating path: queued writers and statements built once."""
import threading

import pytest
from peewee import IntegrityError, InterfaceError, OperationalError, PostgresqlDatabase, SqliteDatabase

from app.db import RestartProofPostgresqlDatabase, insert_row, make_database
from models import Contact, Evaluation, Ticket, db


def sqlite_only():
    if not isinstance(db.obj, SqliteDatabase):
        pytest.skip("the writer queue is SQLite's")


def test_writers_of_one_process_take_turns_and_lose_nothing(conn, county):
    sqlite_only()
    errors = []

    def write(n):
        try:
            with db.connection_context():
                for i in range(25):
                    with db.atomic():
                        Contact.create(name=f"{n}-{i}")
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and Contact.select().count() == 200


def test_a_failed_transaction_lets_the_next_writer_in(conn, county):
    sqlite_only()
    with pytest.raises(IntegrityError):
        with db.atomic():
            Evaluation.create(unit=county["hall_a"], level="satisfied", channel="qr", submission_key="k" * 32)
            Evaluation.create(unit=county["hall_a"], level="satisfied", channel="qr", submission_key="k" * 32)
    done = threading.Event()

    def other():
        with db.connection_context(), db.atomic():
            Contact.create(name="下一位")
        done.set()

    threading.Thread(target=other).start()
    assert done.wait(5), "the writer lock was not released after the rollback"
    assert Evaluation.select().count() == 0


def test_insert_row_writes_what_save_would(conn, county):
    kwargs = dict(unit=county["hall_a"].id, window=county["w1"].id, level="dissatisfied", comment="排队太久",
                  channel="kiosk", submission_key="a" * 32, case_number="BA-0001")
    fast = insert_row(Evaluation(**kwargs))
    kwargs.update(submission_key="b" * 32, case_number="BA-0002")
    slow = Evaluation.create(**kwargs)
    columns = [f.name for f in Evaluation._meta.sorted_fields if f.name not in ("id", "submission_key", "case_number")]
    a, b = Evaluation.get_by_id(fast.id), Evaluation.get_by_id(slow.id)
    assert [getattr(a, c) for c in columns] == [getattr(b, c) for c in columns]
    assert fast.id != slow.id and a.case_number == "BA-0001"


def test_insert_row_of_a_ticket_keeps_its_defaults(conn, county):
    ticket = insert_row(Ticket(code="ZTC-2026-9999", title="标题", content="内容", source="web",
                               workflow="message", workflow_version=1, stage="register"))
    stored = Ticket.get_by_id(ticket.id)
    assert stored.status == "open" and stored.revision == ticket.revision and len(stored.query_code) == 12


def test_ticket_numbers_keep_counting_past_9999_and_never_repeat(conn, county):
    import datetime

    from app import tickets
    at = datetime.datetime(2026, 6, 1, 9, 0)
    insert_row(Ticket(code="ZTC-2026-9999", title="旧工单", content="", source="web", workflow="message",
                      workflow_version=1, stage="register"))
    codes = [tickets.open_ticket("message", title=f"留言{i}", content="", source="web", at=at).code for i in range(3)]
    assert codes == ["ZTC-2026-10000", "ZTC-2026-10001", "ZTC-2026-10002"]  # text order would say 9999 is last
    assert tickets.open_ticket("message", title="明年", content="", source="web",
                               at=datetime.datetime(2027, 1, 4, 9, 0)).code == "ZTC-2027-0001"


# --- PostgreSQL restarts: a pooled connection killed under the app is replaced, never a 500 ---
def postgres_only():
    if not isinstance(db.obj, PostgresqlDatabase):
        pytest.skip("PostgreSQL's restarts")


def backend_pid():
    return db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def terminate(app, pid):
    """What a restart of PostgreSQL does to a backend, done from another connection."""
    other = make_database(app.config["DATABASE_URL"], 1)
    with other.connection_context():  # waits up to 5 s for the backend to be gone
        assert other.execute_sql("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()[0]
    other.close_all()


def test_each_request_gives_its_connection_back_to_the_pool(client):
    for method, path in (("GET", "/api/v1/units"), ("GET", "/login"), ("GET", "/no-such-page"), ("POST", "/board")):
        client.open(path, method=method)
        assert db.is_closed() and not db.obj._in_use, path


def test_a_pooled_connection_killed_while_idle_is_replaced_without_an_error(app, client):
    postgres_only()
    assert client.get("/api/v1/units").status_code == 200
    pooled = [conn for _at, _n, conn in db.obj._connections]
    assert pooled, "the request gave its connection back to the pool"
    for conn in pooled:
        terminate(app, conn.get_backend_pid())
    assert client.get("/api/v1/units").status_code == 200


def test_a_connection_killed_between_statements_is_replaced_and_the_statement_run(app, conn):
    postgres_only()
    first = backend_pid()
    terminate(app, first)
    assert backend_pid() != first


def test_a_transaction_cut_short_by_a_restart_is_never_half_saved(app, conn):
    postgres_only()
    with pytest.raises((OperationalError, InterfaceError)):
        with db.atomic():
            Contact.create(name="前一半")
            terminate(app, backend_pid())
            Contact.create(name="后一半")  # not run again on a new connection: the first half is gone
    assert Contact.select().count() == 0


A_RATING = {"token": "x", "level": "satisfied", "submission_key": "a" * 32}  # as the API's schema wants it


def test_a_request_whose_transaction_the_restart_cut_is_answered_503_and_may_be_sent_again(app, client, monkeypatch):
    from app import ratings

    def cut_short(*args, **kwargs):
        with db.atomic():
            Contact.create(name="前一半")
            if isinstance(db.obj, PostgresqlDatabase):
                terminate(app, backend_pid())
                Contact.create(name="后一半")
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(ratings, "submit", cut_short)
    response = client.post("/api/v1/evaluations", json=A_RATING)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "unavailable"
    assert client.get("/api/v1/units").status_code == 200
    with db.connection_context():
        assert Contact.select().count() == 0


def test_a_request_that_found_the_database_down_is_answered_503_and_the_next_one_served(client, monkeypatch):
    real = db.obj.connect

    def down(*args, **kwargs):  # once, after waiting out connect_wait on PostgreSQL
        monkeypatch.setattr(db.obj, "connect", real)
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    monkeypatch.setattr(db.obj, "connect", down)
    assert client.get("/api/v1/units").status_code == 503
    assert client.get("/api/v1/units").status_code == 200
    assert db.is_closed() and not db.obj._in_use


def test_any_other_database_error_stays_a_fault(client, monkeypatch):
    from app import ratings

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(ratings, "submit", locked)
    with pytest.raises(OperationalError):  # TESTING propagates what a server logs and answers 500
        client.post("/api/v1/evaluations", json=A_RATING)


def test_a_request_waits_while_postgresql_starts_up(app, client, monkeypatch):
    postgres_only()
    import psycopg2
    starting, real, waits = ["the database system is starting up"] * 2, PostgresqlDatabase._connect, []

    def not_yet(self):
        if starting:
            raise psycopg2.OperationalError(f"FATAL:  {starting.pop()}")
        return real(self)

    db.obj.close_idle()  # the next request needs a new connection
    monkeypatch.setattr(PostgresqlDatabase, "_connect", not_yet)
    monkeypatch.setattr(db.obj, "_sleep", waits.append)
    assert client.get("/api/v1/units").status_code == 200
    assert starting == [] and len(waits) == 2


def test_a_server_that_stays_away_is_waited_for_then_reported():
    import socket
    with socket.socket() as s:  # a port nobody listens on: connection refused, at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits = []
    database = RestartProofPostgresqlDatabase("zt_nowhere", host="127.0.0.1", port=port, user="postgres",
                                              connect_wait=3.0, sleep=waits.append)
    with pytest.raises(OperationalError, match="(?i)refused"):
        database.connect()
    assert len(waits) > 3 and 2.0 < sum(waits) <= 3.0


def test_a_wrong_database_name_is_reported_at_once(app):
    postgres_only()
    waits = []
    settings = db.obj.connect_params
    database = RestartProofPostgresqlDatabase("zt_no_such_database", host=settings.get("host"),
                                              port=settings.get("port"), user=settings.get("user"),
                                              sleep=waits.append)
    with pytest.raises(OperationalError, match="does not exist"):
        database.connect()
    assert waits == []
