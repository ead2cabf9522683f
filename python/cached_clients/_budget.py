"""The cache core's byte budget: sizes and LRU order on cachetools, evictions reported."""

from __future__ import annotations

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


def _entry_size(entry: tuple) -> int:
    return entry[3]
