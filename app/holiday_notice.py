"""Reads the State Council's notice (国务院办公厅关于××××年部分节假日安排的通知) into days.

Pure: text in, a `Notice` out, no database. Understands the current style ("5月31日（周六）至6月2日
（周一）放假", "至3日", "1月26日（周日）、2月8日（周六）上班") and the older one ("1月1日放假，1月2日
（星期一）补休", "与周末连休"). Whatever it cannot read is returned line by line, never guessed.
"""
import datetime
import re
from dataclasses import dataclass, field

YEAR_TITLE = re.compile(r"关于\s*(\d{4})\s*年[^\n]{0,10}节假日安排")
YEAR_BODY = re.compile(r"现将\s*(\d{4})\s*年")
ITEM = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．]\s*([^：:]{1,30})[：:](.*)$")
# A date, its year optional, then an optional note in brackets: （周六）, （农历除夕、周二）, （星期一）.
DATE = r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日(?:[（(]([^）)]*)[）)])?"
END = r"(?:(?:(\d{4})年)?(\d{1,2})月)?(\d{1,2})日(?:[（(]([^）)]*)[）)])?"
RANGE = re.compile(DATE + r"\s*[至到—-]\s*" + END + r"\s*(?:放假|休息)")
SINGLE = re.compile(DATE + r"\s*(?:放假|补休|休息)")
WORK = re.compile(r"((?:" + DATE + r"\s*[、，,和及]?\s*)+)上班")
ANY_DATE = re.compile(r"(?:\d{4}年)?\d{1,2}月\d{1,2}日(?!起)")
TOTAL = re.compile(r"共\s*(\d+)\s*天")
WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
ONE_DAY = datetime.timedelta(days=1)


@dataclass
class Notice:
    year: int = None
    holidays: dict = field(default_factory=dict)   # date -> holiday name
    workdays: dict = field(default_factory=dict)   # date -> name of the make-up working day
    unread: list = field(default_factory=list)     # lines with dates it could not understand
    warnings: list = field(default_factory=list)   # read, but something disagrees (a weekday, a total)

    def days(self):
        """{date: (is_workday, name)} for every day the notice names."""
        result = {day: (False, name) for day, name in self.holidays.items()}
        result.update({day: (True, name) for day, name in self.workdays.items()})
        return result


class NoticeError(ValueError):
    """The text is not a holiday notice the reader can use (message in Chinese)."""


def parse(text):
    """The notice's year, holidays and make-up working days; NoticeError if nothing usable."""
    text = (text or "").replace("\r", "").replace("\u3000", " ")
    if len(text) > 20000:
        raise NoticeError("文本太长：请只粘贴放假通知本身（一般不到两千字）。")
    year = _year(text)
    if year is None:
        raise NoticeError("没有读出年份：请粘贴完整的通知，包括标题“国务院办公厅关于××××年部分节假日安排的通知”。")
    notice = Notice(year=year)
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or YEAR_TITLE.search(line):
            continue
        item = ITEM.match(line)
        name, body = (item.group(1).strip(), item.group(2)) if item else ("", line)
        consumed = _read_line(notice, name or "节假日", body)
        dates = [m for m in ANY_DATE.finditer(body)]
        leftover = [m for m in dates if not any(a <= m.start() < b for a, b in consumed)]
        relevant = item or re.search(r"放假|上班|补休|调休", body)
        if relevant and (leftover or (item and not consumed)):
            notice.unread.append(line)
    if not notice.holidays:
        raise NoticeError("没有读出任何放假日期：请检查粘贴的是否是国务院办公厅的放假通知。")
    return notice


def _year(text):
    match = YEAR_TITLE.search(text) or YEAR_BODY.search(text)
    if match and 2000 <= int(match.group(1)) <= 2100:
        return int(match.group(1))
    return None


def _read_line(notice, name, body):
    """Marks the days one line names; returns the (start, end) spans of the text it understood."""
    spans = []
    for sentence_start, sentence in _sentences(body):
        taken = []
        for match in RANGE.finditer(sentence):
            first = _date(notice, match.group(1), match.group(2), match.group(3), match.group(4), sentence)
            last = _end_date(notice, first, match.group(5), match.group(6), match.group(7), match.group(8), sentence)
            if first is None or last is None or last < first or (last - first).days > 40:
                continue
            days = [first + ONE_DAY * i for i in range((last - first).days + 1)]
            _holidays(notice, name, days, sentence)
            taken.append(match.span())
        for match in SINGLE.finditer(sentence):
            if any(a <= match.start() < b for a, b in taken):
                continue
            day = _date(notice, *match.group(1, 2, 3, 4), sentence)
            if day is None:
                continue
            _holidays(notice, name, [day], sentence)
            taken.append(match.span())
        for match in WORK.finditer(sentence):
            read_any = False
            for one in re.finditer(DATE, match.group(1)):
                day = _date(notice, *one.group(1, 2, 3, 4), sentence)
                if day is not None:
                    notice.workdays[day] = f"{name}调休上班"
                    notice.holidays.pop(day, None)
                    read_any = True
            if read_any:
                taken.append(match.span())
        spans += [(sentence_start + a, sentence_start + b) for a, b in taken]
    return spans


def _sentences(body):
    start = 0
    for piece in re.split(r"(?<=。)", body):
        if piece:
            yield start, piece
        start += len(piece)


def _holidays(notice, name, days, sentence):
    if "与周末连休" in sentence or "连休" in sentence and "周末" in sentence:
        while (days[0] - ONE_DAY).weekday() >= 5:  # the weekend before is part of the break
            days.insert(0, days[0] - ONE_DAY)
        while (days[-1] + ONE_DAY).weekday() >= 5:
            days.append(days[-1] + ONE_DAY)
    for day in days:
        if day not in notice.workdays:
            notice.holidays[day] = name
    total = TOTAL.search(sentence)
    if total and len(days) > 1 and int(total.group(1)) != len(days):
        notice.warnings.append(f"{name}：写明共 {total.group(1)} 天，读出的是 {days[0]:%-m月%-d日} 至 "
                               f"{days[-1]:%-m月%-d日}，共 {len(days)} 天。")


def _date(notice, year, month, day, note, sentence):
    try:
        result = datetime.date(int(year or notice.year), int(month), int(day))
    except ValueError:
        notice.warnings.append(f"日期不存在：{month}月{day}日（{sentence.strip()[:40]}）")
        return None
    _check_weekday(notice, result, note)
    return result


def _end_date(notice, first, year, month, day, note, sentence):
    """The end of a range: "至3日" keeps the start's month, or the next month if the day is smaller."""
    if first is None:
        return None
    if month:
        return _date(notice, year or first.year, month, day, note, sentence)
    month_of_end, year_of_end = first.month, first.year
    if int(day) < first.day:
        month_of_end, year_of_end = (1, first.year + 1) if first.month == 12 else (first.month + 1, first.year)
    return _date(notice, year_of_end, month_of_end, day, note, sentence)


def _check_weekday(notice, day, note):
    weekday = WEEKDAY.search(note or "")
    if weekday and WEEKDAYS[weekday.group(1)] != day.weekday():
        notice.warnings.append(f"{day:%Y年%-m月%-d日}是周{'一二三四五六日'[day.weekday()]}，通知上写的是"
                               f"{weekday.group(0)}：请核对年份和日期。")
