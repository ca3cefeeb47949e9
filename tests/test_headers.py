"""Security headers (app/headers.py): on every answer, a script policy with no inline script, no caching of pages."""
from html.parser import HTMLParser
from pathlib import Path

import pytest

from models import Message
from tests.conftest import CSRF_RE, PASSWORD, login

TEMPLATES = Path(__file__).resolve().parent.parent / "views" / "templates"


def assert_hardened(response):
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy, policy  # scripts from this site's files, none inline
    for directive in ("default-src 'self'", "img-src 'self' data:", "object-src 'none'", "base-uri 'self'",
                      "form-action 'self'", "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]  # styles only
    assert "unsafe-eval" not in policy and "nonce" not in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in headers["Permissions-Policy"]


class Markup(HTMLParser):
    """The inline scripts and inline event handlers of a page or a template."""

    def __init__(self, text):
        super().__init__()
        self.scripts, self.inline, self.handlers = [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append(attrs)
            if not attrs.get("src"):
                self.inline.append(self.getpos())
        self.handlers += [(tag, name, self.getpos()) for name in attrs if name.startswith("on")]


def test_an_admin_page_a_public_page_and_an_api_answer_are_hardened(client, login_as, county):
    assert_hardened(client.get("/kiosk"))
    assert_hardened(client.get("/api/v1/units"))
    assert_hardened(client.get("/api/v1/nothing-here"))  # a JSON error
    login_as("office")
    response = client.get("/admin/evaluation/")
    assert response.status_code == 200
    assert_hardened(response)


def test_error_pages_are_hardened(client, login_as, county):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "没有找到" in missing.get_data(as_text=True)
    assert_hardened(missing)
    login_as("handler", unit=county["hall_a"])
    refused = client.get("/admin/user/")  # accounts are the system administrator's
    assert refused.status_code == 403
    assert_hardened(refused)
    assert refused.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ["/login", "/track", "/board", "/enterprise", "/kiosk"])
def test_citizen_and_login_pages_are_never_stored(client, county, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_officer_pages_and_exports_are_never_stored(client, login_as, county):
    login_as("office")
    for url in ("/admin/", "/admin/evaluation/", "/admin/evaluation/export/csv/", "/admin/evaluation/export/xlsx/",
                "/admin/ledger/ledger.xlsx"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        response.close()


def test_static_files_keep_their_ordinary_caching(client):
    for url in ("/static/zt.css", "/admin/static/vendor/jquery.min.js"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.headers.get("Cache-Control", ""), url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()


def test_flask_admin_pages_load_every_script_from_this_site(app, client, login_as, county, make_user):
    """Flask-Admin's list, details, edit and create pages, with our overrides, hold no inline script."""
    rated = client.post("/api/v1/evaluations", json={"token": county["w1"].token, "level": "satisfied",
                                                      "channel": "kiosk", "submission_key": "c" * 32})
    login_as("office")
    pages = ["/admin/evaluation/", f"/admin/evaluation/details/?id={rated.get_json()['id']}", "/admin/calendar/",
             f"/admin/unit/edit/?id={county['hall_a'].id}"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        page = Markup(response.get_data(as_text=True))
        if url == "/admin/evaluation/":  # jQuery, Bootstrap, select2, the filters, the actions…
            assert len([s for s in page.scripts if "/admin/static/" in s.get("src", "")]) >= 5
        assert page.inline == [] and page.handlers == [], url
        assert all(s["src"].startswith("/") and not s["src"].startswith("//") for s in page.scripts), url
    for role, url in (("auditor", "/admin/auditlog/"), ("sysadmin", "/admin/user/new/")):
        other = app.test_client()
        assert login(other, make_user(role, role).username).status_code == 302
        response = other.get(url)
        assert response.status_code == 200, url
        page = Markup(response.get_data(as_text=True))
        assert page.scripts and page.inline == [] and page.handlers == [], url


def test_no_template_of_ours_has_an_inline_script_or_handler():
    # The scan itself finds both kinds.
    probe = Markup('<button onclick="go()">x</button><script>alert(1)</script><script src="/static/a.js"></script>')
    assert len(probe.inline) == 1 and probe.handlers[0][:2] == ("button", "onclick")
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    found = {}
    for path in templates:
        page = Markup(path.read_text(encoding="utf-8"))
        if page.inline or page.handlers:
            found[str(path.relative_to(TEMPLATES))] = page.inline + page.handlers
    assert found == {}, f"move these into views/static/*.js: {found}"


def test_forms_need_no_referrer_over_https_but_a_form_from_another_site_is_refused(client, make_user):
    """Pages send no Referer; Flask-WTF's token and the browser's Sec-Fetch-Site stand in for it."""
    make_user("office1", "office")
    https = "https://zt.example.gov.cn"
    token = CSRF_RE.search(client.get("/login", base_url=https).get_data(as_text=True)).group(1)
    form = {"username": "office1", "password": PASSWORD, "csrf_token": token}
    for elsewhere in ("cross-site", "same-site"):  # a valid token, lifted by a page on another site
        refused = client.post("/login", data=form, base_url=https, headers={"Sec-Fetch-Site": elsewhere})
        assert refused.status_code == 400
        assert "不是从本系统提交" in refused.get_data(as_text=True)
        assert client.get("/admin/", base_url=https).status_code == 302  # still not logged in
    response = client.post("/login", data=form, base_url=https, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 302 and "/login" not in response.headers["Location"]


def test_the_json_api_carries_no_cookie_and_takes_calls_from_elsewhere(client, county):
    """A 12345 hotline's web page may post a rating to /api/v1: no session rides on it."""
    payload = {"token": county["w1"].token, "level": "satisfied", "channel": "kiosk", "submission_key": "b" * 32}
    response = client.post("/api/v1/evaluations", json=payload, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 201


def test_an_over_large_message_is_refused_with_a_chinese_page(client, county):
    response = client.post("/board", data={"kind": "complaint", "content": "很" * (9 * 1024 * 1024 // 3)})
    assert response.status_code == 413
    assert "上传的内容太大" in response.get_data(as_text=True)
    assert_hardened(response)
    assert Message.select().count() == 0
