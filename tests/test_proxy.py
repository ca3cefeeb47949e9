"""Behind nginx: the client's own address, believed from X-Forwarded-For only when PROXY_HOPS says so."""
import uuid

import pytest

from app import config as app_config
from app import create_app
from app.db import ConfigError
from models import AuditLog, Unit, Window, db
from tests.conftest import csrf_token

CITIZEN, OTHERS = "203.0.113.7", ("203.0.113.8", "203.0.113.9")


def app_behind(app, hops, **settings):
    """Another process of the same county, told how many proxies stand in front of it."""
    return create_app(dict(TESTING=True, INSTANCE_PATH=app.config["INSTANCE_PATH"], DATABASE_URL=app.config["DATABASE_URL"],
                           DATABASE_POOL_SIZE=4, PROXY_HOPS=hops, **settings))


def address_in_the_trail(app, forwarded_for):
    """The address the audit trail keeps for a wrong password sent with this X-Forwarded-For."""
    client = app.test_client()  # its own address, as the app sees it, is the proxy's: 127.0.0.1
    client.post("/login", data={"username": "nobody", "password": "wrong", "csrf_token": csrf_token(client)},
                headers={"X-Forwarded-For": forwarded_for})
    with db.connection_context():
        return AuditLog.select().where(AuditLog.action == "login_failed").order_by(AuditLog.id.desc()).first().ip


def ratings_from(app, addresses):
    client = app.test_client()
    with db.connection_context():
        window = Window.get_or_none() or Window.create(
            unit=Unit.create(code="HA", name="县行政审批局", kind="hall"), number="01", name="企业开办窗口")
    return [client.post("/api/v1/evaluations", headers={"X-Forwarded-For": address},
                        json={"token": window.token, "level": "satisfied", "channel": "kiosk",
                              "submission_key": uuid.uuid4().hex}).status_code
            for address in addresses]


def test_behind_one_proxy_the_trail_keeps_the_address_the_proxy_saw(app):
    # The first address the client wrote itself; nginx appended the one it connected from.
    assert address_in_the_trail(app_behind(app, 1), f"198.51.100.1, {CITIZEN}") == CITIZEN


def test_without_a_proxy_a_forwarded_address_is_not_believed(app):
    assert address_in_the_trail(app_behind(app, 0), CITIZEN) == "127.0.0.1"


def test_behind_the_proxy_each_client_has_its_own_rating_limit(app):
    behind = app_behind(app, 1, RATING_RATE_LIMIT="2 per minute")
    assert ratings_from(behind, [CITIZEN, *OTHERS]) == [201, 201, 201]
    assert ratings_from(behind, [CITIZEN, CITIZEN]) == [201, 429]


def test_without_a_proxy_a_forged_address_does_not_escape_the_limit(app):
    direct = app_behind(app, 0, RATING_RATE_LIMIT="2 per minute")
    assert ratings_from(direct, [CITIZEN, *OTHERS]) == [201, 201, 429]


def test_the_hop_count_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PROXY_HOPS", "1")
    assert app_config.load({"INSTANCE_PATH": str(tmp_path)})["PROXY_HOPS"] == 1
    monkeypatch.delenv("PROXY_HOPS")
    assert app_config.load({"INSTANCE_PATH": str(tmp_path)})["PROXY_HOPS"] == 0


@pytest.mark.parametrize("value", ["nginx", "-1", "１", "9"])
def test_a_hop_count_that_means_nothing_refuses_to_start(tmp_path, value):
    with pytest.raises(ConfigError, match="PROXY_HOPS"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "PROXY_HOPS": value})
