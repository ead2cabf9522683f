"""The library's own random source: lifetimes spread below their TTL, and retry backoffs."""

from __future__ import annotations

import random

__all__ = ["draw_backoff", "draw_lifetime", "reseed"]

# Separate from the random module's global instance, so that callers seeding that one do not
# line up our lifetimes; a restore from a snapshot reseeds it (see _lifecycle).
_random = random.Random()

_MAX_BACKOFF = 30.0


def draw_lifetime(ttl: float, *, first: bool) -> float:
    """How long one new entry lives: uniform in [0.5 * ttl, ttl] for the first entry of its
    key, in [0.9 * ttl, ttl] for every later one.

    A fleet started in one burst fetches each key at about the same moment; the wide first
    draw spreads its refreshes over half a TTL at once, the narrow later ones keep them apart.
    """
    return _random.uniform((0.5 if first else 0.9) * ttl, ttl)


def draw_backoff(attempt: int) -> float:
    """Seconds to wait after the attempt-th failed refresh in a row, jittered: uniform in
    [d/2, d] for d = 2**(attempt - 1), at most 30, so about 1 s doubling to 15-30 s."""
    delay = min(2.0 ** min(attempt - 1, 16), _MAX_BACKOFF)
    return _random.uniform(delay / 2, delay)


def reseed() -> None:
    """Seed the library's random source afresh from the operating system."""
    _random.seed()
