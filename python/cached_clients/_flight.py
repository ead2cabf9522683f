"""The cache core's upstream calls: the one in progress per key, and the next after a failure."""

from __future__ import annotations

import threading

__all__ = ["Flight", "Retry"]


class Flight:
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


class Retry:
    """A key whose refresh failed while its old value stands in: when to try upstream again.

    ``attempt`` counts the failures in a row, ``at`` is the next try and ``until`` the end of
    the time the old value may stand in, both on the cache's clock.
    """

    __slots__ = ("at", "attempt", "until")

    def __init__(self, attempt: int, at: float, until: float) -> None:
        self.attempt = attempt
        self.at = at
        self.until = until
