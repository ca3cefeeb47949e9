"""Odd values typed into officers' addresses and forms: a Chinese 4xx saying what is wrong, never a 5xx.

An outside probe found each of these answering 500 (issue 17): a date beyond the calendar, a number
beyond 64 bits, a window number that no HTTP header can carry.
"""
import io
import re
from urllib.parse import unquote

import pytest
from flask_admin.contrib.peewee.filters import DateTimeGreaterFilter, DateTimeSmallerFilter
from werkzeug.datastructures import FileStorage

from app import attachments, tickets
from app.attachments import Upload
from app.roles import ROLE_IDS
from models import Contact, Evaluation, Staff, Window
from tests.conftest import csrf_token
from views.base import list_url

CJK = re.compile(r"[\u4e00-\u9fff]")
FIGURES = {"office", "leader", "inspector", "bureau", "auditor", "handler"}
LEDGER = {"office", "leader", "inspector", "handler"}  # the auditor reads no complaint (三员分立)
REPORT = {"office", "leader", "inspector"}
DATES = "日期须在 2000-01-01 至 2100-12-31 之间"
MONTHS = "月份须在 2000-01 至 2100-12 之间"

# (address, the roles that may open it, what the page must say to them)
ODD = [
    ("/admin/?start=9999-12-31", FIGURES, DATES),
    ("/admin/?end=9999-12-31", FIGURES, DATES),
    ("/admin/?start=0001-01-01", FIGURES, DATES),
    ("/admin/ledger/?end=9999-12-31", LEDGER, DATES),
    ("/admin/ledger/ledger.xlsx?start=0001-01-01", LEDGER, DATES),
    ("/admin/ledger/ledger.xlsx?end=9999-12-31", LEDGER, DATES),
    ("/admin/ledger/ledger.xlsx?unit=99999999999999999999", LEDGER, "没有这个单位"),
    ("/admin/ledger/ledger.xlsx?unit=1e3", LEDGER, "没有这个单位"),
    ("/admin/report/?month=9999-12", REPORT, MONTHS),
    ("/admin/report/?month=0001-01", REPORT, MONTHS),
    ("/admin/report/report.docx?month=9999-12", REPORT, MONTHS),
]


@pytest.mark.parametrize("role", ROLE_IDS)
def test_an_odd_value_in_an_address_is_answered_in_chinese(client, login_as, county, role):
    login_as(role, county["hall_a"] if role == "handler" else None)
    for url, readers, says in ODD:
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code < 500, url
        if role in readers:
            assert response.status_code == 422 and says in page, url
        elif response.status_code >= 400:
            assert CJK.search(page), url


@pytest.mark.parametrize("target", ["/%0A/x", "/%0D/x"])
def test_a_line_break_in_next_lands_on_the_home_page(client, login_as, target):
    login_as("office")
    response = client.get(f"/login?next={target}")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_the_report_names_the_month_on_the_command_line_too(runner, conn):
    result = runner.invoke(args=["report", "monthly", "9999-12"])
    assert result.exit_code != 0 and MONTHS in result.output


@pytest.mark.parametrize("kind, value", [(DateTimeSmallerFilter, "9999-12-31 23:59:59"),
                                         (DateTimeGreaterFilter, "9999-12-31 23:59:59"),
                                         (DateTimeSmallerFilter, "0001-01-01 00:00:00")])
def test_the_ratings_list_filtered_beyond_the_calendar_still_lists(app, client, login_as, county, kind, value):
    login_as("office")
    with app.test_request_context():
        url = list_url("evaluation", (Evaluation.created_at, kind, value))
    response = client.get(url)
    assert response.status_code == 200 and "评价" in response.get_data(as_text=True)


def download_name(response):
    """The file name a browser saves: filename* (RFC 5987) where given; the header must be Latin-1."""
    header = response.headers["Content-Disposition"]
    header.encode("latin-1")  # what a WSGI server sends; a Chinese header fails there, not in the test client
    utf8 = re.search(r"filename\*=UTF-8''([^;]+)", header)
    return unquote(utf8.group(1)) if utf8 else re.search(r'filename="?([^";]+)', header).group(1)


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_a_chinese_window_number_names_its_qr_code_file(client, login_as, county, fmt):
    window = Window.create(unit=county["hall_a"], number="窗口52", name="综合窗口")
    login_as("office")
    response = client.get(f"/admin/qr/window/{window.id}.{fmt}")
    assert response.status_code == 200 and download_name(response) == f"window-窗口52.{fmt}"


def test_an_old_number_with_a_line_break_still_downloads(client, login_as, county):
    window = Window.create(unit=county["hall_a"], number="52\r\n", name="综合窗口")
    staff = Staff.create(unit=county["hall_a"], number="S\n9", name="王芳")
    login_as("office")
    assert download_name(client.get(f"/admin/qr/window/{window.id}.png")) == "window-52.png"
    assert download_name(client.get(f"/admin/qr/staff/{staff.id}.svg")) == "staff-S9.svg"


@pytest.mark.parametrize("url, number", [("/admin/window/new/", "52\r\n53"), ("/admin/staff/new/", "S\t9")])
def test_a_number_with_a_line_break_or_tab_is_refused(client, login_as, county, url, number):
    login_as("office")
    data = {"unit": county["hall_a"].id, "number": number, "name": "新增", "csrf_token": csrf_token(client, url)}
    response = client.post(url, data=data)
    assert response.status_code == 422 and "不能含换行、制表符等控制字符" in response.get_data(as_text=True)
    assert not Window.select().where(Window.name == "新增").exists()
    assert not Staff.select().where(Staff.name == "新增").exists()


def test_an_attachment_named_with_a_line_break_downloads(client, login_as, county):
    # A form can carry one: filename*=UTF-8''a%0Ab.pdf is decoded by the server.
    upload = FileStorage(io.BytesIO(b"%PDF-1.4 test"), filename="整改\n报告.pdf")
    with client.application.test_request_context():
        assert attachments.check_upload(upload).filename == "整改报告.pdf"
    office = login_as("office")
    ticket = tickets.open_ticket("problem", title="窗口排队太久", content="排了两个小时", source="web",
                                 actor_user=office, unit=county["hall_a"].id, contact=Contact.create(name="甲"))
    with client.application.app_context():
        stored = Upload("回执\r\n.pdf", b"%PDF-1.4 test", "application/pdf", ".pdf").save_for(ticket, None, office)
    with client.get(f"/admin/handle/{ticket.id}/attachment/{stored.id}") as response:
        assert response.status_code == 200 and download_name(response) == "回执.pdf"
