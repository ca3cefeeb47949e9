"""The limiter's in-process counters: exact counts, no thread per hit, expired counters dropped."""
import threading
import time

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from app import ratelimit
from views.public import limiter


def test_the_app_counts_in_the_steady_storage_by_default(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "steady-memory://"
    assert isinstance(limiter.limiter.storage, ratelimit.SteadyMemoryStorage)


def test_a_burst_of_hits_is_counted_exactly_and_starts_no_threads():
    storage = ratelimit.SteadyMemoryStorage()
    strategy = FixedWindowRateLimiter(storage)
    limit = parse("50 per minute")
    before = threading.active_count()
    started = []
    original = threading.Thread.start
    threading.Thread.start = lambda self: started.append(self) or original(self)
    try:
        allowed = [strategy.hit(limit, "rating", "address:10.0.0.1") for _ in range(60)]
    finally:
        threading.Thread.start = original
    assert allowed == [True] * 50 + [False] * 10
    assert started == [] and threading.active_count() <= before


def test_expired_counters_are_swept_in_passing(monkeypatch):
    storage = ratelimit.SteadyMemoryStorage()
    strategy = FixedWindowRateLimiter(storage)
    for n in range(100):  # one counter per address, as a day of hall phones leaves behind
        strategy.hit(parse("5 per second"), "rating", f"address:10.0.{n // 250}.{n % 250}")
    assert len(storage.storage) == 100
    later = time.time() + 5
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: storage._swept_at + ratelimit.SWEEP_SECONDS)
    strategy.hit(parse("5 per second"), "rating", "address:10.9.9.9")
    (live,) = storage.storage  # the 100 expired counters are gone; the live one stays
    assert "address:10.9.9.9" in live


def _rate_through(app, window, address="10.20.30.40"):
    from tests.test_public_rating import rate
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return rate(client, f"/e/{window.token}", level="satisfied").status_code


def _app_like(app, **settings):
    """Another process of the same county: its own app, the same database."""
    from app import create_app
    return create_app(dict(TESTING=True, INSTANCE_PATH=app.config["INSTANCE_PATH"], DATABASE_URL=app.config["DATABASE_URL"],
                           DATABASE_POOL_SIZE=4, RATING_RATE_LIMIT="3 per minute", RATING_DEVICE_LIMIT="100 per minute",
                           **settings))


def test_limits_hold_across_processes_when_counted_in_redis(app):
    import uuid

    import pytest
    import redis

    from models import Unit, Window, db
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    shared = dict(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0", RATELIMIT_KEY_PREFIX=f"zt-test-{uuid.uuid4().hex}")
    first = _app_like(app, **shared)
    with db.connection_context():
        window = Window.create(unit=Unit.create(code="HA", name="县行政审批局", kind="hall"), number="01", name="企业开办窗口")
    assert [_rate_through(first, window) for _ in range(3)] == [200, 200, 200]
    second = _app_like(app, **shared)  # a second process, started after: the address has spent its three
    assert _rate_through(second, window) == 429
    # In memory, each process counts alone: the same fourth rating goes through.
    alone = _app_like(app)
    assert _rate_through(alone, window) == 200


def test_the_query_code_and_api_message_limits_are_settings_with_unchanged_defaults(app):
    """A load test or an outside probe raises them through configuration; a county keeps the defaults."""
    assert (app.config["TRACK_RATE_LIMIT"], app.config["API_MESSAGE_RATE_LIMIT"]) == ("10 per minute", "20 per hour")
    tight = _app_like(app, TRACK_RATE_LIMIT="2 per minute", API_MESSAGE_RATE_LIMIT="1 per hour")
    client = tight.test_client()
    guesses = [client.get("/api/v1/track?code=ABCDEFGHJKLM").status_code for _ in range(3)]
    assert guesses == [404, 404, 429]
    from tests.conftest import csrf_token
    form = {"code": "ABCDEFGHJKLM", "csrf_token": csrf_token(client, "/track")}
    assert [client.post("/track", data=form).status_code for _ in range(3)] == [404, 404, 429]  # the page: its own count
    messages = [client.post("/api/v1/messages", json={"kind": "opinion", "content": "好"}).status_code for _ in range(2)]
    assert messages == [201, 429]
