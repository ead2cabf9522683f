"""The one cache core: expiry per entry, a byte budget with LRU eviction, single flight, stats."""

from __future__ import annotations

import collections
import itertools
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Hashable

import cachetools

from cached_clients import _config

__all__ = ["MISS", "Cache", "caches", "check_ttl", "draw_lifetime", "register"]

logger = logging.getLogger("cached_clients")

MISS = object()
"""What Cache.lookup() returns when it holds no fresh value for the key."""

# Bookkeeping per entry beyond the value and key themselves: the entry tuple, its two floats,
# and a slot in each of the index dict, the LRU order and the size map.
ENTRY_OVERHEAD = 400

# Hits are recorded without a lock; the LRU order learns about the most recent ones the next
# time a writer holds the lock. Older hits are forgotten, which only blurs recency a little.
_TOUCH_LOG = 1024

_random = random.Random()
_caches: list[Cache] = []


def draw_lifetime(ttl: float, *, first: bool) -> float:
    """How long one new entry lives: uniform in [0.9 * ttl, ttl], so peers refresh apart.

    ``first`` tells whether the key holds no entry in this process yet; today every entry
    draws from the same range.
    """
    return _random.uniform(0.9 * ttl, ttl)


def caches() -> tuple[Cache, ...]:
    """Every registered cache core, so that clear() and lifecycle hooks can reach them all."""
    return tuple(_caches)


def register(cache: Cache) -> Cache:
    """Add the cache to the registry that caches() reads, and return it."""
    _caches.append(cache)
    return cache


def check_ttl(ttl: object) -> None:
    """Raise unless ttl is None or a finite, non-negative number of seconds."""
    if ttl is None:
        return
    if type(ttl) not in (int, float):
        raise TypeError(f"ttl must be None or a number of seconds, not {type(ttl).__name__}")
    if not math.isfinite(ttl) or ttl < 0:
        raise ValueError(f"ttl must be a finite, non-negative number of seconds, not {ttl!r}")


class _Flight:
    """One upstream call in progress; callers that want the same key wait for its outcome."""

    __slots__ = ("_done", "_error", "_value")

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: object = None
        self._error: BaseException | None = None

    def finish(self, value: object = None, error: BaseException | None = None) -> None:
        """Publish the outcome and wake every waiter."""
        self._value, self._error = value, error
        self._done.set()

    def wait(self) -> object:
        """The leader's value, or its exception raised here."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class _Budget(cachetools.LRUCache):
    """Byte accounting and LRU order; reports every entry it evicts to keep the budget."""

    def __init__(self, maxsize: int, on_evict: Callable[[Hashable], None]) -> None:
        super().__init__(maxsize, getsizeof=_entry_size)
        self._on_evict = on_evict

    def popitem(self) -> tuple[Hashable, tuple]:
        """Drop the least recently used entry and report it."""
        key, entry = super().popitem()
        self._on_evict(key)
        return key, entry


def _entry_size(entry: tuple) -> int:
    return entry[3]


class Cache:
    """Values by key, each with its own expiry, within a byte budget, fetched once per miss.

    Entries are tuples (value, expires, fetched, size, expires_by_default_ttl) on the
    ``timer`` clock. ``lookup`` reads fresh values without a lock; writes, evictions and
    flights happen under one lock.
    """

    def __init__(
        self,
        name: str,
        *,
        max_bytes: Callable[[_config.Config], int],
        sizeof: Callable[[Hashable, object], int],
        cap: Callable[[object], float] | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._max_bytes = max_bytes
        self._sizeof = sizeof
        self._cap = cap
        self._timer = timer
        self._lock = threading.Lock()
        self._index: dict[Hashable, tuple] = {}
        self._touched: collections.deque[Hashable] = collections.deque(maxlen=_TOUCH_LOG)
        # next() on itertools.count is atomic under the GIL, so lock-free hits are never lost.
        self._hit_ticks = itertools.count()
        self._hit = self._hit_ticks.__next__
        self._hit_offset = 0
        self._generation = 0
        self._reset()
        self.lookup = self._reader()

    def _reader(self) -> Callable[[Hashable, float | None], object]:
        """The lock-free read of a fresh value; a closure, since this is every warm call."""
        find, timer, hit, touch = self._index.get, self._timer, self._hit, self._touched.append

        def lookup(key: Hashable, ttl: float | None = None) -> object:
            """The value under key if fresh (and younger than ttl, if given), else MISS."""
            entry = find(key)
            if entry is None:
                return MISS
            now = timer()
            if (now < entry[4]) if ttl is None else (now < entry[1] and now - entry[2] < ttl):
                hit()
                touch(key)
                return entry[0]
            return MISS

        return lookup

    def load(
        self,
        key: Hashable,
        fetch: Callable[[], object],
        ttl: float | None = None,
        *,
        refresh: bool = False,
    ) -> object:
        """The value under key; when it is missing or stale (or refresh is true), fetch it.

        Concurrent misses on one key share one call of fetch; a refresh never joins or leads
        such a flight. Exceptions reach every caller and are never stored.
        """
        config = _config.current()
        ttl = config.ttl if ttl is None else ttl
        if config.disabled or ttl <= 0:
            return self._bypass(fetch)

        with self._lock:
            self._prepare(config)
            found = MISS if refresh else self._fresh_or_flight(key, ttl)
            if found is MISS:
                self._misses += 1
                flight = _Flight()
                if not refresh:
                    self._flights[key] = flight
                generation = self._generation

        if found is MISS:
            return self._fetch(key, fetch, ttl, flight, generation)
        if isinstance(found, _Flight):
            return found.wait()
        return found

    def stats(self) -> dict[str, int]:
        """Hits, misses (calls that went upstream), evictions, entries and bytes held.

        A caller that waited for another caller's fetch of the same key counts as a hit.
        """
        with self._lock:
            self._settle()
            return {
                "hits": self._hits(),
                "misses": self._misses,
                "evictions": self._evictions,
                "entries": len(self._index),
                "bytes": 0 if self._budget is None else self._budget.currsize,
            }

    def clear(self) -> None:
        """Drop every entry and reset the statistics; fetches in flight store nothing."""
        with self._lock:
            self._generation += 1
            self._reset()

    def _reset(self) -> None:
        # The lock-free reader holds these objects, so they are emptied, never replaced.
        self._index.clear()
        self._touched.clear()
        self._hit_offset = next(self._hit_ticks) + 1
        self._flights: dict[Hashable, _Flight] = {}
        self._budget: _Budget | None = None
        self._default_ttl = 0.0
        self._misses = 0
        self._evictions = 0

    def _hits(self) -> int:
        # Reading the count takes a tick of its own, which the offset then skips.
        hits = next(self._hit_ticks) - self._hit_offset
        self._hit_offset += 1
        return hits

    def _prepare(self, config: _config.Config) -> None:
        if self._budget is None:
            self._budget = _Budget(self._max_bytes(config), self._evicted)
            self._default_ttl = config.ttl

    def _fresh_or_flight(self, key: Hashable, ttl: float) -> object:
        """The fresh value, else the flight already fetching it, else MISS (under the lock)."""
        entry = self._index.get(key)
        now = self._timer()
        if entry is not None and now < entry[1] and now - entry[2] < ttl:
            self._hit()
            self._touched.append(key)
            return entry[0]

        flight = self._flights.get(key)
        if flight is not None:
            self._hit()
            return flight
        return MISS

    def _fetch(
        self,
        key: Hashable,
        fetch: Callable[[], object],
        ttl: float,
        flight: _Flight,
        generation: int,
    ) -> object:
        logger.debug("%s: miss; fetching upstream", self.name)
        started = self._timer()
        try:
            value = fetch()
        except BaseException as error:
            return self._recover(key, flight, error)

        with self._lock:
            self._end_flight(key, flight)
            if generation == self._generation:
                self._store(key, value, ttl, started)
        flight.finish(value)
        return value

    def _recover(self, key: Hashable, flight: _Flight, error: BaseException) -> object:
        """Settle a failed fetch: the caller and every waiter get the error, nothing is stored."""
        with self._lock:
            self._end_flight(key, flight)
        flight.finish(error=error)
        raise error

    def _end_flight(self, key: Hashable, flight: _Flight) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]

    def _store(self, key: Hashable, value: object, ttl: float, started: float) -> None:
        old = self._index.get(key)
        if old is not None and old[2] > started:
            return  # a fetch that started later has already stored its answer

        lifetime = draw_lifetime(ttl, first=old is None)
        if self._cap is not None:
            lifetime = min(lifetime, self._cap(value))
        size = self._sizeof(key, value) + ENTRY_OVERHEAD
        if lifetime <= 0 or size > self._budget.maxsize:
            self._discard(key)
            if lifetime > 0:
                logger.debug(
                    "%s: a value of %d bytes exceeds the budget of %d bytes; returned, not kept",
                    self.name,
                    size,
                    self._budget.maxsize,
                )
            return

        self._settle()
        expires = started + lifetime
        entry = (value, expires, started, size, min(expires, started + self._default_ttl))
        self._budget[key] = entry
        self._index[key] = entry

    def _discard(self, key: Hashable) -> None:
        self._index.pop(key, None)
        if key in self._budget:
            del self._budget[key]

    def _evicted(self, key: Hashable) -> None:
        self._index.pop(key, None)
        self._evictions += 1
        logger.debug("%s: evicted the least recently used entry to keep the budget", self.name)

    def _settle(self) -> None:
        """Replay the hits recorded without a lock into the LRU order (under the lock)."""
        touched, budget = self._touched, self._budget
        if budget is None:
            touched.clear()
            return
        for _ in range(len(touched)):
            key = touched.popleft()
            if key in budget:
                budget[key]  # reading an LRUCache entry marks it most recently used

    def _bypass(self, fetch: Callable[[], object]) -> object:
        with self._lock:
            self._misses += 1
        logger.debug("%s: caching is off for this call; fetching upstream", self.name)
        return fetch()
