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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _item, _stand_in

__all__ = ["main"]


def _answer(padding: int):
    def item_for(key: dict) -> dict:
        return _item.item(int(key[_item.KEY_ATTRIBUTE]["S"].rsplit("#", 1)[1]), padding)

    return item_for


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
    results = {}
    for side in sides:
        read = _ours() if side == "ours" else _seed(items)
        with _stand_in.get_item_answered_by(_answer(padding)):
            results[side] = _fill(read, items)
        if side == "ours":
            import cached_clients

            results[side]["stats"] = cached_clients.stats()["dynamodb"]
            cached_clients.clear()
        del read
        gc.collect()
    item_bytes = len(json.dumps(_stand_in.wire(_item.item(0, padding))))
    print(json.dumps({"results": results, "item_json_bytes": item_bytes}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
