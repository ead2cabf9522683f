"""The fleet simulation's figures: each lifetime policy over several seeds, as table rows."""

from bench import spread
from bench._timing import Settings
from bench.report import Figure, Row

__all__ = ["run"]

OURS = "first [0.5, 1]·ttl, then [0.9, 1]"


def _per_policy(settings: Settings, fleet: spread.Fleet) -> dict[str, list[spread.Spread]]:
    return {
        name: [
            spread.summarize(fleet, spread.simulate(fleet, lifetime, seed))
            for seed in range(settings.seeds)
        ]
        for name, lifetime in spread.POLICIES.items()
    }


def _figure(
    name: str, unit: str, values: dict[str, list[float]], note: str = "", digits: int = 0
) -> Figure:
    shown_as = (lambda value: f"{value:.{digits}f}") if digits else None
    rows = [
        Row(f"ours: {policy}" if policy == OURS else policy, samples, shown_as=shown_as)
        for policy, samples in values.items()
    ]
    ours = next(row for row in rows if row.side.startswith("ours"))
    return Figure(name, unit, ours, [row for row in rows if row is not ours], note=note)


def run(settings: Settings) -> list[Figure]:
    """Peak, p99 and mean refresh calls per second, and total calls relative to a fixed TTL."""
    fleet = spread.Fleet()
    results = _per_policy(settings, fleet)
    fixed = results["fixed TTL"]
    note = (
        f"{fleet.environments:,} environments started within {fleet.start_window:g} s, one "
        f"request per {fleet.interval:g} s each, TTL {fleet.ttl:g} s, "
        f"{fleet.duration / 3600:g} h, seeds 0-{settings.seeds - 1} (min/max across seeds); "
        "per-second figures count refreshes (each environment's cold-start call is the same "
        "under every policy); on paper about 113/s, 48/s and 17/s at the peak and about 8% "
        "more calls than a fixed TTL"
    )
    return [
        _figure(
            "fleet: peak refresh calls/s",
            "calls/s",
            {name: [s.peak for s in runs] for name, runs in results.items()},
            note,
        ),
        _figure(
            "fleet: p99 refresh calls/s",
            "calls/s",
            {name: [s.p99 for s in runs] for name, runs in results.items()},
        ),
        _figure(
            "fleet: mean refresh calls/s",
            "calls/s",
            {name: [s.mean for s in runs] for name, runs in results.items()},
            digits=2,
        ),
        _figure(
            "fleet: total calls ÷ fixed TTL's",
            "ratio",
            {
                name: [s.total_calls / f.total_calls for s, f in zip(runs, fixed, strict=True)]
                for name, runs in results.items()
            },
            digits=3,
        ),
    ]
