"""Formula injection (app/spreadsheet.py): citizen text in a CSV or Excel export never runs as a formula."""
import csv
import datetime
import io

import pytest
from openpyxl import load_workbook

from app import tallies, tickets
from app.spreadsheet import safe_cell
from models import CaseVolume, Evaluation

AT = datetime.datetime(2026, 10, 15, 9, 30)
# What a citizen may type, and what the spreadsheet must show.
COMMENTS = {
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "+1+1": "'+1+1",
    "-2+3": "'-2+3",
    "@SUM(A1)": "'@SUM(A1)",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
    "窗口服务很好，办事快": "窗口服务很好，办事快",
}


@pytest.mark.parametrize("value", [-3, 2.5, 0, None, AT, AT.date(), "", "正常文字", "1-2", "a=b"])
def test_numbers_dates_and_ordinary_text_are_left_alone(value):
    assert safe_cell(value) == value


@pytest.fixture
def rated(county):
    for minute, comment in enumerate(COMMENTS):
        tallies.record(Evaluation.create(unit=county["hall_a"], window=county["w1"], level="dissatisfied",
                                         channel="kiosk", comment=comment, created_at=AT + datetime.timedelta(minutes=minute)))


def column(rows, title):
    index = list(rows[0]).index(title)
    return [row[index] for row in rows[1:]]


def test_the_evaluations_csv_shows_citizen_formulas_as_text(client, login_as, rated):
    login_as("office")
    response = client.get("/admin/evaluation/export/csv/")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert sorted(column(rows, "意见")) == sorted(COMMENTS.values())
    assert "2026-10-15 09:30:00" in column(rows, "时间")  # dates come out as before


def test_the_evaluations_xlsx_holds_no_formula(client, login_as, rated):
    login_as("office")
    response = client.get("/admin/evaluation/export/xlsx/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    titles = [c.value for c in sheet[1]]
    cells = [row[titles.index("意见")] for row in sheet.iter_rows(min_row=2)]
    assert sorted(c.value for c in cells) == sorted(COMMENTS.values())
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert "2026-10-15 09:30:00" in [row[titles.index("时间")].value for row in sheet.iter_rows(min_row=2)]


def test_a_negative_number_is_exported_as_a_number(client, login_as, county):
    CaseVolume.create(unit=county["hall_a"], month=datetime.date(2026, 10, 1), cases=-3)  # a correction
    login_as("office")
    rows = list(csv.reader(io.StringIO(client.get("/admin/case_volume/export/csv/").get_data(as_text=True))))
    assert column(rows, "办件量") == ["-3"]


def test_the_ledger_holds_no_formula(client, login_as, county):
    for title in ("+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "窗口办事拖拉"):
        tickets.open_ticket("problem", title=title, content="材料齐全仍被要求跑三趟", source="web", received_at=AT, at=AT,
                            unit=county["hall_a"].id, handling_unit=county["hall_a"].id)
    login_as("office")
    response = client.get("/admin/ledger/ledger.xlsx")
    assert response.status_code == 200
    data = response.data
    response.close()  # the spooled file
    sheet = load_workbook(io.BytesIO(data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert sorted(column(rows, "问题摘要")) == sorted(f"{t}：材料齐全仍被要求跑三趟" for t in
                                                  ("'+1+1", "'-2+3", "'@SUM(A1)", "'\t=1+1", "窗口办事拖拉"))
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert column(rows, "序号") == [1, 2, 3, 4, 5]  # numbers and dates stay what they are
    assert set(column(rows, "受理时间")) == {AT}
