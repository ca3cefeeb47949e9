"""Officers of every role around the small county, and a clock for the workflow tests."""
import datetime as dt

import pytest

from app import tickets


@pytest.fixture
def officers(county, make_user, conn):
    from models import Unit
    commission = Unit.create(code="K01", name="县纪委监委", kind="commission")
    return {
        "office": make_user("office", "office", commission),
        "leader": make_user("leader", "leader", commission),
        "inspector": make_user("inspector", "inspector", commission),
        "handler_a": make_user("handler_a", "handler", county["hall_a"]),
        "handler_b": make_user("handler_b", "handler", county["hall_b"]),
    }


# Monday 2026-03-02, 09:00: a plain working week (no holiday within three weeks).
MONDAY = dt.datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def open_problem(officers, county):
    def open_(workflow="problem", at=MONDAY, **facts):
        facts.setdefault("unit", county["hall_a"])
        return tickets.open_ticket(workflow, title="窗口办事拖拉", content="材料齐全仍被要求跑三趟",
                                   source=facts.pop("source", "kiosk"), actor_user=officers["office"],
                                   at=at, **facts)
    return open_


def check_in_text_view(client, text):
    """The office presses 检查 in the text view of 流程规则 (a check: nothing is saved)."""
    from tests.conftest import csrf_token
    token = csrf_token(client, "/admin/rules/edit/")
    return client.post("/admin/rules/edit/", data={"text": text, "check": "1", "csrf_token": token})
