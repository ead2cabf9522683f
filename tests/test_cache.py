"""The cache core on a fake clock: lifetimes, expiry, budget, LRU, single flight, stats.

The core is the one module tested directly rather than through cached_clients: its clock is
a constructor parameter, so these tests move time instead of sleeping.
"""

import logging
import threading
import time

import pytest
from cached_clients._cache import MISS, Cache

pytestmark = pytest.mark.usefixtures("cached")


class Clock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _core(clock: Clock, max_bytes: int = 1 << 20, cap=None) -> Cache:
    return Cache(
        "test",
        max_bytes=lambda config: max_bytes,
        sizeof=lambda key, value: len(value),
        cap=cap,
        timer=clock,
    )


def _get(core: Cache, key, value: str = "v", ttl: float | None = None) -> str:
    found = core.lookup(key, ttl)
    if found is MISS:
        found = core.load(key, lambda: value, ttl)
    return found


def test_lifetimes_are_spread_uniformly_between_nine_tenths_of_the_ttl_and_the_ttl(clock):
    core = _core(clock)
    keys = range(400)
    for key in keys:
        core.load(key, lambda: "v", ttl=100)

    def fresh_after(seconds: float) -> int:
        clock.now = 1000.0 + seconds
        return sum(core.lookup(key) is not MISS for key in keys)

    assert fresh_after(89.99) == 400
    quarters = [fresh_after(90 + 2.5 * step) for step in (1, 2, 3)]
    assert fresh_after(100.0) == 0
    for expected, fresh in zip((300, 200, 100), quarters, strict=True):
        assert abs(fresh - expected) < 50


def test_an_entry_is_fresh_until_its_lifetime_then_fetched_again(clock):
    core = _core(clock)
    assert _get(core, "k", "first", ttl=10) == "first"

    clock.now += 8.9
    assert _get(core, "k", "second", ttl=10) == "first"
    clock.now += 1.1
    assert _get(core, "k", "second", ttl=10) == "second"
    assert core.stats()["misses"] == 2
    assert core.stats()["hits"] == 1


def test_a_caller_asking_for_a_shorter_ttl_never_gets_an_older_value(clock):
    core = _core(clock)
    _get(core, "k", "old", ttl=300)
    clock.now += 60

    assert _get(core, "k", "new", ttl=30) == "new"
    assert _get(core, "k", "newer", ttl=300) == "new"


def test_the_default_ttl_bounds_entries_stored_with_a_longer_one(clock, monkeypatch, cached):
    monkeypatch.setenv("CACHED_CLIENTS_TTL", "50")
    cached.clear()
    core = _core(clock)
    _get(core, "k", "old", ttl=3600)
    clock.now += 51

    assert _get(core, "k", "new") == "new"


def test_the_cap_shortens_a_lifetime_but_never_lengthens_it(clock):
    core = _core(clock, cap=lambda value: 5.0 if value == "short" else 1e9)
    _get(core, "short", "short", ttl=100)
    _get(core, "long", "long", ttl=100)

    clock.now += 5
    assert core.lookup("short") is MISS
    assert core.lookup("long") == "long"
    clock.now += 95
    assert core.lookup("long") is MISS


def test_a_value_with_no_usable_lifetime_is_returned_not_kept(clock):
    core = _core(clock, cap=lambda value: 0.0)

    assert _get(core, "k", "v", ttl=100) == "v"
    assert core.stats()["entries"] == 0


def test_the_budget_evicts_the_least_recently_used_entry(clock):
    overhead = 400
    core = _core(clock, max_bytes=3 * (overhead + 10))
    for key in "abc":
        _get(core, key, key * 10)
    _get(core, "a")
    _get(core, "d", "d" * 10)

    assert core.lookup("b") is MISS
    assert [core.lookup(key) for key in "acd"] == ["a" * 10, "c" * 10, "d" * 10]
    assert core.stats() == {
        "hits": 4,
        "misses": 4,
        "evictions": 1,
        "entries": 3,
        "bytes": 3 * (overhead + 10),
    }


def test_a_value_bigger_than_the_budget_is_returned_and_logged(clock, caplog):
    caplog.set_level(logging.DEBUG, logger="cached_clients")
    core = _core(clock, max_bytes=1000)
    _get(core, "small", "s")

    assert _get(core, "big", "x" * 2000) == "x" * 2000
    assert core.lookup("big") is MISS
    assert core.lookup("small") == "s"
    assert any("exceeds the budget" in record.getMessage() for record in caplog.records)


def test_a_refresh_goes_upstream_and_replaces_a_fresh_entry(clock):
    core = _core(clock)
    _get(core, "k", "old")

    assert core.load("k", lambda: "new", refresh=True) == "new"
    assert core.lookup("k") == "new"
    assert core.stats()["misses"] == 2


def test_an_older_fetch_finishing_last_does_not_replace_a_newer_answer(clock):
    core = _core(clock)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "older"

    thread = threading.Thread(target=core.load, args=("k", slow))
    thread.start()
    started.wait(10)
    clock.now += 1
    assert core.load("k", lambda: "newer", refresh=True) == "newer"
    release.set()
    thread.join(10)

    assert core.lookup("k") == "newer"


class Upstream:
    """A fetch that blocks until released, then returns its value or raises its error."""

    def __init__(self, value: str = "shared", error: Exception | None = None) -> None:
        self.calls = 0
        self.value, self.error = value, error
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self) -> str:
        self.calls += 1
        self.entered.set()
        self.release.wait(10)
        if self.error is not None:
            raise self.error
        return self.value


def _in_threads(count: int, function) -> tuple[list[threading.Thread], list, list]:
    results, errors = [], []

    def run() -> None:
        try:
            results.append(function())
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, results, errors


def _leader_and_waiters(core: Cache, upstream: Upstream, waiters: int) -> tuple[list, list]:
    leader, results, errors = _in_threads(1, lambda: core.load("k", upstream))
    assert upstream.entered.wait(10)
    others, more_results, more_errors = _in_threads(waiters, lambda: core.load("k", upstream))
    _wait_for(lambda: core.stats()["hits"] >= waiters)
    upstream.release.set()
    for thread in leader + others:
        thread.join(10)
    return results + more_results, errors + more_errors


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.001)


def test_single_flight_waiters_get_the_leaders_value(clock):
    core = _core(clock)
    upstream = Upstream("shared")

    results, errors = _leader_and_waiters(core, upstream, waiters=5)

    assert errors == []
    assert results == ["shared"] * 6
    assert upstream.calls == 1
    assert core.stats()["misses"] == 1


def test_single_flight_waiters_get_the_leaders_exception_and_nothing_is_kept(clock):
    core = _core(clock)
    failure = RuntimeError("upstream is down")
    upstream = Upstream(error=failure)

    results, errors = _leader_and_waiters(core, upstream, waiters=5)

    assert results == []
    assert errors == [failure] * 6
    assert upstream.calls == 1
    assert core.stats()["entries"] == 0
    assert _get(core, "k", "retried") == "retried"


def test_clear_during_a_fetch_keeps_its_result_out_of_the_emptied_cache(clock):
    core = _core(clock)
    upstream = Upstream("from before the clear")
    threads, results, _ = _in_threads(1, lambda: core.load("k", upstream))
    assert upstream.entered.wait(10)

    core.clear()
    upstream.release.set()
    threads[0].join(10)

    assert results == ["from before the clear"]
    assert core.lookup("k") is MISS
    assert core.stats() == {"hits": 0, "misses": 0, "evictions": 0, "entries": 0, "bytes": 0}


def test_ttl_zero_and_disable_bypass_the_core(clock, monkeypatch, cached):
    core = _core(clock)
    _get(core, "k", "kept", ttl=0)
    assert core.stats()["entries"] == 0

    monkeypatch.setenv("CACHED_CLIENTS_DISABLE", "yes")
    cached.clear()
    core.clear()
    assert _get(core, "k", "first") == "first"
    assert _get(core, "k", "second") == "second"
    assert core.stats() == {"hits": 0, "misses": 2, "evictions": 0, "entries": 0, "bytes": 0}
