"""Fleet-wide spread: upstream calls per second when a fleet started in one burst refreshes.

Each environment caches one key, asks for it once per interval and calls upstream on a miss
(at its first request, then at the first request at or after its entry's expiry). The
lifetime of each new entry comes from a policy, so only the refresh events are simulated:
about one per environment per TTL, instead of one per request.
"""

import dataclasses
import math
import random
import statistics
from collections.abc import Callable, Sequence

__all__ = [
    "POLICIES",
    "Fleet",
    "Spread",
    "first_wider",
    "fixed_ttl",
    "from_samples",
    "jitter",
    "per_second",
    "percentile",
    "simulate",
    "summarize",
]

# (random source, ttl, is this the key's first entry in the process) -> lifetime in seconds
Lifetime = Callable[[random.Random, float, bool], float]


def fixed_ttl(rng: random.Random, ttl: float, first: bool) -> float:
    """Every entry lives exactly the TTL."""
    return ttl


def jitter(rng: random.Random, ttl: float, first: bool) -> float:
    """Every entry lives a uniform draw from [0.9·ttl, ttl] (runtime v1)."""
    return rng.uniform(0.9 * ttl, ttl)


def first_wider(rng: random.Random, ttl: float, first: bool) -> float:
    """A key's first entry in a process draws from [0.5·ttl, ttl], later ones [0.9·ttl, ttl]."""
    return rng.uniform((0.5 if first else 0.9) * ttl, ttl)


def from_samples(first: Sequence[float], later: Sequence[float]) -> Lifetime:
    """A policy that draws lifetimes (as fractions of the TTL) from measured samples."""
    if not first or not later:
        raise ValueError("from_samples needs at least one first and one later lifetime")

    def sampled(rng: random.Random, ttl: float, is_first: bool) -> float:
        return rng.choice(first if is_first else later) * ttl

    return sampled


POLICIES: dict[str, Lifetime] = {
    "fixed TTL": fixed_ttl,
    "[0.9, 1]·ttl jitter alone": jitter,
    "first [0.5, 1]·ttl, then [0.9, 1]": first_wider,
}


@dataclasses.dataclass(frozen=True)
class Fleet:
    """Environments that start uniformly within ``start_window`` seconds and keep asking."""

    environments: int = 1000
    start_window: float = 10.0
    interval: float = 1.0
    ttl: float = 300.0
    duration: float = 7200.0


@dataclasses.dataclass(frozen=True)
class Spread:
    """Upstream calls of one simulated fleet: refresh calls per second, and every call."""

    peak: int
    p99: int
    mean: float
    total_calls: int
    cold_start_peak: int


def _environment_calls(fleet: Fleet, lifetime: Lifetime, rng: random.Random) -> list[float]:
    start = rng.uniform(0.0, fleet.start_window)
    requests = math.ceil((fleet.duration - start) / fleet.interval)
    calls, index, first = [], 0, True
    while index < requests:
        calls.append(start + index * fleet.interval)
        # A request at or after the expiry misses; requests come every interval.
        index += max(1, math.ceil(lifetime(rng, fleet.ttl, first) / fleet.interval))
        first = False
    return calls


def simulate(fleet: Fleet, lifetime: Lifetime, seed: int) -> list[list[float]]:
    """The times of every upstream call, one list per environment (its cold start first)."""
    rng = random.Random(seed)
    return [_environment_calls(fleet, lifetime, rng) for _ in range(fleet.environments)]


def per_second(times: Sequence[float], duration: float) -> list[int]:
    """How many of ``times`` fall in each whole second of [0, duration)."""
    counts = [0] * math.ceil(duration)
    for moment in times:
        counts[int(moment)] += 1
    return counts


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with ``fraction`` of values at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summarize(fleet: Fleet, calls: Sequence[Sequence[float]]) -> Spread:
    """Peak, p99 and mean refresh calls per second, total calls and the cold-start peak.

    Every environment's first call is its cold start, the same under every policy, so the
    per-second figures count refreshes only; ``total_calls`` counts every call.
    """
    refreshes = per_second([t for one in calls for t in one[1:]], fleet.duration)
    cold_starts = per_second([one[0] for one in calls if one], fleet.duration)
    return Spread(
        peak=max(refreshes),
        p99=int(percentile(refreshes, 0.99)),
        mean=statistics.fmean(refreshes),
        total_calls=sum(len(one) for one in calls),
        cold_start_peak=max(cold_starts),
    )
