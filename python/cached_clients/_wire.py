"""DynamoDB's typed values, written and read as boto3's TypeSerializer and TypeDeserializer
write and read them, without importing boto3 until a binary value needs its Binary."""

from __future__ import annotations

from collections.abc import Callable

from cached_clients._numbers import read_number, write_number

__all__ = ["key_attribute", "read_item"]


def key_attribute(value: str | int | object) -> dict[str, object]:
    """A canonical key value (a str, an int, a Decimal or bytes) as a typed DynamoDB value."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bytes:
        return {"B": value}
    return {"N": write_number(value)}


def read_item(attributes: dict[str, dict]) -> dict[str, object]:
    """An item's typed attributes as Python values: str, Decimal, bool, None, boto3's Binary,
    sets of those, and lists and dicts of any of them."""
    return {name: _read(typed) for name, typed in attributes.items()}


def _read(typed: dict) -> object:
    if not typed:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    kind = next(iter(typed))
    reader = _READERS.get(kind.lower())
    if reader is None:
        raise TypeError(f"Dynamodb type {kind} is not supported")
    return reader(typed[kind])


def _binary(value: bytes) -> object:
    from boto3.dynamodb.types import Binary

    return Binary(value)


def _same(value: object) -> object:
    return value


_READERS: dict[str, Callable[[object], object]] = {
    "s": _same,
    "n": read_number,
    "bool": _same,
    "null": lambda value: None,
    "b": _binary,
    "ss": set,
    "ns": lambda values: set(map(read_number, values)),
    "bs": lambda values: set(map(_binary, values)),
    "l": lambda values: [_read(typed) for typed in values],
    "m": lambda attributes: {name: _read(typed) for name, typed in attributes.items()},
}
