"""A complaint about an officer reaches his unit, never the officer himself."""
import pytest

from app import ledger, tickets
from models import Notification, Ticket
from tests.conftest import csrf_token, login


@pytest.fixture
def complaint(county, make_user):
    """Two handlers of hall A; 张丽娜 (s1) has an account, and a ticket accuses her."""
    accused = make_user("zhang", "handler", county["hall_a"], staff=county["s1"])
    colleague = make_user("li", "handler", county["hall_a"])
    office = make_user("office1", "office")
    about = tickets.open_ticket("message", title="窗口人员态度差", content="张丽娜办事推诿", source="phone",
                                unit=county["hall_a"], staff=county["s1"])
    other = tickets.open_ticket("message", title="大厅空调不制冷", content="等候区太热", source="phone",
                                unit=county["hall_a"])
    for ticket in (about, other):  # accepted and handed to hall A, as the office does
        tickets.act(ticket.id, office, "accept", {})
        tickets.act(ticket.id, office, "own", {"unit": county["hall_a"].id, "classification": "服务态度"})
    about, other = Ticket.get_by_id(about.id), Ticket.get_by_id(other.id)
    for ticket in (about, other):  # the deadline reminder the sweep leaves for the unit's handlers
        Notification.create(role="handler", unit=county["hall_a"], ticket=ticket, kind="remind",
                            message=f"{ticket.code} {ticket.title} 明天到期")
    return {"accused": accused, "colleague": colleague, "about": about, "other": other}


def test_the_unit_handles_it_but_the_accused_officer_never_sees_it(app, complaint):
    about, other = complaint["about"], complaint["other"]
    seen = {}
    for name in ("zhang", "li"):
        client = app.test_client()
        login(client, name)
        seen[name] = {
            "list": client.get("/admin/ticket/").get_data(as_text=True),
            "page": client.get(f"/admin/handle/{about.id}/").status_code,
            "todo": client.get("/admin/todo/").get_data(as_text=True),
            "notifications": client.get("/admin/notifications/").get_data(as_text=True),
            "ledger": ledger.query(ledger.Filters(unit_ids=frozenset({about.handling_unit_id}),
                                                  reader_staff_id=complaint[
                                                      "accused" if name == "zhang" else "colleague"].staff_id)),
        }
    assert Notification.select().where(Notification.ticket == about.id).exists()  # the unit was told
    li, zhang = seen["li"], seen["zhang"]
    assert about.code in li["list"] and li["page"] == 200 and about.code in li["todo"]
    assert about.code not in zhang["list"] and zhang["page"] == 404 and about.code not in zhang["todo"]
    assert about.title not in zhang["notifications"] and about.title in li["notifications"]
    assert [t.id for t in zhang["ledger"]] == [other.id]
    assert {t.id for t in li["ledger"]} == {about.id, other.id}
    assert other.code in zhang["list"]  # the rest of the unit's work is still his


def test_the_accused_officers_api_todo_leaves_it_out(app, complaint):
    accused = complaint["accused"]
    assert complaint["about"].id not in [t.id for t in tickets.todo(accused)]
    assert complaint["about"].id in [t.id for t in tickets.todo(complaint["colleague"])]


def test_an_account_is_linked_only_to_staff_of_its_own_units(client, login_as, county):
    login_as("sysadmin")
    url = "/admin/user/new/"
    response = client.post(url, data={"username": "wang9", "role": "handler", "unit": county["hall_a"].id,
                                      "staff": county["s2"].id, "active": "y", "new_password": "Qing@2026xx",
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 422 and "工作人员" in response.get_data(as_text=True)
    response = client.post(url, data={"username": "wang9", "role": "handler", "unit": county["hall_a"].id,
                                      "staff": county["s1"].id, "active": "y", "new_password": "Qing@2026xx",
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    assert Ticket.select().count() == 0
