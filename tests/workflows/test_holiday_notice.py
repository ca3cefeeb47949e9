"""The State Council's notice, pasted as text, becomes the year's working-day calendar."""
import datetime as dt
from pathlib import Path

import chinese_calendar
import pytest

from app import calendar_edits, holiday_notice, workdays
from models import AuditLog, CalendarDay

# The published notices for 2017 (older style), 2025 and 2026, as the office would paste them.
NOTICES = Path(__file__).resolve().parent.parent / "data" / "holiday-notices"


def notice_text(year):
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


def year_days(year):
    day = dt.date(year, 1, 1)
    while day.year == year:
        yield day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize("year", [2017, 2025, 2026])
def test_each_published_notice_gives_the_official_calendar(conn, year):
    notice = holiday_notice.parse(notice_text(year))
    assert notice.year == year and notice.unread == [] and notice.warnings == []
    CalendarDay.delete().where(CalendarDay.day.year == year).execute()  # the library's copy, gone
    calendar_edits.import_notice(notice)
    table = dict(CalendarDay.select(CalendarDay.day, CalendarDay.workday).where(CalendarDay.day.year == year).tuples())
    assert len(table) == len(list(year_days(year)))
    wrong = [d for d in year_days(year) if table[d] != chinese_calendar.is_workday(d)]
    assert wrong == []
    assert calendar_edits.official_year(year)
    assert not any(workdays.current().official(d) is False for d in year_days(year))


def test_the_older_style_and_the_cross_month_ranges(conn):
    old = holiday_notice.parse(notice_text(2017))
    assert old.holidays[dt.date(2017, 1, 2)] == "元旦"  # "1月2日（星期一）补休"
    assert old.holidays[dt.date(2017, 4, 29)] == "劳动节"  # "与周末连休": the Saturday before
    assert old.workdays[dt.date(2017, 1, 22)] == "春节调休上班"
    new = holiday_notice.parse(notice_text(2025))
    assert {dt.date(2025, 5, 31), dt.date(2025, 6, 1), dt.date(2025, 6, 2)} <= set(new.holidays)
    assert new.holidays[dt.date(2025, 2, 4)] == "春节"
    assert holiday_notice.parse(notice_text(2026)).holidays[dt.date(2026, 1, 3)] == "元旦"  # "至3日"


@pytest.mark.parametrize("text, message", [
    ("", "没有读出年份"),
    ("今天天气很好，放假去公园。", "没有读出年份"),
    ("国务院办公厅关于2027年部分节假日安排的通知\n各地区要妥善安排好值班。", "没有读出任何放假日期"),
    ("x" * 30000, "文本太长"),
])
def test_text_that_is_no_notice_is_refused_in_chinese(conn, text, message):
    with pytest.raises(holiday_notice.NoticeError) as refused:
        holiday_notice.parse(text)
    assert message in str(refused.value)


def test_a_line_it_cannot_read_is_shown_and_a_wrong_weekday_is_questioned():
    notice = holiday_notice.parse("国务院办公厅关于2027年部分节假日安排的通知\n"
                                  "一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n"
                                  "二、春节：农历正月初一前后放假八天，具体另行通知。\n"
                                  "三、清明节：4月5日（周二）放假。\n")
    assert set(notice.holidays) == {dt.date(2027, 1, 1), dt.date(2027, 1, 2), dt.date(2027, 1, 3),
                                    dt.date(2027, 4, 5)}
    assert notice.unread == ["二、春节：农历正月初一前后放假八天，具体另行通知。"]
    assert any("周一" in w and "周二" in w for w in notice.warnings)  # 2027-04-05 is a Monday


def test_the_command_line_shows_then_saves(runner, conn):
    path = str(NOTICES / "2025.txt")
    CalendarDay.delete().where(CalendarDay.day.year == 2025).execute()
    shown = runner.invoke(args=["calendar", "import-notice", path, "--dry-run"])
    assert shown.exit_code == 0, shown.output
    assert "2025 年：放假 28 天，调休上班 5 天" in shown.output and "2025-01-26 周日 上班 春节调休上班" in shown.output
    assert CalendarDay.select().where(CalendarDay.day.year == 2025).count() == 0
    saved = runner.invoke(args=["calendar", "import-notice", path])
    assert saved.exit_code == 0 and "已保存 2025 年的工作日历" in saved.output
    assert CalendarDay.get_by_id(dt.date(2025, 10, 11)).workday is True
    assert AuditLog.select().where(AuditLog.action == "calendar_notice").count() == 1


def test_the_command_line_refuses_garbage(runner, conn, tmp_path):
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("这不是放假通知", encoding="utf-8")
    before = CalendarDay.select().count()
    result = runner.invoke(args=["calendar", "import-notice", str(garbage)])
    assert result.exit_code == 1 and "没有读出年份" in result.output and "Traceback" not in result.output
    assert CalendarDay.select().count() == before
