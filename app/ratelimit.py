"""The rate limiter's in-process counters, swept once a second instead of by a thread every 10 ms.

limits' MemoryStorage starts a new `threading.Timer` after every hit that finds the last one
finished, to drop expired counters 10 ms later. Under a hall's burst of kiosks that is a hundred
threads a second, and in one Python process it cost a rating a tenth of its throughput
(bench/ratings.py: 0.70 of the bare insert with it, 0.75 without). The counts never depended on
that sweep (MemoryStorage.get drops an expired counter when it is read); only memory does, and a
sweep in passing, at most once a second, keeps that bounded just as well.

Registered as `steady-memory://`, the default RATELIMIT_STORAGE_URI; Redis replaces it when
several processes must share the counts.
"""
import threading
import time

from limits.storage import MemoryStorage

SWEEP_SECONDS = 1.0


class SteadyMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["steady-memory"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._swept_at = time.monotonic()
        self._sweeping = threading.Lock()

    # MemoryStorage calls this (name-mangled, limits==5.8.0 is pinned) on every incr, decr and
    # window entry; tests/test_ratelimit.py fails if a future version stops calling it.
    def _MemoryStorage__schedule_expiry(self):
        if time.monotonic() - self._swept_at < SWEEP_SECONDS or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._swept_at = time.monotonic()
            self._MemoryStorage__expire_events()
        finally:
            self._sweeping.release()
