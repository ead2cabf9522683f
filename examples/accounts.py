"""Example function: look an account up in the ``accounts`` table that another AWS account owns.

The function's role may assume ACCOUNTS_ROLE_ARN, a role in the account that owns the table.
cached_clients keeps the assumed-role credentials and every item read for the warm life of the
execution environment, so most warm invocations make no AWS call at all.
"""

import base64
import os
from decimal import Decimal

import cached_clients
from boto3.dynamodb.types import Binary

__all__ = ["handler"]

ROLE_ARN = os.environ["ACCOUNTS_ROLE_ARN"]
TABLE_NAME = os.environ.get("ACCOUNTS_TABLE", "accounts")


def handler(event: dict, context: object) -> dict:
    """Return the account that ``event["account_id"]`` names, or ``found: False``."""
    account_id = event.get("account_id")
    if not isinstance(account_id, str) or not account_id:
        raise ValueError("the event needs an account_id, a non-empty string")

    key = {"account_id": account_id}
    item = cached_clients.get_item(TABLE_NAME, key, role_arn=ROLE_ARN)
    if item is None:
        return {"account_id": account_id, "found": False}
    return {"account_id": account_id, "found": True, "account": _json_safe(item)}


def _json_safe(value: object) -> object:
    """DynamoDB's types as JSON has them: numbers, sorted lists for sets, base64 for binary."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, set):
        return sorted(_json_safe(item) for item in value)
    if isinstance(value, Decimal):
        # A float keeps about 16 significant digits; return str(value) where more matter.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode("ascii")
    return value
