"""Every admin view checks the role: the allowed roles get in, the others get 403."""
import pytest

from app.roles import ROLE_IDS

# Who may open each list, as the commission decided for this release.
READ = {
    "unit_tree": set(ROLE_IDS),
    "unit": set(ROLE_IDS),
    "window": set(ROLE_IDS),
    "staff": set(ROLE_IDS),
    "reason": {"office", "leader", "inspector", "bureau", "auditor"},
    # The auditor reads the trail and the figures, no complaint (三员分立).
    "evaluation": {"office", "leader", "inspector", "bureau", "handler"},
    "message": {"office", "leader", "inspector"},
    "ticket": {"office", "leader", "inspector", "handler"},
    "user": {"sysadmin", "secadmin", "auditor"},
    "auditlog": {"auditor"},
    "todo": {"office", "leader", "inspector", "handler", "bureau"},
    "supervision": {"office", "leader", "inspector"},
    "notifications": {"office", "leader", "inspector", "handler", "bureau", "sysadmin", "secadmin"},
    "rules": {"office", "leader", "inspector", "auditor"},
    "calendar": {"office", "leader", "inspector", "bureau", "auditor"},
    "qr": {"sysadmin", "office", "bureau", "handler"},
    "hotline": {"office"},
    "symposia": {"office", "leader", "inspector"},
    "account_requests": {"secadmin", "leader", "auditor"},
    "signals": {"office", "leader", "inspector"},
}
CREATE = {
    "unit": {"sysadmin", "office", "bureau"},
    "window": {"sysadmin", "office", "bureau"},
    "staff": {"sysadmin", "office", "bureau"},
    "reason": {"office", "bureau"},
    "user": {"sysadmin"},  # the security administrator grants roles, makes no account
    "evaluation": set(),
    "message": set(),
    "ticket": set(),
    "calendar": set(),
}
EXPORT = {
    "evaluation": {"office", "leader", "inspector", "bureau", "handler"},
    "message": {"office", "leader", "inspector"},
    "auditlog": {"auditor"},
}


def _unit_for(role, county):
    return county["hall_a"] if role == "handler" else None


@pytest.mark.parametrize("role", ROLE_IDS)
def test_each_role_reads_exactly_its_views(role, client, login_as, county):
    login_as(role, _unit_for(role, county))
    for endpoint, allowed in READ.items():
        status = client.get(f"/admin/{endpoint.replace('_', '-')}/").status_code
        assert status == (200 if role in allowed else 403), (role, endpoint, status)


@pytest.mark.parametrize("role", ROLE_IDS)
def test_each_role_creates_only_where_allowed(role, client, login_as, county):
    login_as(role, _unit_for(role, county))
    for endpoint, allowed in CREATE.items():
        status = client.get(f"/admin/{endpoint}/new/").status_code
        expected = 200 if role in allowed else 403
        assert status == expected, (role, endpoint, status)


@pytest.mark.parametrize("role", ROLE_IDS)
def test_each_role_exports_only_where_allowed(role, client, login_as, county):
    login_as(role, _unit_for(role, county))
    for endpoint, allowed in EXPORT.items():
        status = client.get(f"/admin/{endpoint}/export/csv/").status_code
        assert status == (200 if role in allowed else 403), (role, endpoint, status)


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for endpoint in READ:
        response = client.get(f"/admin/{endpoint.replace('_', '-')}/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_nobody_deletes_from_the_admin(client, login_as, county):
    login_as("sysadmin")
    from tests.conftest import csrf_token
    token = csrf_token(client, "/admin/window/")
    response = client.post("/admin/window/delete/", data={"id": county["w1"].id, "csrf_token": token})
    assert response.status_code in (302, 403)
    from models import Window
    assert Window.get_or_none(Window.id == county["w1"].id) is not None
    assert "删除" not in client.get("/admin/window/").get_data(as_text=True)


def test_flask_admin_changes_need_the_csrf_token(client, login_as, county):
    """Bulk actions, inline edits, create and delete answer a forged form with 400, changing nothing."""
    from models import CalendarDay, Evaluation, Ticket, Unit
    evaluation = Evaluation.create(unit=county["hall_a"], level="dissatisfied", channel="qr")
    day = CalendarDay.select().order_by(CalendarDay.day).first()  # the calendar comes with the app
    login_as("office")
    forged = (
        ("/admin/evaluation/action/", {"action": "open_ticket", "rowid": str(evaluation.id)}),
        ("/admin/calendar/ajax/update/", {"list_form_pk": str(day.day), "workday": "0" if day.workday else "1"}),
        ("/admin/unit/new/", {"code": "X9", "name": "伪造单位", "kind": "hall"}),
        ("/admin/evaluation/delete/", {"id": str(evaluation.id)}),
    )
    for url, data in forged:
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "表单已过期或不是从本站提交" in response.get_data(as_text=True) or "重新提交" in response.get_data(as_text=True)
    assert Ticket.select().count() == 0 and CalendarDay.get_by_id(day.day).workday == day.workday
    assert not Unit.select().where(Unit.code == "X9").exists() and Evaluation.select().count() == 1
