"""Canonical, validated cache keys for DynamoDB items and their projections."""

from __future__ import annotations

from decimal import Decimal

from cached_clients._items import is_binary
from cached_clients._numbers import INT_LIMIT, key_number

__all__ = ["canonical_key", "check_key_size", "projection", "projection_parameters"]

# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html
# (partition keys and sort keys): a string counts its UTF-8 bytes, binary its bytes.
_MAX_PARTITION_KEY_BYTES = 2048
_MAX_SORT_KEY_BYTES = 1024

_MAX_PROJECTIONS = 1024

# The plain str that a str subclass holds, as boto3 sends it: str() of a member of a str-mixin
# enum is "Field.PK", not "pk".
_text = str.__str__
_projections: dict[tuple, tuple[str, ...]] = {}


def canonical_key(key: object) -> tuple:
    """The primary key as a sorted tuple of (name, value) pairs, after checking every value.

    DynamoDB key attributes are strings, numbers or binary. Equal numbers give equal keys in one
    form (1, Decimal("1.0") and Decimal("10E-1") are the int 1); a float or a bool is refused
    even where an equal int would do, and so is a number that DynamoDB cannot hold.
    """
    if type(key) is dict and len(key) == 1:
        # The common single-attribute key, checked inline: this runs on every warm call.
        (name,) = key
        value = key[name]
        kind = type(value)
        if kind is str:
            if value and type(name) is str and name:
                return ((name, value),)
        elif kind is int and abs(value) < INT_LIMIT and type(name) is str and name:
            return ((name, value),)
        elif kind is Decimal and type(name) is str and name:
            return ((name, key_number(name, value)),)
    return _general_key(key)


def _general_key(key: object) -> tuple:
    if not isinstance(key, dict):  # an OrderedDict or a defaultdict is a dict too
        raise TypeError(f"key must be a dict of attribute names to values, not {_kind(key)}")
    if not key:
        raise ValueError("key must name at least one key attribute, not be empty")

    for name, value in key.items():
        if not _plain(name, value):
            return _checked_key(key)
    return tuple(sorted(key.items()))


def _plain(name: object, value: object) -> bool:
    """Whether a key attribute is already canonical: a str name, a non-empty str or bytes,
    or an int that is no bool and has at most 38 digits."""
    kind = type(value)
    if type(name) is not str or not name:
        return False
    if kind is str or kind is bytes:
        return bool(value)
    return kind is int and abs(value) < INT_LIMIT


def check_key_size(pairs: tuple) -> None:
    """Raise ValueError if DynamoDB would refuse the canonical key for its size.

    Without the table's schema the partition key cannot be told from the sort key, so a value
    over the partition key's limit is refused, and two values both over the sort key's limit
    (one of them must be the sort key).
    """
    sizes = sorted((_byte_size(value), name) for name, value in pairs)
    size, name = sizes[-1]
    if size > _MAX_PARTITION_KEY_BYTES:
        raise ValueError(
            f"key[{name!r}] is {size} bytes; DynamoDB's limit for a key value is "
            f"{_MAX_PARTITION_KEY_BYTES} bytes ({_MAX_SORT_KEY_BYTES} for a sort key)"
        )
    if len(sizes) == 2 and sizes[0][0] > _MAX_SORT_KEY_BYTES:
        raise ValueError(
            f"key[{sizes[0][1]!r}] and key[{name!r}] are both over {_MAX_SORT_KEY_BYTES} bytes; "
            f"one of them is the sort key, and DynamoDB's limit for a sort key value is "
            f"{_MAX_SORT_KEY_BYTES} bytes"
        )


def _byte_size(value: object) -> int:
    if type(value) is str:
        return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))
    if type(value) is bytes:
        return len(value)
    return 0  # a number: 38 digits take at most 21 bytes


def projection(attributes: object) -> tuple[str, ...] | None:
    """The attribute names to fetch as a sorted tuple without repeats, or None for all."""
    if attributes is None:
        return None
    if isinstance(attributes, (str, bytes)):
        raise TypeError("attributes must be a list of attribute names, not a single string")

    try:
        given = tuple(attributes)
    except TypeError:
        raise TypeError(
            f"attributes must be a list of attribute names, not {_kind(attributes)}"
        ) from None
    try:
        return _projections[given]
    except (KeyError, TypeError):
        return _checked_projection(given)


def projection_parameters(names: tuple[str, ...]) -> dict[str, object]:
    """GetItem parameters that fetch only these top-level attributes, reserved words included."""
    placeholders = {f"#a{index}": name for index, name in enumerate(names)}
    return {
        "ProjectionExpression": ", ".join(placeholders),
        "ExpressionAttributeNames": placeholders,
    }


def _checked_key(key: dict) -> tuple:
    pairs = []
    for name, value in key.items():
        text = name if type(name) is str and name else _key_name(name)
        pairs.append((text, _key_value(text, value)))
    pairs.sort()
    return tuple(pairs)


def _key_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"key attribute names must be non-empty strings, not {name!r}")
    return _text(name)


def _key_value(name: str, value: object) -> object:
    if isinstance(value, bool):
        raise TypeError(f"key[{name!r}] is a bool; key attributes are strings, numbers or binary")
    if isinstance(value, float):
        raise TypeError(f"key[{name!r}] is a float; DynamoDB numbers must be int or Decimal")
    if isinstance(value, Decimal | int):
        return key_number(name, value)
    if isinstance(value, str):
        return _non_empty(name, _text(value))
    if is_binary(value):
        return _non_empty(name, bytes(value))
    raise TypeError(
        f"key[{name!r}] is a {_kind(value)}; key attributes are strings, numbers or binary"
    )


def _non_empty(name: str, value: str | bytes) -> str | bytes:
    if not value:
        raise ValueError(f"key[{name!r}] is empty; DynamoDB key attributes cannot be empty")
    return value


def _checked_projection(given: tuple) -> tuple[str, ...]:
    # Remembered under the names as given, so a name equal to one remembered must get the same
    # answer: any str passes, and a subclass (an enum member) counts as the plain str it holds.
    for name in given:
        if not isinstance(name, str) or not name:
            raise TypeError(f"attributes must hold non-empty strings, not {name!r}")
    if not given:
        raise ValueError("attributes must name at least one attribute; use None for all")

    names = tuple(sorted({_text(name) for name in given}))
    if len(_projections) < _MAX_PROJECTIONS:
        _projections[given] = names
    return names


def _kind(value: object) -> str:
    return type(value).__name__
