"""The cache core's single flight: the one upstream call in progress per key."""

from __future__ import annotations

import threading

__all__ = ["Flight"]


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
