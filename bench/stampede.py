"""Upstream GetItem calls when 32 threads miss one key at the same moment."""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import cachetools
import cachetools.func
from moto import mock_aws

from bench import _item
from bench._ours import missing
from bench._timing import Settings
from bench.report import Figure, Goal, Row

__all__ = ["LATENCY", "THREADS", "run"]

THREADS = 32
# A stand-in for the network round trip, so that the other threads reach the cache while
# the first call is still out (in-process moto answers faster than a thread switch).
LATENCY = 0.05


@contextlib.contextmanager
def _counted_get_items() -> Iterator[list[int]]:
    import botocore.client

    count = [0]
    lock = threading.Lock()
    original = botocore.client.BaseClient._make_api_call

    def counting(client, operation_name, api_params):
        if operation_name == "GetItem":
            with lock:
                count[0] += 1
            time.sleep(LATENCY)
        return original(client, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = counting
    try:
        yield count
    finally:
        botocore.client.BaseClient._make_api_call = original


def _burst(call: Callable[[int], object], index: int) -> None:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def one() -> None:
        barrier.wait()
        try:
            call(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _sides(table) -> dict[str, Callable[[int], object]]:
    def read(index: int):
        return table.get_item(Key=_item.key(index)).get("Item")

    seed = cachetools.func.ttl_cache(maxsize=64, ttl=300)(read)
    locked = cachetools.cached(cachetools.TTLCache(maxsize=64, ttl=300), lock=threading.Lock())(
        read
    )
    sides = {
        "seed: ttl_cache(64, 300) over Table.get_item": seed,
        "cachetools.cached(TTLCache, lock=Lock())": locked,
    }
    if not missing("get_item"):
        import cached_clients

        sides = {
            "ours: cached_clients.get_item": lambda index: cached_clients.get_item(
                _item.TABLE, _item.key(index)
            ),
            **sides,
        }
    return sides


def _measure(settings: Settings) -> dict[str, list[float]]:
    import boto3

    table = _item.create_table(boto3.resource("dynamodb"))
    for index in range(settings.rounds + 1):
        table.put_item(Item=_item.item(index))
    sides = _sides(table)
    for call in sides.values():
        call(settings.rounds)  # builds each side's client before the bursts, outside the count

    samples: dict[str, list[float]] = {name: [] for name in sides}
    with _counted_get_items() as count:
        for index in range(settings.rounds):
            for name, call in sides.items():
                count[0] = 0
                _burst(call, index)
                samples[name].append(count[0])
    return samples


def run(settings: Settings) -> list[Figure]:
    """One figure: GetItem calls per burst of 32 concurrent misses on one new key."""
    with mock_aws():
        samples = _measure(settings)
    rows = [Row(name, values) for name, values in samples.items()]
    ours = next((row for row in rows if row.side.startswith("ours")), None)
    if ours is not None:
        ours = Row(ours.side, ours.samples, Goal.value_equals(1, "exactly 1"))
    note = (
        f"{THREADS} threads released by one barrier onto a key none has cached, a new key each "
        f"round; every GetItem waits {LATENCY * 1000:.0f} ms before moto answers, on every side"
    )
    reason = missing("get_item")
    if reason:
        note += f"; ours not measured: {reason}"
    peers = [row for row in rows if not row.side.startswith("ours")]
    return [Figure("upstream calls, 32 threads miss one key", "calls", ours, peers, note=note)]
