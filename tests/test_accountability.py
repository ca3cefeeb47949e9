"""问责: the commission records measures on a ticket, a unit or an officer; units do not read them."""
import datetime

import pytest

from app import tickets
from models import Accountability
from tests.test_org_forms import post_form, text


@pytest.fixture
def ticket(county):
    return tickets.open_ticket("problem", title="窗口办事拖拉", content="材料齐全仍被要求跑三趟", source="web",
                               unit=county["hall_a"].id, handling_unit=county["hall_a"].id, staff=county["s1"].id)


def form(county, **extra):
    data = {"unit": county["hall_a"].id, "staff": county["s1"].id, "kind": "admonishment",
            "decided_on": "2026-11-20", "document_number": "海纪发〔2026〕12号", "decider": "县纪委常委会",
            "note": "多次刁难办事群众"}
    data.update(extra)
    return data


def test_the_office_records_a_measure_from_the_ticket(client, login_as, county, ticket):
    office = login_as("office")
    page = text(client.get(f"/admin/handle/{ticket.id}/"))
    assert "记录问责" in page
    url = f"/admin/accountability/new/?ticket={ticket.id}"
    prefilled = text(client.get(url))
    assert f'value="{ticket.code}"' in prefilled and "selected" in prefilled
    response = post_form(client, url, form(county, ticket_code=ticket.code))
    assert response.status_code == 302
    record = Accountability.get()
    assert (record.ticket_id, record.staff_id, record.kind, record.created_by_id) == \
        (ticket.id, county["s1"].id, "admonishment", office.id)
    page = text(client.get(f"/admin/handle/{ticket.id}/"))
    assert "诫勉谈话" in page and "海纪发〔2026〕12号" in page


@pytest.mark.parametrize("extra, message", [
    ({"staff": "S2"}, "不是县行政审批局的工作人员"),
    ({"ticket_code": "ZTC-2026-9999"}, "没有编号为 ZTC-2026-9999 的工单"),
    ({"decided_on": "2099-01-01"}, "决定日期不能晚于今天"),
    ({"document_number": "  "}, "必填"),
])
def test_a_wrong_record_is_explained_and_nothing_saved(client, login_as, county, extra, message):
    login_as("office")
    if extra.get("staff") == "S2":
        extra = dict(extra, staff=county["s2"].id)
    response = post_form(client, "/admin/accountability/new/", form(county, **extra))
    assert response.status_code in (200, 422) and message in text(response)
    assert Accountability.select().count() == 0


def test_listed_per_officer_and_never_deleted(client, login_as, county, make_user):
    recorder = make_user("insp", "inspector")
    for staff, number in ((county["s1"], "1号"), (county["s2"], "2号"), (county["s1"], "3号")):
        Accountability.create(unit=staff.unit_id, staff=staff, kind="criticism", decided_on=datetime.date(2026, 11, 2),
                              document_number=number, decider="县纪委监委", created_by=recorder)
    login_as("leader")
    filters = text(client.get("/admin/accountability/"))
    assert "列表 (3)" in filters
    # The person filter is the third: the officer's own record.
    page = text(client.get(f"/admin/accountability/?flt0_2={county['s1'].id}"))
    assert "列表 (2)" in page and "2号" not in page
    client.post("/admin/accountability/delete/", data={"id": Accountability.get().id})
    assert Accountability.select().count() == 3  # nothing is ever deleted from the screens


def test_units_and_the_leader_may_not_write_and_units_may_not_read(client, login_as, county, ticket):
    login_as("handler", county["hall_a"])
    assert client.get("/admin/accountability/").status_code == 403
    assert "问责" not in text(client.get(f"/admin/handle/{ticket.id}/"))
    client.delete_cookie("session")
    login_as("leader")
    assert client.get("/admin/accountability/").status_code == 200
    assert client.get("/admin/accountability/new/").status_code == 403
