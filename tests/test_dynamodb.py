"""get_item: values as the Table resource gives them, key canonicalization, isolation, errors."""

import collections
import enum
import functools
import json
import logging
import subprocess
import sys
import threading
import time
import tracemalloc
from decimal import Decimal

import _child
import boto3
import pytest
from _tables import hash_key_table
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError
from botocore.stub import Stubber

OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/reader"
SAME_ACCOUNT_ROLE = "arn:aws:iam::123456789012:role/reader"

ITEM = {
    "pk": "widget",
    "name": "Widget",
    "status": "active",
    "count": Decimal("3"),
    "price": Decimal("19.99"),
    "active": True,
    "nothing": None,
    "tags": ["red", "green", {"nested": [Decimal("1"), "x"]}],
    "sizes": {Decimal("1"), Decimal("2")},
    "labels": {"a", "b"},
    "blobs": {Binary(b"\x00"), Binary(b"\x01")},
    "raw": Binary(b"\x00\xff"),
    "dimensions": {"height": Decimal("2.5"), "units": ["cm"]},
}

pytestmark = pytest.mark.usefixtures("cached")


@functools.cache
def _resource():
    # One resource for the whole module: loading the service model again per test costs more
    # than the test. moto intercepts its requests whenever a mock is active.
    return boto3.resource("dynamodb")


def _table(name: str, *keys: tuple[str, str]):
    return _resource().create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": key, "KeyType": kind}
            for (key, _), kind in zip(keys, ["HASH", "RANGE"], strict=False)
        ],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": kind} for key, kind in keys],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def items(aws):
    """A table "items" (hash key pk, a string) holding ITEM."""
    table = _table("items", ("pk", "S"))
    table.put_item(Item=ITEM)
    return table


def _types(value):
    if isinstance(value, dict):
        return {name: _types(element) for name, element in value.items()}
    if isinstance(value, list):
        return [_types(element) for element in value]
    if isinstance(value, set):
        return (set, sorted({type(element).__name__ for element in value}))
    return type(value)


def test_values_and_types_are_the_table_resources_on_a_miss_and_a_hit(items, cached, api_calls):
    expected = items.get_item(Key={"pk": "widget"})["Item"]
    requests_before = api_calls.count()

    miss = cached.get_item("items", {"pk": "widget"})
    hit = cached.get_item("items", {"pk": "widget"})

    assert miss == expected == ITEM
    assert hit == expected
    assert _types(miss) == _types(hit) == _types(expected)
    assert api_calls.count() - requests_before == 1


def test_a_missing_item_is_none_and_cached(items, cached, api_calls):
    assert cached.get_item("items", {"pk": "nope"}) is None
    assert cached.get_item("items", {"pk": "nope"}) is None

    assert api_calls.count("dynamodb", "GetItem") == 1
    assert cached.stats()["dynamodb"]["entries"] == 1


def test_attributes_build_a_projection_with_placeholders_and_key_the_entry(
    items, cached, api_calls
):
    # "name", "status" and "count" are all DynamoDB reserved words.
    projected = cached.get_item("items", {"pk": "widget"}, attributes=["name", "status", "count"])
    again = cached.get_item("items", {"pk": "widget"}, attributes=["count", "status", "name"])
    whole = cached.get_item("items", {"pk": "widget"})
    other = cached.get_item("items", {"pk": "widget"}, attributes=["price"])

    assert projected == {"name": "Widget", "status": "active", "count": Decimal("3")}
    assert again == projected
    assert whole == ITEM
    assert other == {"price": Decimal("19.99")}
    assert api_calls.count("dynamodb", "GetItem") == 3


def test_attributes_with_dots_and_dashes_are_top_level_names(aws, cached):
    table = _table("odd-names", ("pk", "S"))
    table.put_item(Item={"pk": "a", "a.b": "dotted", "c-d": "dashed", "a": {"b": "nested"}})

    assert cached.get_item("odd-names", {"pk": "a"}, attributes=["a.b", "c-d"]) == {
        "a.b": "dotted",
        "c-d": "dashed",
    }


def test_key_order_does_not_matter(aws, cached, api_calls):
    table = _table("events", ("pk", "S"), ("sk", "S"))
    table.put_item(Item={"pk": "a", "sk": "b", "value": "x"})

    first = cached.get_item("events", {"pk": "a", "sk": "b"})
    second = cached.get_item("events", {"sk": "b", "pk": "a"})

    assert first == second == {"pk": "a", "sk": "b", "value": "x"}
    assert api_calls.count("dynamodb", "GetItem") == 1


def test_a_key_in_a_dict_subclass_shares_the_plain_dicts_entry(aws, cached, api_calls):
    table = _table("events", ("pk", "S"), ("sk", "S"))
    table.put_item(Item={"pk": "a", "sk": "b", "value": "x"})
    expected = {"pk": "a", "sk": "b", "value": "x"}

    assert cached.get_item("events", {"pk": "a", "sk": "b"}) == expected
    assert cached.get_item("events", collections.OrderedDict(sk="b", pk="a")) == expected
    assert cached.get_item("events", collections.defaultdict(str, pk="a", sk="b")) == expected
    assert api_calls.count("dynamodb", "GetItem") == 1


def test_an_int_and_an_equal_decimal_share_an_entry_a_string_does_not(aws, cached, api_calls):
    _table("numbers", ("id", "N")).put_item(Item={"id": 1, "as": "number"})

    assert cached.get_item("numbers", {"id": 1}) == {"id": Decimal("1"), "as": "number"}
    assert cached.get_item("numbers", {"id": Decimal("1")}) == {"id": 1, "as": "number"}
    assert cached.get_item("numbers", {"id": Decimal("1.00")}) == {"id": 1, "as": "number"}
    assert api_calls.count("dynamodb", "GetItem") == 1

    # DynamoDB refuses a string for a number key; moto answers "no item". Either way the
    # string went upstream instead of sharing the number's entry.
    assert cached.get_item("numbers", {"id": "1"}) != {"id": 1, "as": "number"}
    assert api_calls.count("dynamodb", "GetItem") == 2


def test_binary_keys_in_bytes_bytearray_or_binary_share_an_entry(aws, cached, api_calls):
    table = _table("binary-keyed", ("id", "B"))
    table.put_item(Item={"id": b"\x01\x02", "value": "x"})

    for key in (b"\x01\x02", bytearray(b"\x01\x02"), Binary(b"\x01\x02")):
        assert cached.get_item("binary-keyed", {"id": key}) == {
            "id": Binary(b"\x01\x02"),
            "value": "x",
        }
    assert api_calls.count("dynamodb", "GetItem") == 1


def test_consistent_read_always_reads_upstream_and_refreshes_the_entry(items, cached, api_calls):
    assert cached.get_item("items", {"pk": "widget"})["status"] == "active"
    items.update_item(
        Key={"pk": "widget"},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "retired"},
    )

    assert cached.get_item("items", {"pk": "widget"})["status"] == "active"
    assert cached.get_item("items", {"pk": "widget"}, consistent_read=True)["status"] == "retired"
    assert cached.get_item("items", {"pk": "widget"}, consistent_read=True)["status"] == "retired"
    assert cached.get_item("items", {"pk": "widget"})["status"] == "retired"

    assert api_calls.count("dynamodb", "GetItem") == 3


def test_a_consistent_read_asks_dynamodb_for_one_and_a_plain_read_does_not(items, cached):
    # moto always reads consistently, so only the request itself shows the difference.
    key, answer = {"pk": {"S": "widget"}}, {"Item": {"pk": {"S": "widget"}}}
    with Stubber(cached.client("dynamodb")) as stubber:
        stubber.add_response("get_item", answer, {"TableName": "items", "Key": key})
        stubber.add_response(
            "get_item", answer, {"TableName": "items", "Key": key, "ConsistentRead": True}
        )

        cached.get_item("items", {"pk": "widget"})
        cached.get_item("items", {"pk": "widget"}, consistent_read=True)

        stubber.assert_no_pending_responses()


def test_a_missing_table_error_reaches_the_caller_and_is_not_cached(aws, cached, api_calls):
    for _ in range(2):
        with pytest.raises(ClientError) as raised:
            cached.get_item("no-such-table", {"pk": "a"})
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"

    assert api_calls.count("dynamodb", "GetItem") == 2
    assert cached.stats()["dynamodb"]["entries"] == 0


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "AccessDeniedException"]
)
def test_throttling_and_access_denied_propagate_unchanged_and_are_not_cached(items, cached, code):
    client = cached.client("dynamodb")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_item", service_error_code=code, http_status_code=400)
        stubber.add_response("get_item", {"Item": {"pk": {"S": "widget"}}})

        with pytest.raises(ClientError) as raised:
            cached.get_item("items", {"pk": "widget"})
        answer = cached.get_item("items", {"pk": "widget"})

        stubber.assert_no_pending_responses()
    assert raised.value.response["Error"]["Code"] == code
    assert answer == {"pk": "widget"}


def test_the_caller_owns_the_result(items, cached):
    first = cached.get_item("items", {"pk": "widget"})
    first["tags"].append("mutated")
    first["tags"][2]["nested"].append("mutated")
    first["sizes"].add(Decimal("99"))
    first["labels"].clear()
    first["dimensions"]["units"].append("mm")
    first["dimensions"]["height"] = Decimal("0")
    first["raw"].value = b"changed"
    next(iter(first["blobs"])).value = b"changed"
    first["name"] = "changed"
    del first["status"]

    assert cached.get_item("items", {"pk": "widget"}) == ITEM
    assert cached.get_item("items", {"pk": "widget"}) is not cached.get_item(
        "items", {"pk": "widget"}
    )


SHAPES = {
    "list of flat maps": [{"region": "eu", "weight": Decimal(3)}, {"region": "us"}],
    "list of flat lists": [["a", "b"], [Decimal(1)], []],
    "list of flat sets": [{"a", "b"}, {Decimal(1)}],
    "list of binaries": [Binary(b"\x00"), Binary(b"\x01")],
    "list of one nested map": [{"inner": {"deep": ["x"]}}],
    "list of maps and strings": ["a", {"b": "c"}, "d"],
    "list of maps that copy differently": [{"a": ["x"]}, {"b": {"c": "d"}}, {"e": "f"}],
    "map of flat lists, maps and sets": {"tags": ["a"], "limits": {"max": 5}, "ids": {"i"}},
    "map of maps of maps": {"a": {"b": {"c": ["d"]}, "e": "f"}, "g": [{"h": "i"}]},
    "map of binaries": {"raw": Binary(b"\x02"), "blobs": {Binary(b"1"), Binary(b"2")}},
    "map of many lists": {f"k{index}": [str(index)] for index in range(40)},
    "no nested value at all": "a string",
}


def _mutate_every_level(value) -> None:
    """Change every container and binary value in place, innermost first."""
    if isinstance(value, dict):
        for element in value.values():
            _mutate_every_level(element)
        value["mutated"] = "yes"
    elif isinstance(value, list):
        for element in value:
            _mutate_every_level(element)
        value.append("mutated")
    elif isinstance(value, set):
        for element in value:
            _mutate_every_level(element)
        value.add("mutated")
    elif isinstance(value, Binary):
        value.value = b"mutated"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_caller_owns_every_level_of_a_nested_value(items, cached, api_calls, shape):
    item = {"pk": shape, "value": SHAPES[shape], "name": "x"}
    items.put_item(Item=item)

    for _ in range(3):  # the miss, then two hits
        result = cached.get_item("items", {"pk": shape})
        assert result == item
        _mutate_every_level(result)

    assert api_calls.count("dynamodb", "GetItem") == 1


def test_role_arn_reads_another_accounts_table_through_moto_server(
    moto_endpoint, monkeypatch, cached, api_calls
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    cached.clear()
    other = cached.assume_role(OTHER_ACCOUNT_ROLE, session_name="setup")
    dynamodb = boto3.resource(
        "dynamodb",
        aws_access_key_id=other.access_key_id,
        aws_secret_access_key=other.secret_access_key,
        aws_session_token=other.session_token,
    )
    table = hash_key_table(dynamodb, "shared")
    table.put_item(Item={"pk": "a", "owner": "210987654321"})

    found = cached.get_item("shared", {"pk": "a"}, role_arn=OTHER_ACCOUNT_ROLE)
    again = cached.get_item("shared", {"pk": "a"}, role_arn=OTHER_ACCOUNT_ROLE)
    with pytest.raises(ClientError) as own_account:
        cached.get_item("shared", {"pk": "a"})

    assert found == again == {"pk": "a", "owner": "210987654321"}
    assert own_account.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert api_calls.count("dynamodb", "GetItem") == 2
    assert api_calls.count("sts", "AssumeRole") == 2


def _hold_get_item_until_waiters_joined(cached, waiters: int) -> None:
    """Keep the first GetItem in flight until every other thread waits on it."""

    def hold(**_) -> None:
        deadline = time.monotonic() + 10
        while cached.stats()["dynamodb"]["hits"] < waiters and time.monotonic() < deadline:
            time.sleep(0.005)

    cached.client("dynamodb").meta.events.register("before-send.dynamodb.GetItem", hold)


def _twenty_threads(function) -> tuple[list, list]:
    barrier = threading.Barrier(20)
    results, errors = [], []

    def run() -> None:
        barrier.wait()
        try:
            results.append(function())
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def test_twenty_threads_on_a_cold_key_make_one_call_and_all_get_the_item(items, cached, api_calls):
    _hold_get_item_until_waiters_joined(cached, waiters=19)

    results, errors = _twenty_threads(lambda: cached.get_item("items", {"pk": "widget"}))

    assert errors == []
    assert results == [ITEM] * 20
    assert len({id(result) for result in results}) == 20
    assert api_calls.count("dynamodb", "GetItem") == 1


def test_when_the_one_call_fails_every_waiter_gets_the_error_and_the_next_call_retries(
    aws, cached, api_calls
):
    _hold_get_item_until_waiters_joined(cached, waiters=19)

    results, errors = _twenty_threads(lambda: cached.get_item("not-yet", {"pk": "a"}))

    assert results == []
    assert len(errors) == 20
    assert {error.response["Error"]["Code"] for error in errors} == {"ResourceNotFoundException"}
    assert api_calls.count("dynamodb", "GetItem") == 1

    _table("not-yet", ("pk", "S")).put_item(Item={"pk": "a"})
    assert cached.get_item("not-yet", {"pk": "a"}) == {"pk": "a"}
    assert api_calls.count("dynamodb", "GetItem") == 2


def test_ttl_zero_never_caches(items, cached, api_calls):
    cached.get_item("items", {"pk": "widget"}, ttl=0)
    cached.get_item("items", {"pk": "widget"}, ttl=0)

    assert api_calls.count("dynamodb", "GetItem") == 2
    assert cached.stats()["dynamodb"]["entries"] == 0


def test_a_shorter_ttl_than_an_entrys_age_goes_upstream(items, cached, api_calls):
    cached.get_item("items", {"pk": "widget"})
    cached.get_item("items", {"pk": "widget"}, ttl=1e-9)

    assert api_calls.count("dynamodb", "GetItem") == 2


def scenario_expiry(clock: _child.Clock) -> dict:
    """Items read again as the clock moves: the version every read returned. Each read writes
    a newer version upstream after it, so a version repeated is a hit and a new one a fetch."""
    from moto import mock_aws

    with mock_aws():
        table = _table("versions", ("pk", "S"))
        import cached_clients

        def read(key: str, **options) -> int:
            found = cached_clients.get_item("versions", {"pk": key}, **options)
            table.update_item(
                Key={"pk": key},
                UpdateExpression="ADD version :one",
                ExpressionAttributeValues={":one": 1},
            )
            return 0 if found is None else int(found["version"])

        def reads(key: str, steps: list[tuple[float, dict]]) -> list[int]:
            start = clock.now
            table.put_item(Item={"pk": key, "version": 1})
            seen = []
            for offset, options in steps:
                clock.now = start + offset
                seen.append(read(key, **options))
            return seen

        ten = {"ttl": 10}
        return {
            # A first entry lives at least half its TTL, a later one nine tenths, none longer.
            "ttl": reads("ttl", [(0, ten), (4.99, ten), (10, ten), (18.99, ten), (20, ten)]),
            "shorter": reads("shorter", [(0, {"ttl": 300}), (60, {"ttl": 30}), (60, {"ttl": 300})]),
            # CACHED_CLIENTS_TTL is 50: ttl=None never gets an entry older than that.
            "default": reads("default", [(0, {"ttl": 3600}), (49.9, {}), (50, {})]),
        }


def test_an_entry_is_served_until_its_ttl_and_never_older_than_the_ttl_asked_for():
    outcome = _child.run("test_dynamodb:scenario_expiry", env={"CACHED_CLIENTS_TTL": "50"})

    assert outcome == {"ttl": [1, 1, 3, 3, 5], "shorter": [1, 2, 2], "default": [1, 1, 3]}


def test_a_read_finishing_after_a_consistent_read_leaves_the_newer_answer(items, cached):
    held, release, slow = threading.Event(), threading.Event(), []

    def hold(**_) -> None:
        if threading.current_thread().name == "slow":
            held.set()
            release.wait(10)

    cached.client("dynamodb").meta.events.register("after-call.dynamodb.GetItem", hold)
    reader = threading.Thread(
        target=lambda: slow.append(cached.get_item("items", {"pk": "widget"})), name="slow"
    )
    reader.start()
    assert held.wait(10)
    items.put_item(Item={**ITEM, "status": "retired"})
    fresh = cached.get_item("items", {"pk": "widget"}, consistent_read=True)
    release.set()
    reader.join(10)

    assert slow[0]["status"] == "active"
    assert fresh["status"] == "retired"
    assert cached.get_item("items", {"pk": "widget"})["status"] == "retired"


def test_caching_disabled_bypasses_the_item_cache(items, cached, api_calls, monkeypatch):
    monkeypatch.setenv("CACHED_CLIENTS_DISABLE", "true")
    cached.clear()

    assert cached.get_item("items", {"pk": "widget"}) == ITEM
    assert cached.get_item("items", {"pk": "widget"}) == ITEM

    assert api_calls.count("dynamodb", "GetItem") == 2
    assert cached.stats()["dynamodb"]["entries"] == 0


@pytest.mark.parametrize(
    "case",
    [
        ("items", ["pk", "widget"], {}, TypeError, "key must be a dict"),
        ("items", None, {}, TypeError, "key must be a dict"),
        ("items", "widget", {}, TypeError, "key must be a dict"),
        ("items", {}, {}, ValueError, "at least one"),
        ("items", {"pk": 1.0}, {}, TypeError, "float"),
        ("items", {"pk": True}, {}, TypeError, "bool"),
        ("items", {"pk": ["a"]}, {}, TypeError, "strings, numbers or binary"),
        ("items", {"pk": None}, {}, TypeError, "strings, numbers or binary"),
        ("items", {"pk": ""}, {}, ValueError, "empty"),
        ("items", {"pk": Decimal("NaN")}, {}, ValueError, "finite"),
        ("items", {1: "a"}, {}, TypeError, "names"),
        ("it", {"pk": "widget"}, {}, ValueError, "table_name"),
        (None, {"pk": "widget"}, {}, ValueError, "table_name"),
        ("items", {"pk": "widget"}, {"attributes": "name"}, TypeError, "attributes"),
        ("items", {"pk": "widget"}, {"attributes": []}, ValueError, "attributes"),
        ("items", {"pk": "widget"}, {"attributes": [1]}, TypeError, "attributes"),
        ("items", {"pk": "widget"}, {"attributes": 5}, TypeError, "attributes"),
        ("items", {"pk": "widget"}, {"consistent_read": "yes"}, TypeError, "consistent_read"),
        ("items", {"pk": "widget"}, {"ttl": -1}, ValueError, "ttl"),
        ("items", {"pk": "widget"}, {"ttl": float("inf")}, ValueError, "ttl"),
        ("items", {"pk": "widget"}, {"role_arn": "arn:aws:iam::1:role/x"}, ValueError, "role"),
        ("items", {"pk": "widget"}, {"session_name": "s1"}, TypeError, "need role_arn"),
    ],
)
@pytest.mark.usefixtures("items")
def test_bad_input_raises_before_any_request_and_leaves_the_cache(cached, api_calls, case):
    table_name, key, options, error, words = case
    cached.get_item("items", {"pk": "widget"})
    before, requests = cached.stats(), api_calls.count()

    with pytest.raises(error, match=words):
        cached.get_item(table_name, key, **options)

    assert api_calls.count() == requests
    assert cached.stats() == before


def test_a_float_key_raises_even_when_an_equal_int_is_cached(aws, cached, api_calls):
    _table("numbers", ("id", "N")).put_item(Item={"id": 1})
    cached.get_item("numbers", {"id": 1})

    with pytest.raises(TypeError, match="Decimal"):
        cached.get_item("numbers", {"id": 1.0})
    with pytest.raises(TypeError, match="bool"):
        cached.get_item("numbers", {"id": True})
    assert api_calls.count("dynamodb", "GetItem") == 1


@pytest.mark.parametrize("duration", [900.0, Decimal(900)], ids=["float", "Decimal"])
def test_a_duration_equal_to_a_cached_ones_is_refused_on_the_hit_path_too(
    items, cached, api_calls, duration
):
    def read(seconds):
        return cached.get_item(
            "items", {"pk": "widget"}, role_arn=SAME_ACCOUNT_ROLE, duration_seconds=seconds
        )

    with pytest.raises(TypeError, match="duration_seconds must be an int"):
        read(duration)
    assert read(900) == ITEM
    before, requests = cached.stats(), api_calls.count()

    with pytest.raises(TypeError, match="duration_seconds must be an int"):
        read(duration)

    assert api_calls.count() == requests
    assert cached.stats() == before


class Field(str, enum.Enum):  # noqa: UP042 - the idiom whose str() is not its value
    """Names as an application may keep them: str subclasses equal to the name, whose str()
    is "Field.PK", not "pk"."""

    PK = "pk"
    NAME = "name"
    WIDGET = "widget"


def test_str_subclasses_name_attributes_and_key_attributes_like_the_equal_str(
    items, cached, api_calls
):
    by_enum = cached.get_item("items", {Field.PK: Field.WIDGET}, attributes=[Field.NAME])
    by_str = cached.get_item("items", {"pk": "widget"}, attributes=["name"])
    again = cached.get_item("items", {Field.PK: Field.WIDGET}, attributes=[Field.NAME])

    assert by_enum == by_str == again == {"name": "Widget"}
    assert api_calls.count("dynamodb", "GetItem") == 1


def test_misses_are_logged_at_debug_without_key_values(items, cached, caplog):
    caplog.set_level(logging.DEBUG, logger="cached_clients")

    cached.get_item("items", {"pk": "widget"})

    messages = [record.getMessage() for record in caplog.records]
    assert any("miss" in message for message in messages)
    assert not any("widget" in message for message in messages)


def test_the_cache_keeps_to_its_byte_budget(aws, cached, monkeypatch):
    budget = 4 * 1024 * 1024
    monkeypatch.setenv("CACHED_CLIENTS_MAX_BYTES", str(budget))
    cached.clear()
    table = _table("large", ("pk", "S"))
    for number in range(65):
        table.put_item(Item={"pk": f"item-{number}", "blob": f"{number:04d}" * 87_500})
    _table("small", ("pk", "S")).put_item(Item={"pk": "warm"})
    cached.get_item("small", {"pk": "warm"}, ttl=0)  # the client and its models, not measured

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        for number in range(65):
            item = cached.get_item("large", {"pk": f"item-{number}"})
            assert len(item["blob"]) == 350_000
        del item
        grown = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()

    held = cached.stats()["dynamodb"]
    assert held["bytes"] <= budget
    assert held["evictions"] == 65 - held["entries"]
    assert 8 <= held["entries"] <= 12
    assert grown <= 1.25 * budget


def test_the_bytes_counted_for_items_whose_maps_nest_are_the_bytes_they_hold(aws, cached):
    # What is kept to copy each item counts as well as the item; the budget rests on this.
    table = _table("nested", ("pk", "S"))
    attributes = {f"a{number}": {"x": ["v"], "y": {"z": {"q"}}} for number in range(12)}
    for number in range(60):
        table.put_item(Item={"pk": f"item-{number}", **attributes})
    cached.get_item("nested", {"pk": "warm"}, ttl=0)  # the client and its models, not measured

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        for number in range(60):
            assert cached.get_item("nested", {"pk": f"item-{number}"})["a0"] == attributes["a0"]
        grown = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()

    held = cached.stats()["dynamodb"]
    assert held["entries"] == 60
    assert grown <= 1.25 * held["bytes"]


def test_the_least_recently_used_item_is_evicted_first(aws, cached, monkeypatch, api_calls):
    monkeypatch.setenv("CACHED_CLIENTS_MAX_BYTES", str(3 * 120_000))
    cached.clear()
    table = _table("large", ("pk", "S"))
    for name in "abcd":
        table.put_item(Item={"pk": name, "blob": name * 100_000})

    cached.get_item("large", {"pk": "a"})
    cached.get_item("large", {"pk": "b"})
    cached.get_item("large", {"pk": "c"})
    cached.get_item("large", {"pk": "a"})
    cached.get_item("large", {"pk": "d"})
    requests = api_calls.count("dynamodb", "GetItem")

    cached.get_item("large", {"pk": "a"})
    cached.get_item("large", {"pk": "c"})
    cached.get_item("large", {"pk": "d"})
    assert api_calls.count("dynamodb", "GetItem") == requests
    cached.get_item("large", {"pk": "b"})
    assert api_calls.count("dynamodb", "GetItem") == requests + 1


def test_an_item_larger_than_the_budget_is_returned_not_kept(
    aws, cached, monkeypatch, api_calls, caplog
):
    monkeypatch.setenv("CACHED_CLIENTS_MAX_BYTES", "100000")
    cached.clear()
    caplog.set_level(logging.DEBUG, logger="cached_clients")
    _table("large", ("pk", "S")).put_item(Item={"pk": "big", "blob": "x" * 350_000})

    first = cached.get_item("large", {"pk": "big"})
    second = cached.get_item("large", {"pk": "big"})

    assert first == second == {"pk": "big", "blob": "x" * 350_000}
    assert api_calls.count("dynamodb", "GetItem") == 2
    assert cached.stats()["dynamodb"]["entries"] == 0
    assert any("exceeds the budget" in record.getMessage() for record in caplog.records)


_WITHOUT_BOTO3 = """
import json, sys
import cached_clients

sent = []
cached_clients.client("dynamodb").meta.events.register(
    "request-created", lambda request, **_: sent.append(request.headers["User-Agent"])
)
plain = cached_clients.get_item("items", {"pk": "plain"})
as_role = cached_clients.get_item("items", {"pk": "plain"}, role_arn=sys.argv[1])
cached_clients.assume_role(sys.argv[1], session_name="another")
before = sorted(name for name in sys.modules if name.split(".")[0] == "boto3")

widget = cached_clients.get_item("items", {"pk": "widget"})
import boto3
from boto3.dynamodb.types import Binary

theirs = []
client = boto3.client("dynamodb")
client.meta.events.register(
    "request-created", lambda request, **_: theirs.append(request.headers["User-Agent"])
)
client.get_item(TableName="items", Key={"pk": {"S": "plain"}})
print(json.dumps({
    "boto3_before_binary": before,
    "plain": plain == as_role == {"pk": "plain", "n": 1, "tags": ["a"], "on": True},
    "binary": type(widget["raw"]) is Binary and all(type(b) is Binary for b in widget["blobs"]),
    # Leaving out m/, the features a request used (how it found its credentials, say).
    "user_agents": [
        " ".join(part for part in agent.split() if not part.startswith("m/"))
        for agent in (sent[0], theirs[0])
    ],
}))
"""


def test_get_item_imports_no_boto3_until_an_item_holds_a_binary(moto_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    table = hash_key_table(boto3.resource("dynamodb", endpoint_url=moto_endpoint), "items")
    table.put_item(Item={"pk": "plain", "n": 1, "tags": ["a"], "on": True})
    table.put_item(Item=ITEM)

    finished = subprocess.run(
        [sys.executable, "-c", _WITHOUT_BOTO3, SAME_ACCOUNT_ROLE],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    seen = json.loads(finished.stdout)

    assert seen["boto3_before_binary"] == []
    assert seen["plain"] and seen["binary"]
    ours, boto3s = seen["user_agents"]
    assert ours.startswith("Boto3/") and ours == boto3s
