"""Citizen text is shown as text: markup typed into any field never reaches a page as markup.

Every field a citizen (or an officer quoting one) writes carries a probe: a tag and a quote that
would break out of an attribute. The commission and the unit walk every page they reach, the
citizen opens the tracking and results pages, and no HTML page may hold the probe unescaped.
"""
import datetime
import re

import pytest

from app import appeals, credit_code, publication, ratings, symposia, tickets
from models import Contact, Reason, Ticket
from tests.conftest import csrf_token, login
from tests.test_canary import crawl, start_urls
from tests.trust_world import TOKENS, _token

TAG = "<b id=zt-probe>"
QUOTE = "\"' onmouseover=zt()"
PROBE = f"{TAG}{QUOTE}"
_BASE = "91130924MA0C8R7Q3"
CREDIT_CODE = _BASE + credit_code.check_digit(_BASE)


def unescaped(html):
    """Where in `html` the probe survived as markup."""
    return [m.start() for m in re.finditer(re.escape(TAG) + "|" + re.escape(QUOTE), html)]


@pytest.fixture
def world(app, county, make_user):
    with app.app_context():
        office, leader = make_user("t_office", "office"), make_user("t_leader", "leader")
        handler = make_user("t_handler_b", "handler", county["hall_b"])
        _token(office, TOKENS["office"])
        _token(handler, TOKENS["handler_b"])
        hall_b = county["hall_b"]
        bad = [str(Reason.get(Reason.title == "吃拿卡要").id)]
        ratings.submit(county["w2"].token, "dissatisfied", bad, f"评价{PROBE}", "", "qr",
                       ratings.new_submission_key(), staff_id=county["s2"].id)
        message = appeals.leave_message("complaint", hall_b.id, f"留言{PROBE}", f"名{TAG}", "13912345678")
        appeals.enterprise_appeal(f"企业{PROBE}", CREDIT_CODE, f"企{TAG}", "13912345679", "审批", f"诉求{PROBE}")
        problem = tickets.open_ticket("problem", title=f"标题{PROBE}", content=f"内容{PROBE}", source="hotline",
                                      actor_user=office, unit=hall_b.id,
                                      contact=Contact.create(name=f"电{TAG}", phone="13912345670"))
        for user, action, data in ((office, "submit", {"comment": f"呈报{PROBE}"}),
                                   (leader, "transfer", {"unit": hall_b.id, "comment": f"转办{PROBE}"}),
                                   (handler, "sign", {}),
                                   (handler, "done", {"result": f"办理结果{PROBE}", "comment": f"说明{PROBE}"})):
            problem, _event = tickets.act(problem.id, user, action, data)
        rows, errors = symposia.parse_rows(f"会企{TAG}\t融资\t座谈{PROBE}\t{hall_b.code}\t5")
        assert not errors, errors
        symposia.register(f"座谈会{TAG}", f"会场{TAG}", datetime.date.today(), rows, office)
        return {**county, "message": message, "problem": problem}


@pytest.mark.parametrize("who, username", (("office", "t_office"), ("handler_b", "t_handler_b")))
def test_officers_read_citizen_text_as_text_on_every_page(who, username, app, client, world):
    assert login(client, username).status_code == 302
    with app.app_context():
        urls = start_urls(app, world)
    pages = {url: text for url, text in crawl(client, urls, TOKENS[who]).items() if "<html" in text[:500].lower()}
    assert len(pages) > 10
    shown = "\n".join(pages.values())
    # The walk met the probes, escaped: the texts are there for the officer to read.
    assert "&lt;b id=zt-probe&gt;" in shown and "内容" in shown
    assert "办理结果&lt;b id=zt-probe&gt;" in shown
    assert not {url: spots for url, html in pages.items() if (spots := unescaped(html))}


def test_the_citizen_pages_give_typed_text_back_as_text(app, client, world):
    token = csrf_token(client, "/track")
    typed = client.post("/track", data={"code": PROBE, "last4": "5678", "csrf_token": token})
    assert typed.status_code == 404
    html = typed.get_data(as_text=True)
    assert 'value="&lt;b id=zt-probe&gt;&#34;&#39; onmouseover=zt()"' in html  # back in its box, as text
    assert not unescaped(html)
    found = client.post("/track", data={"code": world["message"].query_code, "last4": "5678", "csrf_token": token})
    assert found.status_code == 200 and 'id="track-stage"' in found.get_data(as_text=True)
    assert not unescaped(found.get_data(as_text=True))
    with app.app_context():
        publication.save(True, "this_year")  # unpublished, /results is a 404 page with nothing on it
    results = client.get("/results")
    assert results.status_code == 200 and world["hall_b"].name in results.get_data(as_text=True)
    assert not unescaped(results.get_data(as_text=True))
    assert Ticket.select().where(Ticket.content.contains(TAG)).count() >= 3  # stored as written


# Markup() around something other than a literal template: each reviewed, and why it is safe.
REVIEWED_MARKUP = {
    ("views/qr.py", "qrcodes.svg(qrcodes.rating_url(base_url(), token))"),  # segno's SVG of our own URL
    ("views/public.py", "qrcodes.svg(qrcodes.track_url(base_url(), code), fluid=True)"),  # the same, for /track
    ("app/workflow/diagram.py", "''.join(parts)"),  # every title in it passed through escape()
}


def test_no_text_is_wrapped_in_markup_unless_reviewed():
    """Markup('<a href="{}">{}</a>').format(...) escapes what it is given; Markup(text) trusts it."""
    import ast
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    found = set()
    for path in [*root.glob("views/**/*.py"), *root.glob("app/**/*.py"), root / "models.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Markup" and node.args
                    and not isinstance(node.args[0], ast.Constant)):
                found.add((str(path.relative_to(root)), ast.unparse(node.args[0])))
    assert found == REVIEWED_MARKUP


# Templates that switch escaping off, and how often: the home page's figure links (their URL passed
# through |e), Flask-Admin's action data (|tojson escapes < > & '), the second factor's QR code (segno).
REVIEWED_SAFE = {"admin/home.html": 2, "admin/actions.html": 2, "auth/second_factor.html": 1,
                 "auth/own_factor.html": 1}


def test_no_template_switches_escaping_off_unless_reviewed():
    from pathlib import Path
    folder = Path(__file__).resolve().parent.parent / "views" / "templates"
    found = {}
    for path in folder.glob("**/*.html"):
        text = path.read_text(encoding="utf-8")
        if count := len(re.findall(r"\|\s*safe\b|autoescape\s+false", text)):
            found[path.relative_to(folder).as_posix()] = count
    assert found == REVIEWED_SAFE
