"""Example function: look an account up in the ``accounts`` table that another AWS account owns.

The function's role may assume ACCOUNTS_ROLE_ARN, a role in the account that owns the table.
cached_clients keeps the assumed-role credentials and every item read for the warm life of the
execution environment, so most warm invocations make no AWS call at all.
"""

import os

import cached_clients

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
    return {"account_id": account_id, "found": True, "account": item}
