"""The cache core's byte budget: sizes and LRU order on cachetools, evictions reported."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable

import cachetools

__all__ = ["Budget"]


class Budget(cachetools.LRUCache):
    """Byte accounting and LRU order of entries sized by their fourth field; reports every
    entry it evicts to keep the budget."""

    def __init__(self, maxsize: int, on_evict: Callable[[Hashable], None]) -> None:
        super().__init__(maxsize, getsizeof=_entry_size)
        self._on_evict = on_evict

    def popitem(self) -> tuple[Hashable, tuple]:
        """Drop the least recently used entry and report it."""
        key, entry = super().popitem()
        self._on_evict(key)
        return key, entry

    def replay(self, touched: deque[Hashable]) -> None:
        """Mark the keys read since the last replay most recently used, oldest first, and
        empty the record; keys no longer held are skipped."""
        for _ in range(len(touched)):
            key = touched.popleft()
            if key in self:
                self[key]  # reading an LRUCache entry marks it most recently used


def _entry_size(entry: tuple) -> int:
    return entry[3]
