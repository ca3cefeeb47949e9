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


RATED_COMMENT = "张丽娜态度恶劣，推三阻四"


@pytest.fixture
def rated(county, make_user):
    """张丽娜 (s1) rated 不满意 with a comment; her colleague at the same window rated 满意."""
    from app import ratings
    from models import Reason, Staff
    colleague = Staff.create(unit=county["hall_a"], window=county["w1"], number="S3", name="王建")
    bad = [str(Reason.get(Reason.title == "吃拿卡要").id)]
    about, _ticket, _created = ratings.submit(county["w1"].token, "dissatisfied", bad, RATED_COMMENT, "", "qr",
                                              ratings.new_submission_key(), staff_id=county["s1"].id)
    ratings.submit(county["w1"].token, "satisfied", [], "王建很耐心", "", "qr", ratings.new_submission_key(),
                   staff_id=colleague.id)
    return {"accused": make_user("zhang", "handler", county["hall_a"], staff=county["s1"]),
            "colleague": make_user("li", "handler", county["hall_a"]), "about": about}


def _reads(app, username, about):
    client = app.test_client()
    login(client, username)
    pages = {"list": client.get("/admin/evaluation/"),
             "details": client.get(f"/admin/evaluation/details/?id={about.id}"),
             "csv": client.get("/admin/evaluation/export/csv/"),
             "xlsx": client.get("/admin/evaluation/export/xlsx/"),
             "appeal": client.get(f"/admin/handle/appeal/{about.id}/"),
             "search": client.get("/admin/evaluation/?search=态度"),
             "home": client.get("/admin/")}
    for response in pages.values():  # a streamed export keeps its app context until read
        response.get_data()
    return client, pages


def _xlsx_text(response):
    import io

    import openpyxl
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return " ".join(str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None)


def test_a_rating_of_an_officer_never_reaches_his_own_account(app, rated):
    about = rated["about"]
    _client, li = _reads(app, "li", about)
    assert RATED_COMMENT in li["list"].get_data(as_text=True)
    assert RATED_COMMENT in li["details"].get_data(as_text=True)
    assert RATED_COMMENT in li["csv"].get_data(as_text=True) and RATED_COMMENT in _xlsx_text(li["xlsx"])
    assert li["appeal"].status_code == 200 and RATED_COMMENT in li["search"].get_data(as_text=True)

    client, zhang = _reads(app, "zhang", about)
    for name in ("list", "csv", "search"):
        assert zhang[name].status_code == 200, name
        assert RATED_COMMENT not in zhang[name].get_data(as_text=True), name
    assert "王建很耐心" in zhang["list"].get_data(as_text=True)  # the rest of the unit's ratings are his to read
    assert RATED_COMMENT not in _xlsx_text(zhang["xlsx"])
    assert RATED_COMMENT not in zhang["details"].get_data(as_text=True)
    assert zhang["details"].status_code in (302, 404)
    assert zhang["appeal"].status_code == 404
    appealed = client.post(f"/admin/handle/appeal/{about.id}/",
                           data={"reason": "这条差评是误评，当时监控显示办理正常。",
                                 "csrf_token": csrf_token(client, "/admin/evaluation/")})
    assert appealed.status_code == 404
    assert not Ticket.select().where(Ticket.workflow == "appeal").exists()


def test_the_accused_officers_figures_leave_out_what_was_said_about_him(app, county, rated):
    """His home page counts the unit's ratings less his own: no 差评, no reason, no ranking row of his."""
    import re

    from app import ratings
    from models import Reason
    bad = [str(Reason.get(Reason.title == "吃拿卡要").id)]
    for _ in range(10):  # enough for 张丽娜 to be ranked by the dashboard
        ratings.submit(county["w1"].token, "dissatisfied", bad, "", "", "qr", ratings.new_submission_key(),
                       staff_id=county["s1"].id)
    _client, li = _reads(app, "li", rated["about"])
    _client, zhang = _reads(app, "zhang", rated["about"])
    li_home, zhang_home = li["home"].get_data(as_text=True), zhang["home"].get_data(as_text=True)
    assert zhang["home"].status_code == 200

    def evaluations(page):
        return int(re.search(r'id="fig-evaluations"[^>]*>(\d+)<', page).group(1))

    assert (evaluations(li_home), evaluations(zhang_home)) == (12, 1)
    assert "吃拿卡要" in li_home and "吃拿卡要" not in zhang_home  # the 差评's reason is counted for li only
    assert "张丽娜" in li_home and "张丽娜" not in zhang_home  # nor his row in the officers' ranking


def test_a_colleagues_appeal_of_his_rating_is_hidden_from_him(app, rated):
    about = rated["about"]
    client = app.test_client()
    login(client, "li")
    response = client.post(f"/admin/handle/appeal/{about.id}/",
                           data={"reason": "这条差评是误评，当时监控显示办理正常。",
                                 "csrf_token": csrf_token(client, f"/admin/handle/appeal/{about.id}/")})
    assert response.status_code == 302
    appeal = Ticket.get(Ticket.workflow == "appeal")
    assert appeal.staff_id == rated["accused"].staff_id
    accused = app.test_client()
    login(accused, "zhang")
    assert accused.get(f"/admin/handle/{appeal.id}/").status_code == 404
    assert appeal.code not in accused.get("/admin/ticket/").get_data(as_text=True)


def test_a_county_wide_reader_on_the_roster_counts_every_unit_but_himself(app, county, rated, make_user):
    """The units he was rated in are counted from the rows without him; the others from the tallies."""
    import re

    from app import ratings
    ratings.submit(county["w2"].token, "satisfied", [], "", "", "qr", ratings.new_submission_key())
    make_user("office_s1", "office", staff=county["s1"])
    make_user("office_x", "office")
    seen = {}
    for name in ("office_s1", "office_x"):
        client = app.test_client()
        login(client, name)
        page = client.get("/admin/").get_data(as_text=True)
        seen[name] = int(re.search(r'id="fig-evaluations"[^>]*>(\d+)<', page).group(1))
    assert seen == {"office_s1": 2, "office_x": 3}
