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
