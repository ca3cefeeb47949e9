"""查看完整联系方式: the commission sees a complainant's full phone only for a stated reason, and it is logged."""
import pytest

from models import AuditLog, Message
from tests import trust_world
from tests.conftest import CSRF_RE, login


@pytest.fixture
def world(app, county, make_user):
    with app.app_context():
        return trust_world.build(county, make_user)


def log_in(client, role):
    username = "t_handler_b" if role == "handler_b" else trust_world.ROLE_USERS[role]
    assert login(client, username).status_code == 302


def token_on(client, url):
    return CSRF_RE.search(client.get(url).get_data(as_text=True)).group(1)


def reveals():
    return list(AuditLog.select().where(AuditLog.action == "reveal"))


def test_the_ticket_page_shows_the_full_contact_once_for_a_reason_and_logs_it(client, world):
    ticket = world["enterprise_b"]
    log_in(client, "leader")
    page_url = f"/admin/handle/{ticket.id}/"
    page = client.get(page_url).get_data(as_text=True)
    assert trust_world.MASKED_PHONE in page and trust_world.PHONE not in page
    assert trust_world.CREDIT_CODE not in page and trust_world.COMPANY not in page
    assert 'id="reveal-contact"' in page

    response = client.post(f"/admin/handle/{ticket.id}/contact",
                           data={"csrf_token": token_on(client, page_url), "reason": "核实企业诉求，需电话联系企业负责人"})
    shown = response.get_data(as_text=True)
    assert response.status_code == 200
    for secret in (trust_world.PHONE, trust_world.COMPANY, trust_world.CREDIT_CODE):
        assert secret in shown
    [row] = reveals()
    assert (row.username, row.object_type, row.object_id) == ("t_leader", "Ticket", str(ticket.id))
    assert row.detail == "reason=核实企业诉求，需电话联系企业负责人" and row.ip
    # For that one page view: the next visit is masked again.
    assert trust_world.PHONE not in client.get(page_url).get_data(as_text=True)


@pytest.mark.parametrize("reason", ["", "   "])
def test_no_reason_no_reveal(reason, client, world):
    ticket = world["problem_b"]
    log_in(client, "office")
    page_url = f"/admin/handle/{ticket.id}/"
    response = client.post(f"/admin/handle/{ticket.id}/contact",
                           data={"csrf_token": token_on(client, page_url), "reason": reason})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert trust_world.PHONE not in page and "invalid-feedback" in page
    assert reveals() == []


def test_a_reveal_without_the_pages_token_is_refused(client, world):
    log_in(client, "office")
    response = client.post(f"/admin/handle/{world['problem_b'].id}/contact", data={"reason": "核实"})
    assert response.status_code == 400 and trust_world.PHONE not in response.get_data(as_text=True)
    assert reveals() == []


def test_the_audit_trail_never_keeps_the_phone_even_typed_into_the_reason(client, world):
    ticket = world["problem_b"]
    log_in(client, "inspector")
    page_url = f"/admin/handle/{ticket.id}/"
    client.post(f"/admin/handle/{ticket.id}/contact",
                data={"csrf_token": token_on(client, page_url), "reason": f"回拨 {trust_world.PHONE} 核实"})
    [row] = reveals()
    assert trust_world.PHONE not in row.detail and trust_world.MASKED_PHONE in row.detail


@pytest.mark.parametrize("role", ["handler_b", "bureau", "sysadmin", "auditor"])
def test_only_the_commission_may_reveal(role, client, world):
    ticket = world["problem_b"]  # hall_b's: handler_b's own unit, the one complained about
    log_in(client, role)
    token = CSRF_RE.search(client.get("/admin/").get_data(as_text=True)).group(1)
    for url in (f"/admin/handle/{ticket.id}/contact", f"/admin/message/{world['message_b'].id}/contact"):
        response = client.post(url, data={"csrf_token": token, "reason": "想知道是谁"})
        assert response.status_code == 403, url
        assert trust_world.PHONE not in response.get_data(as_text=True)
    assert reveals() == []


def test_the_accused_units_handler_reads_the_facts_not_the_reporter(client, world):
    ticket = world["problem_b"]
    log_in(client, "handler_b")
    page = client.get(f"/admin/handle/{ticket.id}/").get_data(as_text=True)
    for fact in trust_world.FACTS:
        assert fact in page
    assert trust_world.NAME not in page and trust_world.PHONE not in page and "****5678" not in page
    assert 'id="reveal-contact"' not in page and ticket.query_code not in page


def test_a_message_writers_phone_is_revealed_on_its_own_page(client, world):
    message = world["message_b"]
    log_in(client, "office")
    listing = client.get("/admin/message/").get_data(as_text=True)
    assert trust_world.NAME in listing and trust_world.MASKED_PHONE in listing and trust_world.PHONE not in listing
    url = f"/admin/message/{message.id}/contact"
    assert url in listing
    page = client.get(url).get_data(as_text=True)
    assert trust_world.MASKED_PHONE in page and trust_world.PHONE not in page
    token = CSRF_RE.search(page).group(1)
    refused = client.post(url, data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 422 and trust_world.PHONE not in refused.get_data(as_text=True)
    shown = client.post(url, data={"csrf_token": token, "reason": "留言人要求回电"})
    assert shown.status_code == 200 and trust_world.PHONE in shown.get_data(as_text=True)
    [row] = reveals()
    assert (row.object_type, row.object_id, row.detail) == ("Message", str(message.id), "reason=留言人要求回电")


def test_the_auditor_reads_no_message_at_all(client, world):
    """三员分立: the auditor reads the trail, not the complaints (it was the messages without writers)."""
    log_in(client, "auditor")
    listing = client.get("/admin/message/")
    assert listing.status_code == 403
    page = listing.get_data(as_text=True)
    assert "医保窗口工作人员态度恶劣还要红包" not in page and trust_world.NAME not in page


def test_an_anonymous_message_has_nothing_to_reveal(client, world):
    message = Message.create(kind="opinion", content="匿名留言", contact=None)
    log_in(client, "office")
    page = client.get(f"/admin/message/{message.id}/contact")
    assert page.status_code == 200 and 'id="reveal-contact"' not in page.get_data(as_text=True)
    response = client.post(f"/admin/message/{message.id}/contact",
                           data={"csrf_token": CSRF_RE.search(page.get_data(as_text=True)).group(1), "reason": "核实"})
    assert response.status_code == 404 and reveals() == []
