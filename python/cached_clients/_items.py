"""Stored DynamoDB items: a copy planned once at store time, and an honest size in bytes."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from decimal import Decimal

__all__ = ["StoredItem", "deep_size", "is_binary"]

_sizeof = sys.getsizeof
_SHARED = frozenset({str, int, bool, bytes, Decimal, type(None)})
# A nested map with more values to copy than this is copied by _copy_deep, without a plan.
_MAX_PLANNED = 16


class StoredItem:
    """One item as deserialized, kept private; ``copy()`` gives each caller its own."""

    __slots__ = ("copy", "size")

    def __init__(self, item: dict | None) -> None:
        self.copy: Callable[[], dict | None] = _plan(item)
        self.size = deep_size(item) + _plan_size(self.copy)


def deep_size(value: object) -> int:
    """Bytes held by a deserialized DynamoDB value and everything it contains."""
    kind = type(value)
    if kind is dict:
        return _sizeof(value) + sum(deep_size(k) + deep_size(v) for k, v in value.items())
    if kind is list or kind is set or kind is tuple:
        return _sizeof(value) + sum(deep_size(element) for element in value)
    if kind is _binary_type():
        return _sizeof(value) + _sizeof(value.value)
    return _sizeof(value)


def _plan_size(copy: object) -> int:
    """Bytes held by a copy plan beyond the item: its closures, their cells and the tuples
    they hold. The names and values it refers to belong to the item, counted already."""
    kind = type(copy)
    if kind is tuple:
        return _sizeof(copy) + sum(_plan_size(element) for element in copy)
    if kind is types.BuiltinMethodType:
        return _sizeof(copy)  # item.copy, bound to the stored item
    closure = copy.__closure__ if kind is types.FunctionType else None
    if closure is None:
        return 0  # a function that every plan shares, or a name or value of the item
    return (
        _sizeof(copy)
        + _sizeof(closure)
        + sum(_sizeof(cell) + _plan_size(cell.cell_contents) for cell in closure)
    )


def _plan(item: dict | None) -> Callable[[], dict | None]:
    """A function that copies item, duplicating only the attributes a caller could mutate."""
    if item is None:
        return _nothing

    mutable = tuple(
        (name, copier) for name, value in item.items() if (copier := _copier(value)) is not None
    )
    if not mutable:
        return item.copy
    if len(mutable) == 1:
        ((name, copier),) = mutable

        def copy_one() -> dict:
            result = item.copy()
            result[name] = copier(result[name])
            return result

        return copy_one

    def copy_some() -> dict:
        result = item.copy()
        for name, copier in mutable:
            result[name] = copier(result[name])
        return result

    return copy_some


def _copier(value: object) -> Callable[[object], object] | None:
    """How to copy one attribute value, or None when it is immutable and can be shared."""
    kind = type(value)
    if kind in _SHARED:
        return None
    if kind is list:
        return _list_copier(value)
    if kind is dict:
        return _map_copier(value)
    if kind is set:
        return set.copy if all(_copier(element) is None for element in value) else _copy_deep
    if kind is _binary_type():
        return _copy_binary
    return None


def _list_copier(value: list) -> Callable[[list], list]:
    copiers = {_copier(element) for element in value}
    if copiers <= {None}:
        return list.copy
    if len(copiers) > 1:
        return _copy_deep  # a mix: maps beside strings, or maps that copy differently

    # Every element copies alike: a list of flat maps, say, copies each map with dict.copy.
    (copy,) = copiers

    def copy_each(original: list) -> list:
        return list(map(copy, original))

    return copy_each


def _map_copier(value: dict) -> Callable[[dict], dict]:
    planned = tuple(
        (name, copy) for name, element in value.items() if (copy := _copier(element)) is not None
    )
    if not planned:
        return dict.copy
    if len(planned) > _MAX_PLANNED:
        return _copy_deep  # a plan this long would hold more than the item's size counts

    def copy_planned(original: dict) -> dict:
        result = original.copy()
        for name, copy in planned:
            result[name] = copy(result[name])
        return result

    return copy_planned


def _copy_deep(value: object) -> object:
    kind = type(value)
    if kind in _SHARED:
        return value
    if kind is list:
        return [_copy_deep(element) for element in value]
    if kind is dict:
        return {name: _copy_deep(element) for name, element in value.items()}
    if kind is set:
        return {_copy_deep(element) for element in value}
    if kind is _binary_type():
        return _copy_binary(value)
    return value


def _copy_binary(value: object) -> object:
    return type(value)(value.value)


def _binary_type() -> type | None:
    """boto3's Binary, or None while boto3.dynamodb.types is not imported: no value can be a
    Binary then, and get_item does not import boto3 until an item holds one."""
    return getattr(sys.modules.get("boto3.dynamodb.types"), "Binary", None)


def is_binary(value: object) -> bool:
    """Whether the value is bytes, a bytearray or a boto3 Binary (or a subclass of one)."""
    binary = _binary_type()
    return isinstance(value, (bytes, bytearray)) or (
        binary is not None and isinstance(value, binary)
    )


def _nothing() -> None:
    return None
