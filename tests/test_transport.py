"""HTTPS behind a proxy: a Secure session cookie and HSTS; plain http on the county LAN keeps working."""
import pytest

from app import create_app
from app.db import ConfigError
from tests.test_proxy import app_behind

CITIZEN = "203.0.113.7"


def cookies(response):
    """{name: the Set-Cookie line} of an answer."""
    return {line.split("=", 1)[0]: line for line in response.headers.getlist("Set-Cookie")}


def login_page(app, **headers):
    response = app.test_client().get("/login", headers=headers)
    assert response.status_code == 200
    return response


def assert_tls(response, cookie="session"):
    assert "; Secure" in cookies(response)[cookie]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def assert_plain(response, cookie="session"):
    assert "Secure" not in cookies(response)[cookie]
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_tls_proxy_the_session_cookie_is_secure_and_hsts_is_sent(app):
    behind = app_behind(app, 1)
    assert_tls(login_page(behind, **{"X-Forwarded-Proto": "https", "X-Forwarded-For": CITIZEN}))
    # The citizen's device cookie too: it keys the rating limits.
    kiosk = behind.test_client().get("/kiosk", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": CITIZEN})
    assert_tls(kiosk, cookie="ztc_device")


def test_the_county_may_say_it_serves_only_https(app):
    https_only = app_behind(app, 0, PREFERRED_URL_SCHEME="https")
    assert_tls(login_page(https_only))


def test_plain_http_on_the_county_lan_has_neither(app, client):
    assert_plain(login_page(app))
    assert_plain(client.get("/kiosk"), cookie="ztc_device")
    # Logging in still works over plain http: the browser sends the cookie back.
    assert client.get("/login").status_code == 200


def test_a_forwarded_scheme_from_no_trusted_proxy_is_not_believed(app):
    assert_plain(login_page(app_behind(app, 0), **{"X-Forwarded-Proto": "https"}))


def test_a_scheme_that_means_nothing_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="PREFERRED_URL_SCHEME"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "PREFERRED_URL_SCHEME": "HTTPS"})


@pytest.mark.parametrize("method, url, allowed", [
    ("POST", "/api/v1/units", {"GET", "HEAD", "OPTIONS"}),
    ("DELETE", "/api/v1/evaluations", {"POST", "OPTIONS"}),
    ("TRACE", "/api/v1/todo", {"GET", "HEAD", "OPTIONS"}),
    ("PUT", "/kiosk", {"GET", "HEAD", "OPTIONS"}),
])
def test_a_method_not_allowed_names_the_ones_that_are(client, method, url, allowed):
    response = client.open(url, method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed
    if url.startswith("/api/"):
        assert response.get_json()["error"]["code"] == "method_not_allowed"
    else:
        assert "不能以这种方式执行此操作" in response.get_data(as_text=True)
