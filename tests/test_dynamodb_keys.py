"""Keys of the wrong shape for the table: an error every time, never a cached missing item."""

import boto3
import pytest
from _tables import hash_key_table
from botocore.exceptions import ClientError
from botocore.stub import Stubber

pytestmark = pytest.mark.usefixtures("cached")

# What DynamoDB answers to a key that does not match the table's key schema.
SCHEMA_MISMATCH = "The provided key element does not match the schema"


@pytest.fixture
def events(aws):
    """A table "events" keyed by pk (hash) and sk (range), both strings, with one item."""
    table = boto3.resource("dynamodb").create_table(
        TableName="events",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    table.put_item(Item={"pk": "a", "sk": "b", "value": "x"})
    return table


def _validation_error(cached, table_name: str, key: dict) -> ClientError:
    with pytest.raises(ClientError) as raised:
        cached.get_item(table_name, key)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    return raised.value


@pytest.mark.usefixtures("events")
@pytest.mark.parametrize(
    "key",
    [
        {"pk": "a"},
        {"sk": "b"},
        {"pk": "a", "sk": "b", "extra": "c"},
    ],
    ids=["missing sort key", "missing hash key", "extra attribute"],
)
def test_a_key_of_the_wrong_shape_raises_every_time_and_nothing_is_cached(cached, api_calls, key):
    _validation_error(cached, "events", key)
    _validation_error(cached, "events", key)

    assert api_calls.count("dynamodb", "GetItem") == 2
    assert cached.stats()["dynamodb"]["entries"] == 0
    assert cached.get_item("events", {"pk": "a", "sk": "b"}) == {"pk": "a", "sk": "b", "value": "x"}


@pytest.mark.usefixtures("events")
@pytest.mark.parametrize("key", [{"pk": ""}, {"pk": "a", "sk": ""}, {"pk": b""}])
def test_an_empty_key_value_raises_before_any_request(cached, api_calls, key):
    with pytest.raises(ValueError, match="empty"):
        cached.get_item("events", key)

    assert api_calls.count() == 0
    assert cached.stats()["dynamodb"]["entries"] == 0


def test_a_string_for_a_number_key_is_a_validation_error_not_a_missing_item(aws, cached):
    # moto answers this key with "no item"; DynamoDB refuses it, which the stub stands in for.
    hash_key_table(boto3.resource("dynamodb"), "numbers", "id", "N")
    expected = {"TableName": "numbers", "Key": {"id": {"S": "1"}}}
    client = cached.client("dynamodb")
    with Stubber(client) as stubber:
        for _ in range(2):
            stubber.add_client_error(
                "get_item",
                service_error_code="ValidationException",
                service_message=SCHEMA_MISMATCH,
                http_status_code=400,
                expected_params=expected,
            )

        first = _validation_error(cached, "numbers", {"id": "1"})
        _validation_error(cached, "numbers", {"id": "1"})

        stubber.assert_no_pending_responses()
    assert SCHEMA_MISMATCH in str(first)
    assert cached.stats()["dynamodb"]["entries"] == 0


def test_a_validation_error_is_raised_even_where_stale_items_are_allowed(
    events, cached, monkeypatch
):
    monkeypatch.setenv("CACHED_CLIENTS_STALE_IF_ERROR", "3600")
    cached.clear()
    assert cached.get_item("events", {"pk": "a", "sk": "b"}, ttl=1e-9) is not None

    client = cached.client("dynamodb")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "get_item",
            service_error_code="ValidationException",
            service_message=SCHEMA_MISMATCH,
            http_status_code=400,
        )
        _validation_error(cached, "events", {"pk": "a", "sk": "b"})
        stubber.assert_no_pending_responses()


# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html
# A partition key value holds at most 2048 bytes, a sort key value 1024; a string counts
# its UTF-8 bytes ("é" is two).
TOO_LONG = {
    "string over 2048 bytes": {"pk": "x" * 2049},
    "2050 bytes in 1025 characters": {"pk": "é" * 1025},
    "binary over 2048 bytes": {"pk": b"x" * 2049},
    "second value over 2048 bytes": {"pk": "a", "sk": "x" * 2049},
    "both values over 1024 bytes": {"pk": "x" * 1025, "sk": "y" * 1025},
    "both over 1024 bytes in 513 characters": {"pk": "é" * 513, "sk": b"y" * 1025},
}


@pytest.mark.usefixtures("events")
@pytest.mark.parametrize("consistent_read", [False, True], ids=["cached", "consistent"])
@pytest.mark.parametrize("key", TOO_LONG.values(), ids=TOO_LONG.keys())
def test_a_key_value_over_dynamodbs_size_limit_raises_before_any_request(
    cached, api_calls, key, consistent_read
):
    cached.get_item("events", {"pk": "a", "sk": "b"})
    before, requests = cached.stats(), api_calls.count()

    for _ in range(2):
        with pytest.raises(ValueError, match="DynamoDB's limit"):
            cached.get_item("events", key, consistent_read=consistent_read)

    assert api_calls.count() == requests
    assert cached.stats() == before


def test_key_values_at_dynamodbs_size_limits_are_read(events, cached, api_calls):
    widest = [{"pk": "x" * 2048, "sk": "y" * 1024}, {"pk": "é" * 1024, "sk": "é" * 512}]
    for key in widest:
        events.put_item(Item={**key, "value": "widest"})

    for key in widest:
        assert cached.get_item("events", key) == {**key, "value": "widest"}
    assert api_calls.count("dynamodb", "GetItem") == 2


def test_a_long_value_that_may_be_the_partition_key_is_left_to_dynamodb(events, cached, api_calls):
    # Only the table knows which of the two is the sort key; DynamoDB answers a sort key over
    # 1024 bytes with a ValidationException, moto with "no item".
    cached.get_item("events", {"pk": "y" * 1024, "sk": "x" * 2048}, ttl=0)

    assert api_calls.count("dynamodb", "GetItem") == 1
