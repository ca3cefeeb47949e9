"""Model constraints: what the database itself refuses."""
import pytest
from peewee import IntegrityError

from models import (QUERY_ALPHABET, Evaluation, Message, Staff, Unit, Window, db, mask_phone,
                    new_query_code)


def test_window_numbers_are_unique_in_the_hall(county):
    with pytest.raises(IntegrityError), db.atomic():
        Window.create(unit=county["hall_b"], number="01", name="重复窗口")


def test_staff_numbers_are_unique(county):
    with pytest.raises(IntegrityError), db.atomic():
        Staff.create(unit=county["hall_a"], number="S1", name="王五")


def test_a_unit_with_history_cannot_be_deleted(county):
    Evaluation.create(unit=county["hall_a"], window=county["w1"], level="satisfied", channel="kiosk")
    with pytest.raises(IntegrityError), db.atomic():
        county["hall_a"].delete_instance()
    assert Unit.get_by_id(county["hall_a"].id)


def test_a_person_with_history_is_deactivated_not_deleted(county):
    Evaluation.create(unit=county["hall_a"], staff=county["s1"], level="satisfied", channel="qr")
    with pytest.raises(IntegrityError), db.atomic():
        county["s1"].delete_instance()
    county["s1"].active = False
    county["s1"].save()
    assert Staff.get_by_id(county["s1"].id).active is False


def test_tokens_and_query_codes_are_unguessable(county):
    assert county["w1"].token != county["w2"].token and len(county["w1"].token) >= 16
    codes = {new_query_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 12 and set(c) <= set(QUERY_ALPHABET) for c in codes)
    message = Message.create(kind="suggestion", content="建议增加座椅")
    assert len(message.query_code) == 12


def test_phone_numbers_are_masked():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("") == ""
    assert "1234" not in mask_phone("1234")


def test_a_township_owns_its_villages(county):
    ids = Unit.subtree_ids(county["township"].id)
    assert ids == {county["township"].id, county["village"].id}
