"""工作日历 in the browser: a range in one step, the State Council's notice, the month, the reminder."""
import datetime as dt
import re
from pathlib import Path

import pytest

from app import calendar_edits, holiday_notice
from models import AuditLog, CalendarDay
from tests.conftest import csrf_token, frozen_clock

D = dt.date
NOTICES = Path(__file__).resolve().parent.parent / "data" / "holiday-notices"


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.fixture
def today(monkeypatch):
    c = frozen_clock(monkeypatch, calendar_edits)
    c.now = dt.datetime(2026, 12, 1, 9, 0)
    return c


def test_the_list_opens_at_this_month_with_weekdays(client, login_as, today):
    login_as("leader")
    page = text(client.get("/admin/calendar/"))
    assert "2026-12-01" in page and "2026-12-31" in page and "2026-11-30" not in page and "2026-01-05" not in page
    assert "2026年12月" in page and "周二" in page  # 2026-12-01 is a Tuesday
    other = text(client.get("/admin/calendar/?month=2026-02"))
    assert "2026-02-16" in other and "2026-12-01" not in other
    found = text(client.get("/admin/calendar/?search=春节"))
    assert "2026-02-17" in found  # a search looks in every month


def test_a_range_of_holidays_in_one_step(client, login_as, today):
    login_as("office")
    token = csrf_token(client, "/admin/calendar/")
    response = client.post("/admin/calendar/range/", data={
        "first": "2026-12-24", "last": "2026-12-26", "kind": "holiday", "name": "县庆", "csrf_token": token})
    assert response.status_code == 302 and "month=2026-12" in response.headers["Location"]
    days = CalendarDay.select().where(CalendarDay.day.between(D(2026, 12, 24), D(2026, 12, 26)))
    assert [(d.workday, d.name, d.origin) for d in days] == [(False, "县庆", "office")] * 3
    assert AuditLog.select().where(AuditLog.action == "calendar_range").count() == 1
    client.post("/admin/calendar/range/", data={
        "first": "2026-12-26", "last": "2026-12-26", "kind": "workday", "name": "县庆调休上班", "csrf_token": token})
    assert CalendarDay.get_by_id(D(2026, 12, 26)).workday is True


@pytest.mark.parametrize("first, last, name, field, message", [
    ("2026-13-01", "2026-12-02", "假", "first", "日期请写成 2027-01-01 的样子"),
    ("", "2026-12-02", "假", "first", "请填写日期"),
    ("2026-12-05", "2026-12-02", "假", "last", "结束日期早于开始日期"),
    ("1999-12-31", "2000-01-02", "假", "first", "请填写 2000 年到 2100 年之间的日期"),
    ("2100-12-31", "2101-01-01", "假", "last", "请填写 2000 年到 2100 年之间的日期"),
    ("2026-01-01", "2027-06-01", "假", "last", "一次最多设置 366 天"),
    ("2026-12-01", "2026-12-02", " ", "name", "请填写名称"),
])
def test_a_wrong_range_is_refused_in_chinese_and_saves_nothing(client, login_as, today, first, last, name, field,
                                                               message):
    login_as("office")
    token = csrf_token(client, "/admin/calendar/")
    before = list(CalendarDay.select().order_by(CalendarDay.day).tuples())
    response = client.post("/admin/calendar/range/", data={
        "first": first, "last": last, "kind": "holiday", "name": name, "csrf_token": token})
    assert response.status_code == 400
    assert message in text(response) and "没有保存" in text(response)
    assert list(CalendarDay.select().order_by(CalendarDay.day).tuples()) == before


def test_a_form_without_its_token_saves_nothing(client, login_as, today):
    login_as("office")
    response = client.post("/admin/calendar/range/", data={
        "first": "2026-12-24", "last": "2026-12-24", "kind": "holiday", "name": "县庆"})
    assert response.status_code == 400 and CalendarDay.get_by_id(D(2026, 12, 24)).workday


@pytest.mark.parametrize("role", ["leader", "inspector", "auditor", "bureau"])
def test_only_the_office_changes_the_calendar(client, login_as, today, role):
    login_as(role)
    token = csrf_token(client, "/admin/calendar/")
    assert "range-form" not in text(client.get("/admin/calendar/"))
    for url in ("/admin/calendar/range/", "/admin/calendar/notice/"):
        assert client.get(url).status_code == 403
    assert client.post("/admin/calendar/range/", data={
        "first": "2026-12-24", "last": "2026-12-24", "kind": "holiday", "name": "县庆",
        "csrf_token": token}).status_code == 403
    assert client.post("/admin/calendar/notice/", data={
        "text": (NOTICES / "2026.txt").read_text(encoding="utf-8"), "confirm": "1",
        "csrf_token": token}).status_code == 403
    assert CalendarDay.get_by_id(D(2026, 12, 24)).workday


def test_the_notice_is_previewed_then_saved_on_confirmation(client, login_as, today):
    login_as("office")
    notice = (NOTICES / "2017.txt").read_text(encoding="utf-8")
    token = csrf_token(client, "/admin/calendar/notice/")
    preview = client.post("/admin/calendar/notice/", data={"text": notice, "preview": "1", "csrf_token": token})
    page = text(preview)
    assert preview.status_code == 200 and "2017年10月" in page and "zt-day-holiday" in page and "zt-day-work" in page
    assert "劳动节" in page and "1月22日（周日）" in page and "确认" in page
    assert CalendarDay.select().where(CalendarDay.day.year == 2017).count() == 0  # nothing saved yet
    saved = client.post("/admin/calendar/notice/", data={"text": notice, "confirm": "1", "csrf_token": token})
    assert saved.status_code == 302
    assert CalendarDay.select().where(CalendarDay.day.year == 2017, CalendarDay.origin == "notice").count() == 365
    assert CalendarDay.get_by_id(D(2017, 1, 22)).workday and not CalendarDay.get_by_id(D(2017, 1, 2)).workday


def test_confirming_reads_the_text_again(client, login_as, today):
    """The days saved are those of the text sent, never a list of days the page could have been given."""
    login_as("office")
    token = csrf_token(client, "/admin/calendar/notice/")
    client.post("/admin/calendar/notice/", data={
        "text": "国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：1月1日（周五）放假。",
        "days": "2027-03-03", "confirm": "1", "csrf_token": token})
    assert CalendarDay.get_by_id(D(2027, 1, 1)).workday is False
    assert CalendarDay.get_by_id(D(2027, 3, 3)).workday is True


def test_garbage_is_refused_in_chinese_and_saves_nothing(client, login_as, today):
    login_as("office")
    token = csrf_token(client, "/admin/calendar/notice/")
    count = CalendarDay.select().count()
    for button in ("preview", "confirm"):
        response = client.post("/admin/calendar/notice/", data={
            "text": "<script>alert(1)</script> 随便写的", button: "1", "csrf_token": token})
        assert response.status_code == 400
        assert "没有读出年份" in text(response) and "<script>alert(1)" not in text(response)
    assert CalendarDay.select().count() == count


def test_a_generated_year_stays_estimated_until_its_notice(client, login_as, today):
    login_as("office")
    token = csrf_token(client, "/admin/calendar/")
    client.post("/admin/calendar/add-year/", data={"year": "2027", "csrf_token": token})
    page = text(client.get("/admin/calendar/?month=2027-03"))
    assert page.count("推算") >= 31
    client.post("/admin/calendar/range/", data={
        "first": "2027-03-01", "last": "2027-03-01", "kind": "holiday", "name": "地方假日", "csrf_token": token})
    assert CalendarDay.get_by_id(D(2027, 3, 2)).origin == "weekend_rule"  # one day by hand ends no estimate
    assert not calendar_edits.official_year(2027)
    client.post("/admin/calendar/notice/", data={
        "text": "国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：1月1日（周五）至3日（周日）放假，共3天。",
        "confirm": "1", "csrf_token": token})
    assert calendar_edits.official_year(2027)
    assert "推算（" not in text(client.get("/admin/calendar/?month=2027-03")).replace("按周末推算", "")


@pytest.mark.parametrize("now, shown", [(dt.datetime(2026, 10, 31, 18), False), (dt.datetime(2026, 11, 1, 8), True),
                                        (dt.datetime(2026, 12, 31, 8), True)])
def test_from_november_the_office_is_reminded_of_next_years_notice(client, login_as, today, now, shown):
    today.now = now
    login_as("office")
    page = text(client.get("/admin/"))
    assert ("2027 年的放假通知还没有录入" in page) is shown
    if shown:
        assert "/admin/calendar/notice/" in page


def test_no_reminder_once_the_notice_is_in(client, login_as, today, conn):
    today.now = dt.datetime(2026, 11, 2, 9)
    calendar_edits.import_notice(holiday_notice.parse(
        "国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：1月1日（周五）至3日（周日）放假，共3天。"))
    login_as("office")
    assert "放假通知还没有录入" not in text(client.get("/admin/"))


def test_the_reminder_is_the_offices_alone(client, login_as, today):
    today.now = dt.datetime(2026, 11, 2, 9)
    login_as("leader")
    assert "放假通知还没有录入" not in text(client.get("/admin/"))
