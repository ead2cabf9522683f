"""One fresh process: import, then the first get_item against moto's server; prints seconds.

Run as ``python _cold_child.py SIDE TABLE KEY_ATTRIBUTE KEY_VALUE [LAYER_PYTHON]`` with the
endpoint in AWS_ENDPOINT_URL_DYNAMODB, so both sides find moto's server the way boto3 resolves
it. LAYER_PYTHON, the unpacked layer's python/ directory, goes first on the path, as
/opt/python does in Lambda, and ours must come from there.
"""

import sys
import time

__all__ = ["main"]


def _ours(table: str, key: dict) -> object:
    import cached_clients

    return cached_clients.get_item(table, key)


def _seed(table: str, key: dict) -> object:
    import boto3
    import cachetools.func

    resource_table = boto3.resource("dynamodb").Table(table)

    @cachetools.func.ttl_cache(maxsize=64, ttl=300)
    def get_item(value):
        return resource_table.get_item(Key={attribute: value}).get("Item")

    (attribute,) = key
    return get_item(key[attribute])


def main(argv: list[str]) -> int:
    """Time one side's import and first call; exit 1 if the item did not come back."""
    side, table, attribute, value, *layer = argv
    sys.path[:0] = layer

    started = time.perf_counter()
    item = {"ours": _ours, "seed": _seed}[side](table, {attribute: value})
    elapsed = time.perf_counter() - started
    if not item:
        print(f"{side}: no item came back", file=sys.stderr)
        return 1
    if layer and not sys.modules["cached_clients"].__file__.startswith(layer[0]):
        print(
            f"{side}: cached_clients came from {sys.modules['cached_clients'].__file__}",
            file=sys.stderr,
        )
        return 1
    print(f"{elapsed:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
