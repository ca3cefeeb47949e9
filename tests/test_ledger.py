"""台账: the problems ledger the office downloads, its columns, masking, filters and scope."""
import datetime
import io

import pytest
from openpyxl import load_workbook

from app import ledger, tickets
from models import Accountability, AuditLog, Contact, TicketEvent


@pytest.fixture
def problems(county, make_user):
    office = make_user("recorder", "office")
    old = datetime.datetime(2026, 3, 2, 9, 0)
    # A board message's title is the citizen's own first words: here, a formula.
    late = tickets.open_ticket("problem", title='=HYPERLINK("http://x","窗口办事拖拉")', content="材料齐全仍被要求跑三趟",
                               source="web", received_at=old, at=old, unit=county["hall_a"].id,
                               window=county["w1"].id, staff=county["s1"].id, handling_unit=county["hall_a"].id,
                               contact=Contact.create(name="王建国", phone="13812345678"))
    TicketEvent.create(ticket=late, role="leader", action="dispatch", title="批办监督检查室", comment="请监督检查室核实",
                       created_at=old)
    Accountability.create(ticket=late, unit=county["hall_a"], staff=county["s1"], kind="admonishment",
                          decided_on=datetime.date(2026, 4, 1), document_number="海纪发〔2026〕12号", decider="县纪委常委会",
                          created_by=office)
    fresh = tickets.open_ticket("enterprise", title="【物流】某公司", content="货车下不了高速", source="symposium",
                                unit=county["hall_b"].id, handling_unit=county["hall_b"].id,
                                contact=Contact.create(company="海兴锦绣服饰有限公司"))
    return late, fresh


def sheet_rows(response):
    assert response.status_code == 200, response.status_code
    data = response.data
    response.close()
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_the_office_downloads_the_ledger_as_the_office_keeps_it(client, login_as, problems):
    late, fresh = problems
    login_as("office")
    response = client.get("/admin/ledger/ledger.xlsx")
    assert response.status_code == 200
    rows = sheet_rows(response)
    assert rows[0] == [name for name, _width in ledger.COLUMNS]
    assert len(rows) == 3
    first = dict(zip(rows[0], rows[1]))
    assert first["序号"] == 1 and first["来源"] == "网页"
    assert first["反映人"] == "王** 138****5678"  # never the whole name or number
    assert first["被反映单位/人员"] == "县行政审批局、企业开办窗口、张丽娜"
    assert first["问题摘要"] == '\'=HYPERLINK("http://x","窗口办事拖拉")：材料齐全仍被要求跑三趟'  # text, not a formula
    assert first["批办意见"] == "请监督检查室核实" and first["承办单位"] == "县行政审批局"
    assert first["是否超期"] == "是" and first["问责情况"] == "诫勉谈话（海纪发〔2026〕12号）"
    assert first["受理时间"] == datetime.datetime(2026, 3, 2, 9, 0)
    second = dict(zip(rows[0], rows[2]))
    assert second["反映人"] == "海兴**公司" and second["是否超期"] == "否" and second["问责情况"] is None
    assert AuditLog.select().where(AuditLog.action == "export").count() == 1


def test_a_formula_in_citizen_text_stays_text():
    from app.spreadsheet import safe_cell  # the rule every export shares (tests/test_exports.py)
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-5") == "'-5" and safe_cell("正常文字") == "正常文字" and safe_cell(5) == 5


@pytest.mark.parametrize("query, expected", [
    ("start=2026-03-01&end=2026-03-31", 1),
    ("source=symposium", 1),
    ("state=overdue", 1),
    ("state=closed", 0),
    ("", 2),
])
def test_the_ledger_filters_by_period_source_and_state(client, login_as, problems, query, expected):
    login_as("leader")
    rows = sheet_rows(client.get(f"/admin/ledger/ledger.xlsx?{query}"))
    assert len(rows) - 1 == expected


def test_filter_by_unit(client, login_as, problems, county):
    login_as("inspector")
    rows = sheet_rows(client.get(f"/admin/ledger/ledger.xlsx?unit={county['hall_b'].id}"))
    assert len(rows) == 2 and rows[1][7] == "县医疗保障局"


def test_a_unit_sees_its_own_problems_and_no_trace_of_who_complained(client, login_as, problems, county):
    login_as("handler", county["hall_a"])
    rows = sheet_rows(client.get(f"/admin/ledger/ledger.xlsx?unit={county['hall_b'].id}"))
    assert len(rows) == 1  # another unit's, asked for by name: nothing
    rows = sheet_rows(client.get("/admin/ledger/ledger.xlsx"))
    assert len(rows) == 2 and rows[1][2] == "—" and "王" not in str(rows[1])


def test_a_bad_period_is_explained(client, login_as, problems):
    login_as("office")
    response = client.get("/admin/ledger/ledger.xlsx?start=2026-12-01&end=2026-01-01")
    assert response.status_code == 422 and "结束日期早于开始日期" in response.get_data(as_text=True)
    assert client.get("/admin/ledger/ledger.xlsx?start=昨天").status_code == 422


def test_many_rows_come_out_in_order_across_chunks(conn, county, monkeypatch):
    monkeypatch.setattr(ledger, "CHUNK", 7)
    base = datetime.datetime(2026, 5, 1, 9, 0)
    for i in range(23):
        tickets.open_ticket("message", title=f"留言{i}", content="内容", source="web", at=base,
                            received_at=base + datetime.timedelta(minutes=i % 5), handling_unit=county["hall_a"].id)
    rows = list(ledger.rows(ledger.Filters(), at=base + datetime.timedelta(days=1)))
    assert [r[0] for r in rows] == list(range(1, 24))
    assert [r[5] for r in rows] == sorted(r[5] for r in rows)
    assert len({r[4] for r in rows}) == 23
