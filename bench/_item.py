"""The one item shape and table every DynamoDB benchmark uses, for ours and the peers alike."""

from decimal import Decimal
from typing import Any

__all__ = [
    "KEY_ATTRIBUTE",
    "NESTED_ATTRIBUTE",
    "TABLE",
    "create_table",
    "deeper_item",
    "item",
    "key",
]

TABLE = "bench-accounts"
KEY_ATTRIBUTE = "pk"
# Powertools' provider returns one attribute of the item; it is pointed at this one.
NESTED_ATTRIBUTE = "regions"


def key(index: int) -> dict[str, str]:
    """The primary key of item ``index`` (a string partition key, no sort key)."""
    return {KEY_ATTRIBUTE: f"account#{index:06d}"}


def item(index: int, padding: int = 0) -> dict[str, Any]:
    """Item ``index``: six attributes, one of them a list; ``padding`` lengthens the name."""
    return {
        **key(index),
        "name": f"Example Organisation {index}" + "x" * padding,
        "tier": "enterprise",
        "seats": Decimal(250 + index % 100),
        "active": True,
        NESTED_ATTRIBUTE: ["eu-west-1", "us-east-1", "ap-southeast-2"],
    }


def deeper_item(index: int) -> dict[str, Any]:
    """Item ``index`` with its list holding two maps instead of strings: more to copy."""
    return {
        **item(index),
        NESTED_ATTRIBUTE: [
            {"region": "eu-west-1", "weight": Decimal(3)},
            {"region": "us-east-1", "weight": Decimal(1)},
        ],
    }


def create_table(resource: Any) -> Any:
    """Create the benchmark table with a boto3 DynamoDB resource and return it."""
    table = resource.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table.wait_until_exists()
    return table
