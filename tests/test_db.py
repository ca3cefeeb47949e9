"""The database layer under the rating path: queued writers and statements built once."""
import threading

import pytest
from peewee import IntegrityError, SqliteDatabase

from app.db import insert_row
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
