"""The canary: a complainant reported hall_b by phone, on the board, as a company and at a symposium.

Officers outside the commission walk every page they can reach (menu, lists, details, exports,
ledger, report, ticket pages and prints, the API) and must never meet the complainant's name,
phone, company or credit code. The commission sees the name and 139****5678 until it reveals.
"""
import io
import json
import re
import zipfile
from collections import Counter, deque
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from models import Ticket
from tests import trust_world
from tests.conftest import login

OUTSIDERS = ("handler_b", "bureau", "sysadmin", "secadmin", "auditor")
COMMISSION = ("office", "leader", "inspector")
LINK = re.compile(r'href="([^"]+)"')
MIDDLE_DIGITS = re.compile(r"1234\D{0,4}5678")
MAX_PAGES = 400
RECORDS_PER_SCREEN = 30  # the calendar's 365 days: enough to pass every complaint's rows


def identity_leaks(text, commission=False):
    """The pieces of the complainant's identity found in `text` (the commission may see the name)."""
    text = text + unquote(text)
    secrets = [trust_world.PHONE, trust_world.CREDIT_CODE, "12345678"]
    if not commission:
        secrets += [trust_world.NAME, trust_world.COMPANY]
    found = [s for s in secrets if s in text]
    if MIDDLE_DIGITS.search(text):
        found.append("1234…5678")
    return found


def readable(response):
    """What an officer reads in a response: the page, the JSON, the CSV, or the XML of an .xlsx/.docx."""
    body = response.get_data()
    response.close()
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace")
                             for name in archive.namelist() if name.endswith((".xml", ".rels")))
    text = body.decode("utf-8", "replace")
    if response.mimetype == "application/json":
        return json.dumps(json.loads(text), ensure_ascii=False)  # Flask writes Chinese as \\uXXXX
    return text


def page_key(url):
    """One visit per screen and record: a list's sort orders, pages and filters show rows of its
    unfiltered first page (the county here has fewer rows than a page); a details page's id matters."""
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query)).get("id")


def worth_following(url):
    if not url.startswith("/") or url.startswith("//"):
        return False
    path = urlsplit(url).path
    return not (path.startswith(("/static/", "/admin/static/")) or path == "/logout" or "lang=" in url)


def start_urls(app, world):
    """Besides the menu: every export, the ledger, the report, and every ticket's page and prints."""
    urls = ["/admin/"]
    for view in app.extensions["admin"][0]._views:
        if hasattr(view, "export_types"):
            urls += [f"/admin/{view.endpoint}/export/{kind}/" for kind in view.export_types]
    month = Ticket.select().first().created_at.strftime("%Y-%m")
    urls += ["/admin/ledger/ledger.xlsx", f"/admin/ledger/ledger.xlsx?unit={world['hall_b'].id}",
             f"/admin/report/?month={month}", f"/admin/report/report.docx?month={month}"]
    for (ticket_id,) in Ticket.select(Ticket.id).tuples():
        urls += [f"/admin/handle/{ticket_id}/", f"/admin/handle/{ticket_id}/print/",
                 f"/admin/handle/{ticket_id}/print.docx"]
    return urls


def crawl(client, urls, token):
    """Breadth first from `urls` along same-site links; {url: text} of every page that answered 200."""
    seen, read, per_path = set(), {}, Counter()
    queue = deque(urls)
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        key = page_key(url)
        if key in seen or per_path[key[0]] >= RECORDS_PER_SCREEN:
            continue
        seen.add(key)
        per_path[key[0]] += 1
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        if response.status_code >= 500:
            raise AssertionError(f"{url}: {response.status_code}")
        if response.status_code != 200:
            response.close()
            continue
        text = readable(response)
        read[url] = text
        for link in LINK.findall(text):
            link = link.replace("&amp;", "&")
            if worth_following(link):
                queue.append(link)
    assert len(seen) < MAX_PAGES, "the crawl did not finish: raise MAX_PAGES"
    return read


@pytest.fixture
def world(app, county, make_user):
    with app.app_context():
        return trust_world.build(county, make_user)


def walk_as(app, client, world, who):
    username = "t_handler_b" if who == "handler_b" else trust_world.ROLE_USERS[who]
    assert login(client, username).status_code == 302
    with app.app_context():
        urls = start_urls(app, world)
    read = crawl(client, urls, trust_world.TOKENS[who])
    read["/api/v1/todo"] = readable(client.get("/api/v1/todo",
                                               headers={"Authorization": f"Bearer {trust_world.TOKENS[who]}"}))
    return read


def test_the_accused_unit_reads_the_facts_but_never_who_reported_them(app, client, world):
    read = walk_as(app, client, world, "handler_b")
    leaks = {url: found for url, text in read.items() if (found := identity_leaks(text))}
    assert not leaks, leaks
    # The walk did reach what the unit must handle: the ticket, its print, its Word sheet, the exports.
    problem = world["problem_b"].id
    for url in (f"/admin/handle/{problem}/", f"/admin/handle/{problem}/print/", f"/admin/handle/{problem}/print.docx",
                "/admin/ticket/export/csv/", "/admin/evaluation/export/xlsx/", "/admin/ledger/ledger.xlsx",
                "/admin/todo/", "/admin/notifications/"):
        assert url in read, url
    everything = "\n".join(read.values())
    for fact in trust_world.FACTS:
        assert fact in everything
    for ticket in (world["message_b"].tickets[0], world["enterprise_b"], world["symposium_b"]):
        assert f"/admin/handle/{ticket.id}/" in read  # the message's, the company's and the meeting's tickets too
    assert world["problem_b"].code in read["/api/v1/todo"]


@pytest.mark.parametrize("who", ("bureau", "sysadmin", "secadmin", "auditor"))
def test_other_officers_never_meet_the_complainant(who, app, client, world):
    read = walk_as(app, client, world, who)
    assert len(read) > 10
    leaks = {url: found for url, text in read.items() if (found := identity_leaks(text))}
    assert not leaks, leaks


@pytest.mark.parametrize("who", COMMISSION)
def test_the_commission_sees_the_name_and_a_masked_phone_until_it_reveals(who, app, client, world):
    read = walk_as(app, client, world, who)
    leaks = {url: found for url, text in read.items() if (found := identity_leaks(text, commission=True))}
    assert not leaks, leaks
    ticket_page = read[f"/admin/handle/{world['problem_b'].id}/"]
    assert trust_world.NAME in ticket_page and trust_world.MASKED_PHONE in ticket_page
    messages = next(text for url, text in read.items() if urlsplit(url).path == "/admin/message/")
    assert trust_world.NAME in messages and trust_world.MASKED_PHONE in messages


def test_another_units_handler_reads_nothing_of_hall_bs_files(app, client, world):
    read = walk_as(app, client, world, "handler")  # hall_a's
    hall_b_files = (*trust_world.FACTS, "医保窗口工作人员态度恶劣还要红包", "医保定点申请拖了三个月", "医保结算资金迟迟不到账",
                    "工作人员吃拿卡要", "医保报销窗口", "李志强", world["problem_b"].code)
    seen = {url: [f for f in hall_b_files if f in text] for url, text in read.items()}
    assert not {url: found for url, found in seen.items() if found}
    assert "本单位承办的问题" in read[f"/admin/handle/{world['problem_a'].id}/"]  # its own, it does read
