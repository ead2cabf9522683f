"""Numbers at DynamoDB's edges: one entry per key number, 38 digits at most, long numbers read."""

import decimal
from decimal import Decimal

import boto3
import pytest
from _tables import hash_key_table
from boto3.dynamodb.types import TypeDeserializer
from botocore.stub import Stubber

pytestmark = pytest.mark.usefixtures("cached")

# DynamoDB writes a stored 1E+100 out in full in its answers; moto echoes the short form.
WRITTEN_OUT = "1" + "0" * 100


@pytest.fixture
def numbers(aws):
    """A table "numbers" keyed by a number "id", holding the items 1 and 1.5."""
    table = hash_key_table(boto3.resource("dynamodb"), "numbers", "id", "N")
    table.put_item(Item={"id": 1, "name": "one"})
    table.put_item(Item={"id": Decimal("1.5"), "name": "one and a half"})
    return table


@pytest.mark.usefixtures("numbers")
def test_equal_key_numbers_written_differently_share_one_entry(cached, api_calls):
    for spelling in (1, Decimal("1"), Decimal("1.0"), Decimal("10E-1"), Decimal("0.1E1")):
        assert cached.get_item("numbers", {"id": spelling}) == {"id": 1, "name": "one"}
    for spelling in (Decimal("1.5"), Decimal("1.50"), Decimal("15E-1")):
        assert cached.get_item("numbers", {"id": spelling})["name"] == "one and a half"

    assert api_calls.count("dynamodb", "GetItem") == 2
    assert cached.stats()["dynamodb"]["entries"] == 2


@pytest.mark.usefixtures("numbers")
@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (Decimal("10E-1"), "1"),
        (Decimal("1.50"), "1.5"),
        (Decimal("1E+5"), "100000"),
        (Decimal("-0.0"), "0"),
        (Decimal("1" + "0" * 50), "1E+50"),
        (10**40, "1E+40"),
    ],
)
def test_the_request_carries_the_number_in_its_canonical_form(cached, given, sent):
    client = cached.client("dynamodb")
    with Stubber(client) as stubber:
        expected = {"TableName": "numbers", "Key": {"id": {"N": sent}}}
        stubber.add_response("get_item", {}, expected)

        assert cached.get_item("numbers", {"id": given}) is None

        stubber.assert_no_pending_responses()


@pytest.mark.usefixtures("numbers")
@pytest.mark.parametrize(
    ("number", "words"),
    [
        (Decimal("1" * 39), "more than 38 significant digits"),
        (Decimal("1." + "1" * 38), "more than 38 significant digits"),
        (10**38 + 1, "more than 38 significant digits"),
        (-(10**38) - 1, "more than 38 significant digits"),
        (Decimal("1E+126"), "1E-130 to 9.9E\\+125"),
        (Decimal("1E-131"), "1E-130 to 9.9E\\+125"),
        (Decimal("1E+999999999"), "1E-130 to 9.9E\\+125"),
        (Decimal("-1E-999999999"), "1E-130 to 9.9E\\+125"),
        (Decimal("-Infinity"), "finite"),
    ],
)
def test_a_key_number_dynamodb_cannot_hold_raises_before_any_request(
    cached, api_calls, number, words
):
    cached.get_item("numbers", {"id": 1})
    before, requests = cached.stats(), api_calls.count()

    with pytest.raises(ValueError, match=words):
        cached.get_item("numbers", {"id": number})
    with pytest.raises(ValueError, match=words):
        cached.get_item("numbers", {"id": number, "other": "x"})

    assert api_calls.count() == requests
    assert cached.stats() == before


def test_38_significant_digits_are_accepted_in_every_position(aws, cached, api_calls):
    table = hash_key_table(boto3.resource("dynamodb"), "wide", "id", "N")
    widest = [
        10**38 - 1,
        -(10**38) + 1,
        Decimal("0." + "9" * 38),
        Decimal("1." + "2" * 37 + "E+125"),
        Decimal("1E-130"),
    ]
    for number in widest:
        table.put_item(Item={"id": number})

    for number in widest:
        assert cached.get_item("wide", {"id": number}) == {"id": number}
    assert api_calls.count("dynamodb", "GetItem") == len(widest)


def _long_number_response() -> dict:
    return {
        "Item": {
            "id": {"N": "7"},
            "big": {"N": WRITTEN_OUT},
            "bigs": {"NS": [WRITTEN_OUT, "2"]},
            "nested": {"M": {"big": {"N": WRITTEN_OUT}, "list": {"L": [{"N": WRITTEN_OUT}]}}},
            "small": {"N": "0.5"},
        }
    }


def test_boto3_alone_cannot_read_a_number_written_out_in_full():
    with pytest.raises(decimal.Rounded):
        TypeDeserializer().deserialize({"N": WRITTEN_OUT})


@pytest.mark.usefixtures("numbers")
def test_a_number_written_out_in_full_is_the_right_decimal_on_a_miss_and_a_hit(cached):
    big = Decimal("1E+100")
    client = cached.client("dynamodb")
    with Stubber(client) as stubber:
        stubber.add_response("get_item", _long_number_response())

        miss = cached.get_item("numbers", {"id": 7})
        hit = cached.get_item("numbers", {"id": 7})

        stubber.assert_no_pending_responses()
    for found in (miss, hit):
        assert found == {
            "id": 7,
            "big": big,
            "bigs": {big, Decimal("2")},
            "nested": {"big": big, "list": [big]},
            "small": Decimal("0.5"),
        }
        assert found["big"].as_tuple() == big.as_tuple()
        assert found["nested"]["list"][0].as_tuple() == big.as_tuple()
        assert type(found["small"]) is Decimal
    assert cached.stats()["dynamodb"]["hits"] == 1


def test_the_short_form_that_moto_echoes_reads_back_the_same(numbers, cached):
    numbers.put_item(Item={"id": 7, "big": Decimal("1E+100")})

    found = cached.get_item("numbers", {"id": 7})

    assert found["big"].as_tuple() == Decimal("1E+100").as_tuple()


@pytest.mark.usefixtures("numbers")
def test_the_error_for_a_huge_key_number_shows_it_in_short(cached, api_calls):
    with pytest.raises(ValueError, match=r"1E-130 to 9\.9E\+125") as raised:
        cached.get_item("numbers", {"id": 10**5000})

    assert "1.000000E+5000" in str(raised.value)
    assert len(str(raised.value)) < 200
    assert api_calls.count() == 0
