"""Warm hits in one process under in-process moto: get_item and assume_role, ours and peers."""

import cachetools.func
from moto import mock_aws

from bench import _item
from bench._ours import missing
from bench._timing import Settings, Side, interleaved, warm
from bench.report import Figure, Goal, Row

__all__ = ["ROLE_ARN", "assume_role_figures", "get_item_figures"]

ROLE_ARN = "arn:aws:iam::123456789012:role/bench-reader"
SESSION_NAME = "bench"
INDEX = 42


def _get_item_sides() -> tuple[dict[str, Side], str]:
    import boto3
    from aws_lambda_powertools.utilities.parameters import DynamoDBProvider

    resource = boto3.resource("dynamodb")
    table = _item.create_table(resource)
    table.put_item(Item=_item.item(INDEX))
    key_value = _item.key(INDEX)[_item.KEY_ATTRIBUTE]

    # The seed: the decorator a user pastes over the boto3 call. Its cache key has to be
    # hashable, so it takes the key's value rather than the key dict.
    @cachetools.func.ttl_cache(maxsize=64, ttl=300)
    def seed_get_item(value):
        return table.get_item(Key={_item.KEY_ATTRIBUTE: value}).get("Item")

    provider = DynamoDBProvider(
        _item.TABLE, key_attr=_item.KEY_ATTRIBUTE, value_attr=_item.NESTED_ATTRIBUTE
    )
    floor = {key_value: seed_get_item(key_value)}
    sides = {
        "seed: ttl_cache(64, 300) over Table.get_item": Side(
            "get(value)", {"get": seed_get_item, "value": key_value}
        ),
        "Powertools DynamoDBProvider.get(max_age=300)": Side(
            "get(value, max_age=300)", {"get": provider.get, "value": key_value}
        ),
        "bare dict lookup (the floor)": Side("store[value]", {"store": floor, "value": key_value}),
    }
    reason = missing("get_item")
    if not reason:
        import cached_clients

        sides = {
            "ours: cached_clients.get_item": Side(
                "get(table, key)",
                {"get": cached_clients.get_item, "table": _item.TABLE, "key": _item.key(INDEX)},
            ),
            **sides,
        }
    return sides, reason


def _figure(name: str, samples: dict[str, list[float]], goals: dict[str, Goal], note: str):
    rows = [
        Row(side, [seconds * 1e6 for seconds in values], goals.get(side))
        for side, values in samples.items()
    ]
    ours = next((row for row in rows if row.side.startswith("ours")), None)
    peers = [row for row in rows if row is not ours]
    return Figure(name, "µs", ours, peers, note=note)


def get_item_figures(settings: Settings) -> list[Figure]:
    """Warm get_item hit: ours, the seed decorator, Powertools and a bare dict lookup."""
    with mock_aws():
        return [_get_item_figure(settings)]


def _get_item_figure(settings: Settings) -> Figure:
    sides, reason = _get_item_sides()
    warm(sides)
    goals = {
        "seed: ttl_cache(64, 300) over Table.get_item": Goal.ratio_at_most(0.75),
        "Powertools DynamoDBProvider.get(max_age=300)": Goal.ratio_at_most(0.6),
    }
    note = (
        "one 6-attribute item (a list of two maps among them) in one table, warm in one "
        "process; Powertools reads the same item and returns its nested list (the one "
        "attribute its API hands back); ours returns a private copy, the seed and Powertools "
        "the shared cached object"
    )
    if reason:
        note += f"; ours not measured: {reason}"
    return _figure("warm get_item hit", interleaved(sides, settings), goals, note)


def _assume_role_sides() -> tuple[dict[str, Side], str]:
    import boto3

    sts = boto3.client("sts")

    @cachetools.func.ttl_cache(maxsize=64, ttl=300)
    def seed_assume_role(role_arn, session_name):
        return sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]

    sides = {
        "seed: ttl_cache(64, 300) over sts.assume_role": Side(
            "assume(arn, name)", {"assume": seed_assume_role, "arn": ROLE_ARN, "name": SESSION_NAME}
        )
    }
    reason = missing("assume_role")
    if not reason:
        import cached_clients

        ours = Side(
            "assume(arn, session_name=name)",
            {"assume": cached_clients.assume_role, "arn": ROLE_ARN, "name": SESSION_NAME},
        )
        sides = {"ours: cached_clients.assume_role": ours, **sides}
    return sides, reason


def assume_role_figures(settings: Settings) -> list[Figure]:
    """Warm assume_role hit: ours against the seed decorator around sts.assume_role."""
    with mock_aws():
        return [_assume_role_figure(settings)]


def _assume_role_figure(settings: Settings) -> Figure:
    sides, reason = _assume_role_sides()
    warm(sides)
    goals = {"seed: ttl_cache(64, 300) over sts.assume_role": Goal.ratio_at_most(1.0)}
    note = "same role ARN and session name on both sides"
    if reason:
        note += f"; ours not measured: {reason}"
    return _figure("warm assume_role hit", interleaved(sides, settings), goals, note)
