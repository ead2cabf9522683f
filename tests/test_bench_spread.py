"""The fleet simulation's arithmetic (bench/spread.py), on fleets small enough to check by hand."""

import random

import pytest

from bench import spread


def constant(lifetime: float):
    """A policy whose every entry lives ``lifetime`` seconds, recording each ``first`` flag."""
    seen: list[bool] = []

    def policy(rng: random.Random, ttl: float, first: bool) -> float:
        seen.append(first)
        return lifetime

    policy.seen = seen
    return policy


def test_a_fixed_ttl_refreshes_at_the_first_request_at_or_after_expiry():
    fleet = spread.Fleet(environments=3, start_window=0.5, interval=1.0, ttl=10.0, duration=35.0)

    calls = spread.simulate(fleet, spread.fixed_ttl, seed=7)

    for environment in calls:
        start = environment[0]
        assert 0.0 <= start < 0.5
        assert environment == [start, start + 10, start + 20, start + 30]


def test_a_lifetime_between_requests_waits_for_the_next_request():
    fleet = spread.Fleet(environments=1, start_window=0.0, interval=1.0, ttl=10.0, duration=10.0)

    (calls,) = spread.simulate(fleet, constant(2.5), seed=0)

    assert calls == [0.0, 3.0, 6.0, 9.0]


def test_only_the_first_entry_of_each_environment_is_flagged_first():
    fleet = spread.Fleet(environments=4, start_window=1.0, interval=1.0, ttl=5.0, duration=20.0)
    policy = constant(5.0)

    calls = spread.simulate(fleet, policy, seed=1)

    assert policy.seen.count(True) == 4
    assert len(policy.seen) == sum(len(environment) for environment in calls)
    assert all(len(environment) == 4 for environment in calls)


def test_policies_draw_within_their_ranges():
    rng = random.Random(3)

    firsts = [spread.first_wider(rng, 300.0, True) for _ in range(2000)]
    laters = [spread.first_wider(rng, 300.0, False) for _ in range(2000)]
    jittered = [spread.jitter(rng, 300.0, True) for _ in range(2000)]

    assert 150.0 <= min(firsts) < 160.0 and 290.0 < max(firsts) <= 300.0
    assert 270.0 <= min(laters) < 272.0 and 298.0 < max(laters) <= 300.0
    assert min(jittered) >= 270.0 and max(jittered) <= 300.0
    assert spread.fixed_ttl(rng, 300.0, True) == 300.0


def test_per_second_counts_each_call_in_its_whole_second():
    assert spread.per_second([0.0, 0.9, 1.0, 2.5, 2.99], duration=4.0) == [2, 1, 2, 0]


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.5, 5), (0.99, 10), (0.1, 1), (0.0, 1), (1.0, 10)]
)
def test_percentile_is_nearest_rank(fraction, expected):
    assert spread.percentile([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], fraction) == expected


def test_summary_leaves_cold_starts_out_of_the_per_second_figures():
    fleet = spread.Fleet(duration=10.0)
    calls = [[0.1, 4.2, 8.0], [0.3, 4.7], [0.8]]

    summary = spread.summarize(fleet, calls)

    assert summary.cold_start_peak == 3
    assert summary.peak == 2
    assert summary.mean == pytest.approx(3 / 10)
    assert summary.total_calls == 6
    assert summary.p99 == 2


def test_the_same_seed_gives_the_same_fleet():
    fleet = spread.Fleet(environments=50, duration=1200.0)

    first = spread.simulate(fleet, spread.first_wider, seed=11)

    assert spread.simulate(fleet, spread.first_wider, seed=11) == first
    assert spread.simulate(fleet, spread.first_wider, seed=12) != first


def test_a_burst_started_fleet_spreads_out_only_with_the_wider_first_lifetime():
    fleet = spread.Fleet()

    results = {
        name: spread.summarize(fleet, spread.simulate(fleet, policy, seed=0))
        for name, policy in spread.POLICIES.items()
    }
    fixed, jittered, wider = results.values()

    assert fixed.peak > 100 and fixed.total_calls == 24 * fleet.environments
    assert 35 < jittered.peak < 60
    assert wider.peak < 25
    assert 1.05 < wider.total_calls / fixed.total_calls < 1.11
    assert fixed.cold_start_peak == jittered.cold_start_peak == wider.cold_start_peak


def test_a_policy_from_samples_draws_only_the_samples_of_its_kind():
    policy = spread.from_samples(first=[0.5, 0.6], later=[0.95])
    rng = random.Random(5)

    firsts = {policy(rng, 300.0, True) for _ in range(200)}
    laters = {policy(rng, 300.0, False) for _ in range(200)}

    assert firsts == {150.0, 180.0}
    assert laters == {285.0}
    with pytest.raises(ValueError, match="at least one"):
        spread.from_samples(first=[], later=[0.9])
