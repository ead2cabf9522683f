"""stats() and clear() across every cache."""

import sys
import threading

import boto3
import pytest
from _tables import hash_key_table

ROLE = "arn:aws:iam::123456789012:role/reader"
FIELDS = {"hits", "misses", "evictions", "entries", "bytes"}

pytestmark = pytest.mark.usefixtures("cached")


@pytest.fixture
def table(aws):
    """A table "items" (hash key pk) with two items."""
    created = hash_key_table(boto3.resource("dynamodb"), "items")
    created.put_item(Item={"pk": "a", "value": "x" * 1000})
    created.put_item(Item={"pk": "b"})
    return created


def test_stats_start_at_zero_for_each_cache(cached):
    assert cached.stats() == {
        "sts": dict.fromkeys(FIELDS, 0),
        "dynamodb": dict.fromkeys(FIELDS, 0),
    }


def test_stats_count_hits_misses_entries_and_bytes_per_cache(table, cached):
    cached.get_item("items", {"pk": "a"})
    cached.get_item("items", {"pk": "a"})
    cached.get_item("items", {"pk": "a"})
    cached.get_item("items", {"pk": "b"})
    cached.get_item("items", {"pk": "missing"})
    cached.assume_role(ROLE)
    cached.assume_role(ROLE)

    items, credentials = cached.stats()["dynamodb"], cached.stats()["sts"]

    assert (items["hits"], items["misses"], items["entries"]) == (2, 3, 3)
    assert items["evictions"] == 0
    assert 1000 < items["bytes"] < 10_000
    assert (credentials["hits"], credentials["misses"], credentials["entries"]) == (1, 1, 1)
    assert credentials["bytes"] > 0


def test_clear_empties_every_cache_and_the_clients(table, cached, api_calls):
    cached.get_item("items", {"pk": "a"})
    cached.assume_role(ROLE)
    client = cached.client("dynamodb")

    cached.clear()

    assert cached.stats() == {name: dict.fromkeys(FIELDS, 0) for name in ("sts", "dynamodb")}
    assert cached.client("dynamodb") is not client
    cached.get_item("items", {"pk": "a"})
    cached.assume_role(ROLE)
    assert api_calls.count("dynamodb", "GetItem") == 2
    assert api_calls.count("sts", "AssumeRole") == 2


def test_a_read_in_flight_during_clear_is_returned_but_not_kept(table, cached, api_calls):
    held, release, found = threading.Event(), threading.Event(), []

    def hold(**_) -> None:
        held.set()
        release.wait(10)

    cached.client("dynamodb").meta.events.register("after-call.dynamodb.GetItem", hold)
    reader = threading.Thread(target=lambda: found.append(cached.get_item("items", {"pk": "b"})))
    reader.start()
    assert held.wait(10)
    cached.clear()
    release.set()
    reader.join(10)

    assert found == [{"pk": "b"}]
    assert cached.stats() == {name: dict.fromkeys(FIELDS, 0) for name in ("sts", "dynamodb")}
    assert cached.get_item("items", {"pk": "b"}) == {"pk": "b"}
    assert api_calls.count("dynamodb", "GetItem") == 2


def _pause_client_creation(entered: threading.Event, release: threading.Event, made: list):
    """A tracer for a thread: it stops at botocore's create_client until released, and
    records what each create_client returns (the client made)."""

    def returned(frame, event, arg):
        if event == "return":
            made.append(arg)
        return returned

    def tracer(frame, event, _arg):
        if event == "call" and frame.f_code.co_name == "create_client":
            entered.set()
            release.wait(30)
            return returned
        return None

    return tracer


def test_a_client_made_while_clear_runs_is_not_kept_past_it(aws, cached):
    entered, release, made = threading.Event(), threading.Event(), []
    tracer = _pause_client_creation(entered, release, made)

    def make() -> None:
        sys.settrace(tracer)
        cached.client("sqs")

    maker = threading.Thread(target=make)
    maker.start()
    assert entered.wait(30)
    clearing = threading.Thread(target=cached.clear)
    clearing.start()
    release.set()
    maker.join(30)
    clearing.join(30)

    assert made
    assert cached.client("sqs") is not made[-1]
