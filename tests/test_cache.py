"""The cache core on a fake clock: lifetimes, expiry, budget, LRU, single flight, stats.

The core is the one module tested directly rather than through cached_clients: its clock is
a constructor parameter, so these tests move time instead of sleeping. Every behaviour a user
relies on is also tested through the public API (test_jitter, test_dynamodb, test_sts,
test_api, test_stale_if_error); these pin the core's own edges.
"""

import itertools
import logging
import math
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


def _fresh_counts(core: Cache, clock: Clock, keys, start: float, offsets) -> list[int]:
    """How many of the keys are fresh at each offset (seconds after start) on the clock."""
    counts = []
    for offset in offsets:
        clock.now = start + offset
        counts.append(sum(core.lookup(key) is not MISS for key in keys))
    return counts


def _assert_uniform(counts: list[int], total: int) -> None:
    """counts[0] is all, counts[-1] none, and the three between fall by about a quarter each."""
    assert counts[0] == total
    assert counts[-1] == 0
    # 400 draws put each count within 5.7 standard deviations of its expectation.
    for expected, fresh in zip((0.75, 0.5, 0.25), counts[1:-1], strict=True):
        assert abs(fresh - expected * total) < 50


def test_first_entries_live_uniformly_between_half_the_ttl_and_the_ttl(clock):
    core = _core(clock)
    keys = range(400)
    for key in keys:
        core.load(key, lambda: "v", ttl=100)

    counts = _fresh_counts(core, clock, keys, 1000.0, (49.99, 62.5, 75, 87.5, 100))

    _assert_uniform(counts, 400)


def test_later_entries_live_uniformly_between_nine_tenths_of_the_ttl_and_the_ttl(clock):
    core = _core(clock)
    keys = range(400)
    for key in keys:
        core.load(key, lambda: "first", ttl=100)
    clock.now = 1100.0
    for key in keys:
        assert core.load(key, lambda: "later", ttl=100) == "later"

    counts = _fresh_counts(core, clock, keys, 1100.0, (89.99, 92.5, 95, 97.5, 100))

    _assert_uniform(counts, 400)


def test_after_clear_every_key_draws_a_first_lifetime_again(clock):
    core = _core(clock)
    keys = range(400)
    for key in keys:
        core.load(key, lambda: "v", ttl=100)
    clock.now = 1100.0
    for key in keys:
        core.load(key, lambda: "v", ttl=100)

    core.clear()
    for key in keys:
        core.load(key, lambda: "v", ttl=100)

    counts = _fresh_counts(core, clock, keys, 1100.0, (49.99, 62.5, 75, 87.5, 100))
    _assert_uniform(counts, 400)


def test_an_entry_is_fresh_until_its_lifetime_then_fetched_again(clock):
    core = _core(clock)
    assert _get(core, "k", "first", ttl=10) == "first"

    clock.now += 4.9
    assert _get(core, "k", "second", ttl=10) == "first"
    clock.now += 5.1
    assert _get(core, "k", "second", ttl=10) == "second"
    clock.now += 8.9
    assert _get(core, "k", "third", ttl=10) == "second"
    clock.now += 1.1
    assert _get(core, "k", "third", ttl=10) == "third"
    assert core.stats()["misses"] == 3
    assert core.stats()["hits"] == 2


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


def test_a_refreshed_entry_replaces_its_own_and_evicts_only_what_it_must(clock):
    overhead = 400
    core = _core(clock, max_bytes=3 * (overhead + 10))
    for key in "abc":
        _get(core, key, key * 10, ttl=100)
    clock.now += 200
    _get(core, "a", "a" * 20, ttl=100)

    stats = core.stats()
    assert stats["evictions"] == 1
    assert stats["entries"] == 2
    assert stats["bytes"] == 2 * overhead + 20 + 10
    assert core.lookup("a") == "a" * 20


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


# Stale-if-error: an expired value standing in for a failed refresh, with a backoff.


class Transient(Exception):
    """The kind of failure that the test policy lets an expired value stand in for."""


class Failing:
    """A fetch that raises its error (or returns its value once the error is None)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return "new"


def _stale_core(clock: Clock, window: float = 60.0) -> Cache:
    def stale_until(error, value, fetched, expired) -> float:
        return expired + window if isinstance(error, Transient) else -math.inf

    return Cache(
        "test",
        max_bytes=lambda config: 1 << 20,
        sizeof=lambda key, value: len(value),
        stale_until=stale_until,
        timer=clock,
    )


def test_a_failed_refresh_serves_the_expired_value_logs_a_warning_and_backs_off(clock, caplog):
    core = _stale_core(clock)
    core.load("k", lambda: "old", ttl=10)
    clock.now += 10.01
    upstream = Failing(Transient("throttled"))

    assert core.load("k", upstream, ttl=10) == "old"
    assert core.load("k", upstream, ttl=10) == "old"
    clock.now += 0.49
    assert core.load("k", upstream, ttl=10) == "old"
    assert upstream.calls == 1
    clock.now += 0.51
    assert core.load("k", upstream, ttl=10) == "old"
    assert upstream.calls == 2

    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "refresh failed (Transient)" in warnings[0].getMessage()


def _attempt_times(core: Cache, clock: Clock, upstream: Failing, seconds: float) -> list[float]:
    """Ask for "k" every 10 ms for that long; the clock times at which upstream was called."""
    times, start = [], clock.now
    while clock.now - start < seconds:
        calls = upstream.calls
        assert core.load("k", upstream, ttl=10) == "old"
        if upstream.calls > calls:
            times.append(clock.now)
        clock.now += 0.01
    return times


def test_the_backoff_doubles_from_about_a_second_to_at_most_thirty(clock):
    core = _stale_core(clock, window=1e6)
    core.load("k", lambda: "old", ttl=10)
    clock.now += 10.01

    times = _attempt_times(core, clock, Failing(Transient()), seconds=240)

    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) >= 9
    for attempt, gap in enumerate(gaps, start=1):
        delay = min(2.0 ** (attempt - 1), 30.0)
        assert delay / 2 - 0.011 <= gap <= delay + 0.011, (attempt, gap)


def test_the_backoff_is_jittered(clock):
    core = _stale_core(clock)
    keys = range(400)
    for key in keys:
        core.load(key, lambda: "old", ttl=10)
    clock.now += 10.01
    upstream = Failing(Transient())
    for key in keys:
        core.load(key, upstream, ttl=10)

    # The first waits are uniform in [0.5, 1] s: a quarter of the keys retry within 0.625 s
    # (100, give or take 50: 5.8 standard deviations).
    clock.now += 0.625
    for key in keys:
        core.load(key, upstream, ttl=10)
    assert 50 < upstream.calls - 400 < 150


def test_a_success_ends_the_backoff_and_the_next_failure_starts_it_afresh(clock):
    core = _stale_core(clock, window=1e6)
    core.load("k", lambda: "old", ttl=10)
    clock.now += 10.01
    upstream = Failing(Transient())
    _attempt_times(core, clock, upstream, seconds=20)

    upstream.error = None
    clock.now += 30
    assert core.load("k", upstream, ttl=10) == "new"
    assert core.lookup("k") == "new"

    clock.now += 10.01
    upstream.error = Transient()
    assert core.load("k", upstream, ttl=10) == "new"
    calls = upstream.calls
    clock.now += 1.0
    assert core.load("k", upstream, ttl=10) == "new"
    assert upstream.calls == calls + 1


def test_past_its_stale_window_the_failure_is_raised(clock):
    core = _stale_core(clock, window=60)
    start = clock.now
    core.load("k", lambda: "old", ttl=10)
    upstream = Failing(Transient())

    clock.now = start + 64.9  # the entry expired 5 to 10 s in: its window ends at 65 to 70
    assert core.load("k", upstream, ttl=10) == "old"
    clock.now = start + 70.01
    with pytest.raises(Transient):
        core.load("k", upstream, ttl=10)
    with pytest.raises(Transient):
        core.load("k", upstream, ttl=10)
    assert upstream.calls == 3


def test_a_failure_the_policy_refuses_is_raised_at_once_every_time(clock, caplog):
    core = _stale_core(clock)
    core.load("k", lambda: "old", ttl=10)
    clock.now += 10.01
    upstream = Failing(RuntimeError("a bug, not an outage"))

    for _ in range(3):
        with pytest.raises(RuntimeError):
            core.load("k", upstream, ttl=10)

    assert upstream.calls == 3
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_a_refresh_never_gets_a_stale_value(clock):
    core = _stale_core(clock)
    core.load("k", lambda: "old", ttl=10)
    clock.now += 10.01

    with pytest.raises(Transient):
        core.load("k", Failing(Transient()), ttl=10, refresh=True)


def test_waiters_on_a_failed_refresh_get_the_stale_value_too(clock):
    core = _stale_core(clock)
    core.load("k", lambda: "old", ttl=10)
    clock.now += 10.01
    upstream = Upstream(error=Transient())

    results, errors = _leader_and_waiters(core, upstream, waiters=5)

    assert errors == []
    assert results == ["old"] * 6
    assert upstream.calls == 1


def test_clear_forgets_the_stale_value_and_its_backoff(clock):
    core = _stale_core(clock)
    core.load("k", lambda: "old", ttl=10)
    clock.now += 10.01
    upstream = Failing(Transient())
    assert core.load("k", upstream, ttl=10) == "old"

    core.clear()

    with pytest.raises(Transient):
        core.load("k", upstream, ttl=10)
    assert upstream.calls == 2
