"""The library-wide operations: statistics of every cache, and emptying them all."""

from __future__ import annotations

from cached_clients import _cache, _clients, _config, _dynamodb, _sts

__all__ = ["clear", "stats"]


def stats() -> dict[str, dict[str, int]]:
    """Per cache ("sts", "dynamodb"): hits, misses, evictions, entries and bytes.

    Misses count every call that went upstream; evictions, the entries dropped to keep the
    byte budget. Expired entries are held (and counted) until they are fetched again; one
    served in place of a failed refresh counts as a hit while the backoff lasts.
    """
    return {cache.name: cache.stats() for cache in _cache.caches()}


def clear() -> None:
    """Empty every cache, clients included, and reset the statistics.

    The environment is read again on the next call, which is how tests change settings, and
    every key's next entry draws a first lifetime again.
    """
    for cache in _cache.caches():
        cache.clear()
    _dynamodb.forget()
    _sts.forget()
    _clients.forget()
    _config.forget()
