"""Fixtures: a fresh database per test (SQLite file, or PostgreSQL when DATABASE_URL says so)."""
import datetime
import logging
import os
import re
from pathlib import Path

import pytest

from app import create_app
from app import workdays
from app.db import bind
from models import ALL_MODELS, Unit, User, Window, Staff, db

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Test@2026pw"
START = datetime.datetime(2026, 12, 1, 9, 0, 0)


class Clock:
    """A server clock the test moves: `clock.advance(minutes=16)`."""
    def __init__(self, at=START):
        self.now = at

    def advance(self, **delta):
        self.now += datetime.timedelta(**delta)


def frozen_clock(monkeypatch, *modules):
    """One Clock read by each module's `clock()`."""
    c = Clock()
    for module in modules:
        monkeypatch.setattr(module, "clock", lambda: c.now)
    return c


@pytest.fixture
def clock(monkeypatch):
    """The server's clock (app.auth.clock: sessions, lockouts, codes), moved by the test."""
    from app import auth
    return frozen_clock(monkeypatch, auth)


def _database_url(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url
    return f"sqlite:///{tmp_path}/test.sqlite3"


def _drop_everything(url):
    """PostgreSQL is shared between tests: start each one from an empty schema."""
    bind(url, 4)
    with db.connection_context():
        db.drop_tables(ALL_MODELS, cascade=True, safe=True)


@pytest.fixture
def app(tmp_path):
    url = _database_url(tmp_path)
    if url.startswith("postgres"):
        _drop_everything(url)
    workdays.invalidate()  # the calendar cache outlives a test's database
    shipped = tmp_path / "workflows.yaml"  # a save in the rule screen writes the file: a copy of ours
    shipped.write_text((ROOT / "workflows.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "DATABASE_URL": url, "DATABASE_POOL_SIZE": 4, "WORKFLOWS_PATH": str(shipped)})
    from seed.loader import load_reasons
    with db.connection_context():
        load_reasons()
    yield app
    if db.obj is not None:
        db.obj.close_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def conn(app):
    """An open connection for tests that read or write the database directly."""
    with db.connection_context():
        yield db


@pytest.fixture
def demo(app):
    """The whole demo county, as `python run.py` loads it."""
    from seed.loader import load
    with db.connection_context():
        return load(demo=True)


@pytest.fixture
def county(conn):
    """A small county: two hall units with windows and staff, a township with a village."""
    hall_a = Unit.create(code="HA", name="县行政审批局", kind="hall")
    hall_b = Unit.create(code="HB", name="县医疗保障局", kind="hall")
    township = Unit.create(code="T1", name="苏基镇", kind="township")
    village = Unit.create(code="V1", name="孔庄子村综合服务站", kind="village", parent=township)
    w1 = Window.create(unit=hall_a, number="01", name="企业开办窗口")
    w2 = Window.create(unit=hall_b, number="02", name="医保报销窗口")
    s1 = Staff.create(unit=hall_a, window=w1, number="S1", name="张丽娜")
    s2 = Staff.create(unit=hall_b, window=w2, number="S2", name="李志强")
    return {"hall_a": hall_a, "hall_b": hall_b, "township": township, "village": village,
            "w1": w1, "w2": w2, "s1": s1, "s2": s2}


@pytest.fixture
def make_user(conn):
    def make(username, role, unit=None, password=PASSWORD, **extra):
        user = User(username=username, role=role, unit=unit, full_name=extra.pop("full_name", username),
                    **extra)
        user.set_password(password)
        user.save()
        return user
    return make


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url="/login"):
    """The CSRF token a browser would find in the page's form."""
    page = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no csrf_token on {url}"
    return match.group(1)


def login(client, username, password=PASSWORD):
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def login_as(client, make_user):
    """Log the test client in as a new officer of `role` (bound to `unit` for a handler)."""
    def log_in(role, unit=None, username=None):
        user = make_user(username or f"{role}_{unit.code if unit else 'x'}", role, unit)
        response = login(client, user.username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user
    return log_in


class QueryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.queries = []

    def emit(self, record):
        self.queries.append(record.getMessage())


@pytest.fixture
def count_queries():
    logger = logging.getLogger("peewee")
    counter = QueryCounter()
    old_level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    yield counter
    logger.removeHandler(counter)
    logger.setLevel(old_level)
