"""One process: fill ours, then the seed, with distinct ~2 KB items; print tracemalloc peaks.

Run as ``python _memory_child.py ITEMS PADDING SIDE...`` with CACHED_CLIENTS_MAX_BYTES set.
GetItem never leaves botocore: a stand-in for the HTTP endpoint answers every GetItem with
the item its key names, after botocore has validated and serialized the request, and before
boto3 (or ours) deserializes the answer, so every side pays the same and sees the same item.
"""

import gc
import json
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _item

__all__ = ["main"]


def _attribute(value: object) -> dict:
    # Covers the types of the benchmark's item; boto3's TypeSerializer costs ten times more.
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, Decimal):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [_attribute(element) for element in value]}
    return {"M": {name: _attribute(element) for name, element in value.items()}}


def _wire(index: int, padding: int) -> dict:
    return {name: _attribute(value) for name, value in _item.item(index, padding).items()}


def _stand_in(padding: int):
    import botocore.awsrequest
    import botocore.endpoint

    original = botocore.endpoint.Endpoint.make_request

    def make_request(self, operation_model, request_dict):
        if operation_model.name != "GetItem":
            return original(self, operation_model, request_dict)
        key = json.loads(request_dict["body"])["Key"][_item.KEY_ATTRIBUTE]["S"]
        index = int(key.rsplit("#", 1)[1])
        http = botocore.awsrequest.AWSResponse(request_dict["url"], 200, {}, None)
        return http, {"Item": _wire(index, padding), "ResponseMetadata": {"HTTPStatusCode": 200}}

    botocore.endpoint.Endpoint.make_request = make_request


def _ours():
    import cached_clients

    return lambda index: cached_clients.get_item(_item.TABLE, _item.key(index))


def _seed(items: int):
    import boto3
    import cachetools.func

    table = boto3.resource("dynamodb").Table(_item.TABLE)

    @cachetools.func.ttl_cache(maxsize=items, ttl=300)
    def get_item(value):
        return table.get_item(Key={_item.KEY_ATTRIBUTE: value}).get("Item")

    return lambda index: get_item(_item.key(index)[_item.KEY_ATTRIBUTE])


def _fill(read, items: int) -> dict:
    read(items)  # the client is built, and its first request made, before tracing starts
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    for index in range(items):
        read(index)
    seconds = time.perf_counter() - started
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"peak": peak, "current": current, "seconds": seconds}


def main(argv: list[str]) -> int:
    """Fill each side named in argv, one after the other; print one JSON object."""
    items, padding, sides = int(argv[0]), int(argv[1]), argv[2:]
    _stand_in(padding)
    results = {}
    for side in sides:
        read = _ours() if side == "ours" else _seed(items)
        results[side] = _fill(read, items)
        if side == "ours":
            import cached_clients

            results[side]["stats"] = cached_clients.stats()["dynamodb"]
            cached_clients.clear()
        del read
        gc.collect()
    item_bytes = len(json.dumps(_wire(0, padding)))
    print(json.dumps({"results": results, "item_json_bytes": item_bytes}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
