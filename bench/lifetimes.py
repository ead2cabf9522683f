"""The lifetimes cached_clients really gives its entries, sampled through its public API.

Many keys are read in a tight loop with a short TTL; a call that makes ``stats()`` count one
more miss marks the end of that key's entry. GetItem is answered inside botocore with "no
item" (a missing item is cached like any other result), so a refresh costs a fraction of a
millisecond and cannot hold up the loop. The fleet simulation draws from these samples to
model our library as it is, not as it was meant to be.
"""

import dataclasses
import time

from bench import _item, _stand_in

__all__ = ["Lifetimes", "sample"]


@dataclasses.dataclass(frozen=True)
class Lifetimes:
    """Entry lifetimes as fractions of the TTL: each key's first entry, and later entries."""

    first: list[float]
    later: list[float]
    ttl: float


def _misses(cached_clients) -> int:
    return cached_clients.stats()["dynamodb"]["misses"]


def _watch(cached_clients, keys: list[dict], later: int, ttl: float) -> Lifetimes:
    """Read every key until its entry has been refreshed ``later`` times."""
    get = cached_clients.get_item
    get(_item.TABLE, _item.key(0), ttl=ttl)  # makes the client outside any measured lifetime
    stored_at = []
    for key in keys:
        stored_at.append(time.monotonic())
        get(_item.TABLE, key, ttl=ttl)

    first: list[float] = []
    after: list[float] = []
    refreshes = [0] * len(keys)
    pending = set(range(len(keys)))
    count = _misses(cached_clients)
    while pending:
        for index in sorted(pending):
            now = time.monotonic()
            get(_item.TABLE, keys[index], ttl=ttl)
            if _misses(cached_clients) == count:
                continue
            count += 1
            (after if refreshes[index] else first).append((now - stored_at[index]) / ttl)
            stored_at[index], refreshes[index] = now, refreshes[index] + 1
            if refreshes[index] > later:
                pending.discard(index)
    return Lifetimes(first, after, ttl)


def sample(keys: int, later: int, ttl: float) -> Lifetimes:
    """Lifetimes of ``keys`` first entries and ``later`` refreshed entries of each key."""
    import cached_clients

    with _stand_in.get_item_answered_by(lambda key: None):
        cached_clients.clear()
        try:
            return _watch(cached_clients, [_item.key(900_000 + i) for i in range(keys)], later, ttl)
        finally:
            cached_clients.clear()
