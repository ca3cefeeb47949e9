"""The supervision office edits the procedures in the browser, and the working-day calendar."""
import datetime as dt
import re
from pathlib import Path

from app import procedures, workdays
from models import CalendarDay, WorkflowFile
from tests.conftest import csrf_token
from tests.workflows.conftest import check_in_text_view

ROOT = Path(__file__).resolve().parent.parent.parent
SHIPPED = (ROOT / "workflows.yaml").read_text(encoding="utf-8")


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_procedures_are_drawn_by_the_app(client, login_as):
    login_as("leader")
    page = text(client.get("/admin/rules/overview/"))
    assert page.count("<svg") == 5 and "调查跟踪督办" in page and "批办监督检查室" in page
    assert "编辑流程规则" not in page  # the leader reads, the office edits
    assert client.get("/admin/rules/edit/").status_code == 403


def test_the_office_checks_then_saves_a_new_version(client, login_as):
    login_as("office")
    broken = SHIPPED.replace("to: approve", "to: aprove", 1)
    response = check_in_text_view(client, broken)
    token = csrf_token(client, "/admin/rules/edit/")
    assert response.status_code == 422
    assert "aprove" in text(response) and "approve" in text(response)
    base = WorkflowFile.get().id
    same_version = SHIPPED.replace("title: 平台受理", "title: 平台登记受理", 1)  # the version is the system's
    response = client.post("/admin/rules/edit/", data={"text": same_version, "save": "1", "base": base,
                                                       "csrf_token": token})
    assert response.status_code == 302
    assert procedures.workflow("problem").version == 3
    assert procedures.workflow("problem").stages["accept"].title == "平台登记受理"
    latest = WorkflowFile.select().order_by(WorkflowFile.id.desc()).first()
    diff = text(client.get(f"/admin/rules/history/{latest.id}/"))
    assert "- title: 平台受理" in diff and "+ title: 平台登记受理" in diff


def test_the_office_marks_a_local_holiday_and_deadlines_follow(client, login_as, conn):
    login_as("office")
    day = dt.date(2026, 3, 3)
    assert workdays.current().add_workdays(dt.date(2026, 3, 2), 1)[0] == day
    token = csrf_token(client, "/admin/calendar/")
    response = client.post("/admin/calendar/ajax/update/", data={
        "list_form_pk": day.isoformat(), "workday": "", "csrf_token": token})
    assert response.status_code == 200
    assert CalendarDay.get_by_id(day).origin == "office"
    assert workdays.current().add_workdays(dt.date(2026, 3, 2), 1)[0] == dt.date(2026, 3, 4)


def test_the_office_adds_next_year(client, login_as, conn):
    login_as("office")
    token = csrf_token(client, "/admin/calendar/")
    response = client.post("/admin/calendar/add-year/", data={"year": "2027", "csrf_token": token})
    assert response.status_code == 302
    assert CalendarDay.select().where(CalendarDay.day.year == 2027).count() == 365
    bad = client.post("/admin/calendar/add-year/", data={"year": "abc", "csrf_token": token},
                      follow_redirects=True)
    assert "请填写 2000 到 2100 之间的年份" in text(bad)


def test_a_reader_cannot_change_the_calendar(client, login_as, conn):
    login_as("leader")
    token = csrf_token(client, "/admin/calendar/")
    response = client.post("/admin/calendar/ajax/update/", data={
        "list_form_pk": "2026-03-03", "workday": "", "csrf_token": token})
    assert response.status_code == 403
    assert CalendarDay.get_by_id(dt.date(2026, 3, 3)).workday is True


def test_after_adding_a_year_the_calendar_shows_that_year(client, login_as, conn):
    login_as("office")
    token = csrf_token(client, "/admin/calendar/")
    page = client.post("/admin/calendar/add-year/", data={"year": "2031", "csrf_token": token},
                       follow_redirects=True)
    body = text(page)
    assert "2031-01-01" in body and "无效的筛选器" not in body
