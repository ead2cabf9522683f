"""A stand-in for DynamoDB's HTTP endpoint inside botocore, for benchmarks that need many reads.

botocore still validates and serializes each request, and boto3 (or ours) still deserializes
each answer; only the socket and the server are left out, the same for every side.
"""

import contextlib
import json
from collections.abc import Callable, Iterator
from decimal import Decimal

__all__ = ["get_item_answered_by", "wire"]


def _attribute(value: object) -> dict:
    # Covers the types of the benchmark's items; boto3's TypeSerializer costs ten times more.
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, Decimal):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [_attribute(element) for element in value]}
    return {"M": {name: _attribute(element) for name, element in value.items()}}


def wire(item: dict) -> dict:
    """An item as DynamoDB's JSON protocol carries it."""
    return {name: _attribute(value) for name, value in item.items()}


@contextlib.contextmanager
def get_item_answered_by(answer: Callable[[dict], dict | None]) -> Iterator[None]:
    """Within the block, every GetItem gets ``answer(key in wire form)`` (None: no item).

    Any other request raises instead of leaving the process.
    """
    import botocore.awsrequest
    import botocore.endpoint

    original = botocore.endpoint.Endpoint.make_request

    def make_request(self, operation_model, request_dict):
        if operation_model.name != "GetItem":
            # Nothing but GetItem is expected here, and nothing may leave the process.
            raise RuntimeError(f"the GetItem stand-in refuses {operation_model.name}")
        item = answer(json.loads(request_dict["body"])["Key"])
        parsed = {"ResponseMetadata": {"HTTPStatusCode": 200}}
        if item is not None:
            parsed["Item"] = wire(item)
        return botocore.awsrequest.AWSResponse(request_dict["url"], 200, {}, None), parsed

    botocore.endpoint.Endpoint.make_request = make_request
    try:
        yield
    finally:
        botocore.endpoint.Endpoint.make_request = original
