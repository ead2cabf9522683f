"""Lifetimes spread below the TTL and jittered backoffs, seen through the public API.

Each test runs a scenario in a fresh interpreter (see _child) whose monotonic clock only the
scenario moves; items come from moto's in-process mock, credentials from the stand-in STS.
Many keys draw at once, and each count below is checked against its expectation with a
margin of more than four standard deviations.
"""

import os

import _child
import pytest
from _tables import hash_key_table

TTL = 100.0
GROUPS = 5
PER_GROUP = 80
KEYS = [f"k{number}" for number in range(GROUPS * PER_GROUP)]

# When each group of keys is probed, in TTLs after they were read, and the share of the group
# still fresh then if lifetimes are uniform in [0.5, 1] (first entries) or [0.9, 1] TTLs.
FIRST = (0.4999, 0.625, 0.75, 0.875, 1.0)
LATER = (0.8999, 0.925, 0.95, 0.975, 1.0)
EXPECTED_FRESH = (1.0, 0.75, 0.5, 0.25, 0.0)


def _table() -> None:
    import boto3

    table = hash_key_table(boto3.resource("dynamodb"), "items")
    with table.batch_writer() as batch:
        for key in KEYS:
            batch.put_item(Item={"pk": key})


def _read_all(cached) -> None:
    for key in KEYS:
        cached.get_item("items", {"pk": key}, ttl=TTL)


def _fresh_per_group(cached, clock: _child.Clock, offsets: tuple[float, ...]) -> list[int]:
    """Read every key now, then probe group i once at offsets[i] TTLs later: how many of each
    group were still served from the cache. A probe of an expired key fetches it again, so
    each key is probed only once."""
    start = clock.now
    _read_all(cached)

    fresh = []
    for group, offset in enumerate(offsets):
        clock.now = start + offset * TTL
        misses = cached.stats()["dynamodb"]["misses"]
        for key in KEYS[group * PER_GROUP : (group + 1) * PER_GROUP]:
            cached.get_item("items", {"pk": key}, ttl=TTL)
        fresh.append(PER_GROUP - (cached.stats()["dynamodb"]["misses"] - misses))
    return fresh


def scenario_item_lifetimes(clock: _child.Clock) -> dict:
    """First entries, later entries of the same keys, and first entries again after clear()."""
    from moto import mock_aws

    with mock_aws():
        _table()
        import cached_clients

        first = _fresh_per_group(cached_clients, clock, FIRST)
        clock.advance(2 * TTL)  # every entry has expired, and is still held
        later = _fresh_per_group(cached_clients, clock, LATER)
        cached_clients.clear()
        after_clear = _fresh_per_group(cached_clients, clock, FIRST)
    return {"first": first, "later": later, "after_clear": after_clear}


def _assert_uniform(fresh: list[int]) -> None:
    for expected, found in zip(EXPECTED_FRESH, fresh, strict=True):
        # 80 draws: at most 4.5 standard deviations (p = 0.5) from the expected count.
        assert abs(found - expected * PER_GROUP) <= 20, fresh


@pytest.fixture(scope="module")
def lifetimes() -> dict:
    """The item lifetimes scenario, run once for the tests that read it."""
    return _child.run("test_jitter:scenario_item_lifetimes")


def test_first_entries_live_uniformly_between_half_the_ttl_and_the_ttl(lifetimes):
    _assert_uniform(lifetimes["first"])


def test_later_entries_live_uniformly_between_nine_tenths_of_the_ttl_and_the_ttl(lifetimes):
    _assert_uniform(lifetimes["later"])


def test_after_clear_every_key_draws_a_first_lifetime_again(lifetimes):
    _assert_uniform(lifetimes["after_clear"])


ROLES = [f"arn:aws:iam::123456789012:role/reader-{number}" for number in range(200)]


def scenario_backoffs(clock: _child.Clock) -> dict:
    """200 roles past their TTL while STS throttles: how many are tried again by each time."""
    from conftest import StsStandIn

    sts = StsStandIn()
    sts.start()
    os.environ["AWS_ENDPOINT_URL_STS"] = sts.url
    import cached_clients

    for role in ROLES:
        cached_clients.assume_role(role)
    clock.advance(300.01)  # past the default TTL, far from the refresh margin
    sts.error_code, sts.error_status = "Throttling", 400
    for role in ROLES:
        cached_clients.assume_role(role)  # fails, serves the cached credentials, backs off

    failed_at, retried = clock.now, []
    for offset in (0.49, 0.625, 1.0):
        clock.now = failed_at + offset
        calls = len(sts.assume_calls)
        for role in ROLES:
            cached_clients.assume_role(role)
        retried.append(len(sts.assume_calls) - calls)
    return {"retried": retried}


def test_the_first_backoff_is_jittered_between_half_a_second_and_a_second():
    outcome = _child.run("test_jitter:scenario_backoffs", env={"AWS_MAX_ATTEMPTS": "1"})

    before_half_a_second, by_five_eighths, by_one_second = outcome["retried"]
    assert before_half_a_second == 0
    # A quarter of the 200 waits end by 0.625 s: 50, give or take 4 standard deviations.
    assert 25 < by_five_eighths < 75
    assert by_five_eighths + by_one_second == len(ROLES)
