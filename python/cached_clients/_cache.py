"""The one cache core: expiry per entry, a byte budget with LRU eviction, single flight, stats."""

from __future__ import annotations

import collections
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Hashable

from cached_clients import _config
from cached_clients._budget import Budget
from cached_clients._flight import Flight
from cached_clients._jitter import draw_lifetime
from cached_clients._stale import StandIns

__all__ = ["MISS", "Cache", "caches", "check_ttl", "register"]

logger = logging.getLogger("cached_clients")

MISS = object()
"""What Cache.lookup() returns when it holds no fresh value for the key."""

# Bookkeeping per entry beyond the value and key themselves: the entry tuple, its two floats,
# and a slot in each of the index dict, the LRU order and the size map.
ENTRY_OVERHEAD = 400

# Hits are recorded without a lock; the LRU order learns about the most recent ones the next
# time a writer holds the lock. Older hits are forgotten, which only blurs recency a little.
_TOUCH_LOG = 1024

_caches: list[Cache] = []


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


class Cache:
    """Values by key, each with its own expiry, within a byte budget, fetched once per miss.

    Entries are tuples (value, expires, fetched, size, expires_by_default_ttl) on the
    ``timer`` clock. ``lookup`` reads fresh values without a lock; writes, evictions and
    flights happen under one lock. ``stale_until`` lets an expired value stand in for a
    failed refresh (see StandIns).
    """

    def __init__(
        self,
        name: str,
        *,
        max_bytes: Callable[[_config.Config], int],
        sizeof: Callable[[Hashable, object], int],
        cap: Callable[[object], float] | None = None,
        stale_until: Callable[[BaseException, object, float, float], float] | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._max_bytes = max_bytes
        self._sizeof = sizeof
        self._cap = cap
        self._stand_ins = StandIns(name, stale_until)
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
        such a flight. Exceptions reach every caller and are never stored; where stale_until
        allows, the expired value is returned instead (never for a refresh).
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
                flight = Flight()
                if not refresh:
                    self._flights[key] = flight
                generation = self._generation

        if found is MISS:
            return self._fetch(key, fetch, ttl, flight, generation, refresh=refresh)
        if isinstance(found, Flight):
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

    def after_fork(self) -> None:
        """Make the cache usable in a forked child; the values stay.

        The child gets a new lock (another thread may have held the old one at the fork) and
        forgets the flights in progress, whose threads did not survive the fork.
        """
        self._lock = threading.Lock()
        self._flights = {}

    def _reset(self) -> None:
        # The lock-free reader holds these objects, so they are emptied, never replaced.
        self._index.clear()
        self._touched.clear()
        self._hit_offset = next(self._hit_ticks) + 1
        self._flights: dict[Hashable, Flight] = {}
        self._stand_ins.clear()
        self._budget: Budget | None = None
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
            self._budget = Budget(self._max_bytes(config), self._evicted)
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

        if entry is not None and self._stand_ins.backing_off(key, now):
            self._hit()
            return entry[0]  # the stale value, until the backoff allows another try
        return MISS

    def _fetch(
        self,
        key: Hashable,
        fetch: Callable[[], object],
        ttl: float,
        flight: Flight,
        generation: int,
        *,
        refresh: bool,
    ) -> object:
        logger.debug("%s: miss; fetching upstream", self.name)
        started = self._timer()
        try:
            value = fetch()
        except BaseException as error:
            return self._recover(key, flight, error, None if refresh else ttl)

        with self._lock:
            self._end_flight(key, flight)
            if generation == self._generation:
                self._store(key, value, ttl, started)
        flight.finish(value)
        return value

    def _recover(
        self, key: Hashable, flight: Flight, error: BaseException, ttl: float | None
    ) -> object:
        """Settle a failed fetch: the caller and every waiter get the error, nothing is stored,
        unless the expired value may stand in (ttl is None for a refresh, which never gets one).
        """
        with self._lock:
            self._end_flight(key, flight)
            stale = MISS if ttl is None else self._stand_in(key, error, ttl)
        if stale is MISS:
            flight.finish(error=error)
            raise error
        flight.finish(stale)
        return stale

    def _stand_in(self, key: Hashable, error: BaseException, ttl: float) -> object:
        """The expired value to serve in place of a failed refresh, else MISS (under the lock)."""
        entry = self._index.get(key)
        if entry is None:
            return MISS

        value, fetched = entry[0], entry[2]
        expired = min(entry[1], fetched + ttl)
        now = self._timer()
        if self._stand_ins.admit(key, error, value, fetched=fetched, expired=expired, now=now):
            return value
        return MISS

    def _end_flight(self, key: Hashable, flight: Flight) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]

    def _store(self, key: Hashable, value: object, ttl: float, started: float) -> None:
        old = self._index.get(key)
        if old is not None and old[2] > started:
            return  # a fetch that started later has already stored its answer

        self._stand_ins.forget(key)
        # First means no entry held: a key that the budget evicted draws wide again, since a
        # record of every key ever seen would outgrow the budget; its refetch follows traffic,
        # not the burst, so it costs some calls and never brings peers in step.
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
        # Drop the key's own old entry first: left in place, the LRU could evict it to make
        # room for its successor and count that as an eviction.
        self._budget.pop(key, None)
        self._budget[key] = entry
        self._index[key] = entry

    def _discard(self, key: Hashable) -> None:
        self._index.pop(key, None)
        self._stand_ins.forget(key)
        if key in self._budget:
            del self._budget[key]

    def _evicted(self, key: Hashable) -> None:
        self._index.pop(key, None)
        self._stand_ins.forget(key)
        self._evictions += 1
        logger.debug("%s: evicted the least recently used entry to keep the budget", self.name)

    def _settle(self) -> None:
        """Replay the hits recorded without a lock into the LRU order (under the lock)."""
        if self._budget is None:
            self._touched.clear()
        else:
            self._budget.replay(self._touched)

    def _bypass(self, fetch: Callable[[], object]) -> object:
        with self._lock:
            self._misses += 1
        logger.debug("%s: caching is off for this call; fetching upstream", self.name)
        return fetch()
