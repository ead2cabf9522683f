"""Stale-if-error for the cache core: when an expired value may stand in for a failed refresh,
and when upstream may be tried again."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable

from cached_clients._errors import describe
from cached_clients._jitter import draw_backoff

__all__ = ["StandIns"]

logger = logging.getLogger("cached_clients")


class StandIns:
    """The keys whose expired value stands in for a failed refresh, each with its backoff.

    ``stale_until(error, value, fetched, expired)`` says until when an expired value may stand
    in for a refresh that failed with that error (a time on the cache's clock; one in the past
    means raise). The cache calls every method under its lock.
    """

    __slots__ = ("_name", "_retries", "_stale_until")

    def __init__(
        self,
        name: str,
        stale_until: Callable[[BaseException, object, float, float], float] | None,
    ) -> None:
        self._name = name
        self._stale_until = stale_until
        self._retries: dict[Hashable, _Retry] = {}

    def backing_off(self, key: Hashable, now: float) -> bool:
        """Whether the key's value stands in and its backoff has not yet run out."""
        retry = self._retries.get(key)
        return retry is not None and now < retry.at

    def admit(
        self,
        key: Hashable,
        error: BaseException,
        value: object,
        *,
        fetched: float,
        expired: float,
        now: float,
    ) -> bool:
        """Whether value (fetched and expired at those times) may stand in for the refresh
        that failed with error; if so, start or lengthen the key's backoff and log a WARNING
        that names the error, never the value."""
        if self._stale_until is None:
            return False
        until = self._stale_until(error, value, fetched, expired)
        if now >= until:
            self._retries.pop(key, None)
            return False

        retry = self._retries.get(key)
        attempt = 1 if retry is None else retry.attempt + 1
        wait = draw_backoff(attempt)
        self._retries[key] = _Retry(attempt, min(now + wait, until))
        logger.warning(
            "%s: refresh failed (%s); serving the value that expired %.1f s ago, "
            "usable for %.1f s more; next try in %.1f s",
            self._name,
            describe(error),
            now - expired,
            until - now,
            wait,
        )
        return True

    def forget(self, key: Hashable) -> None:
        """End the key's backoff: it was fetched, evicted or dropped."""
        self._retries.pop(key, None)

    def clear(self) -> None:
        """End every backoff."""
        self._retries.clear()


class _Retry:
    """``attempt`` counts the failed refreshes in a row; ``at`` is the next try."""

    __slots__ = ("at", "attempt")

    def __init__(self, attempt: int, at: float) -> None:
        self.attempt = attempt
        self.at = at
