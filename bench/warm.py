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
DEEPER_INDEX = 43
SEED = "seed: ttl_cache(64, 300) over Table.get_item"
POWERTOOLS = "Powertools DynamoDBProvider.get(max_age=300)"


def _get_item_sides(table, index: int, floor: bool) -> tuple[dict[str, Side], str]:
    from aws_lambda_powertools.utilities.parameters import DynamoDBProvider

    key_value = _item.key(index)[_item.KEY_ATTRIBUTE]

    # The seed: the decorator a user pastes over the boto3 call. Its cache key has to be
    # hashable, so it takes the key's value rather than the key dict.
    @cachetools.func.ttl_cache(maxsize=64, ttl=300)
    def seed_get_item(value):
        return table.get_item(Key={_item.KEY_ATTRIBUTE: value}).get("Item")

    provider = DynamoDBProvider(
        _item.TABLE, key_attr=_item.KEY_ATTRIBUTE, value_attr=_item.NESTED_ATTRIBUTE
    )
    sides = {
        SEED: Side("get(value)", {"get": seed_get_item, "value": key_value}),
        POWERTOOLS: Side("get(value, max_age=300)", {"get": provider.get, "value": key_value}),
    }
    if floor:
        store = {key_value: seed_get_item(key_value)}
        sides["bare dict lookup (the floor)"] = Side("store[v]", {"store": store, "v": key_value})
    return _with_ours(sides, index)


def _with_ours(sides: dict[str, Side], index: int) -> tuple[dict[str, Side], str]:
    reason = missing("get_item")
    if reason:
        return sides, reason

    import cached_clients

    ours = Side(
        "get(table, key)",
        {"get": cached_clients.get_item, "table": _item.TABLE, "key": _item.key(index)},
    )
    return {"ours: cached_clients.get_item": ours, **sides}, ""


def _figure(name: str, samples: dict[str, list[float]], goals: dict[str, Goal], note: str):
    rows = [
        Row(side, [seconds * 1e6 for seconds in values], goals.get(side))
        for side, values in samples.items()
    ]
    ours = next((row for row in rows if row.side.startswith("ours")), None)
    peers = [row for row in rows if row is not ours]
    return Figure(name, "µs", ours, peers, note=note)


def get_item_figures(settings: Settings) -> list[Figure]:
    """Warm get_item hits: the item of the goal, then one whose list holds maps (no goal)."""
    import boto3

    with mock_aws():
        table = _item.create_table(boto3.resource("dynamodb"))
        table.put_item(Item=_item.item(INDEX))
        table.put_item(Item=_item.deeper_item(DEEPER_INDEX))
        return [_get_item_figure(table, settings), _deeper_figure(table, settings)]


def _get_item_figure(table, settings: Settings) -> Figure:
    sides, reason = _get_item_sides(table, INDEX, floor=True)
    warm(sides)
    goals = {SEED: Goal.ratio_at_most(0.75), POWERTOOLS: Goal.ratio_at_most(0.6)}
    note = (
        "one item of six attributes (a string key, two strings, a number, a boolean and a "
        "list of three strings) in one table, warm in one process; Powertools reads the same "
        "item and returns its list, the one attribute its API hands back; ours returns a "
        "private copy, the seed and Powertools the cached object itself"
    )
    if reason:
        note += f"; ours not measured: {reason}"
    return _figure("warm get_item hit", interleaved(sides, settings), goals, note)


def _deeper_figure(table, settings: Settings) -> Figure:
    sides, reason = _get_item_sides(table, DEEPER_INDEX, floor=False)
    warm(sides)
    note = (
        "the same item with its list holding two maps: every map is copied for the caller "
        "on our side, nothing on the peers'; shown for what nesting costs, no goal"
    )
    if reason:
        note += f"; ours not measured: {reason}"
    return _figure("warm get_item hit, list of maps", interleaved(sides, settings), {}, note)


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
