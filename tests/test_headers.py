"""Security headers (app/headers.py): on every answer, a script policy with no inline script, no caching of pages."""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from models import Message
from tests.conftest import CSRF_RE, PASSWORD

TEMPLATES = Path(__file__).resolve().parent.parent / "views" / "templates"
NONCE_RE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{16,})'")
# A page whose templates asked for no nonce allows scripts from this site alone.
SCRIPTS_RE = re.compile(r"script-src 'self'( 'nonce-[A-Za-z0-9_-]{16,}')?;")


def assert_hardened(response):
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert SCRIPTS_RE.search(policy), policy
    for directive in ("default-src 'self'", "img-src 'self' data:", "object-src 'none'", "base-uri 'self'",
                      "form-action 'self'", "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]  # styles only
    assert "unsafe-eval" not in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]


def nonce_of(response):
    return NONCE_RE.search(response.headers["Content-Security-Policy"]).group(1)


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
    assert "nonce" not in client.get("/api/v1/units").headers["Content-Security-Policy"]
    login_as("office")
    response = client.get("/admin/evaluation/")
    assert response.status_code == 200
    assert_hardened(response)
    assert nonce_of(response)  # Flask-Admin's own inline scripts run by it


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


def test_flask_admin_scripts_carry_this_requests_nonce(client, login_as, county):
    login_as("office")
    first, second = client.get("/admin/evaluation/"), client.get("/admin/evaluation/")
    assert nonce_of(first) != nonce_of(second)
    for response in (first, second):
        page = Markup(response.get_data(as_text=True))
        flask_admin = [s for s in page.scripts if "/admin/static/" in s.get("src", "")]
        assert len(flask_admin) >= 5  # jQuery, Bootstrap, select2, the filters, the actions…
        assert {s.get("nonce") for s in flask_admin} == {nonce_of(response)}
        # Any script without a source would have to carry the nonce; and no inline handler at all.
        assert all(s.get("nonce") == nonce_of(response) for s in page.scripts if not s.get("src"))
        assert page.handlers == []  # the filter and bulk-action links bind in views/static/admin.js


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


def test_forms_work_over_https_where_the_referrer_is_checked(client, make_user):
    """Flask-WTF refuses a POST over HTTPS without a same-site Referer: same-origin keeps sending it."""
    make_user("office1", "office")
    https = "https://zt.example.gov.cn"
    token = CSRF_RE.search(client.get("/login", base_url=https).get_data(as_text=True)).group(1)
    form = {"username": "office1", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=form, base_url=https).status_code == 400  # what no-referrer would do
    response = client.post("/login", data=form, base_url=https, headers={"Referer": https + "/login"})
    assert response.status_code == 302


def test_an_over_large_message_is_refused_with_a_chinese_page(client, county):
    response = client.post("/board", data={"kind": "complaint", "content": "很" * (9 * 1024 * 1024 // 3)})
    assert response.status_code == 413
    assert "上传的内容太大" in response.get_data(as_text=True)
    assert_hardened(response)
    assert Message.select().count() == 0
