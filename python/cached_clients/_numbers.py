"""DynamoDB numbers at their edges: one canonical form per key number, and every stored number
read back, even one that DynamoDB writes out in more digits than boto3 accepts."""

from __future__ import annotations

import decimal
from decimal import Decimal

__all__ = ["INT_LIMIT", "key_number", "read_number", "write_number"]

INT_LIMIT = 10**38
"""Every int strictly between -INT_LIMIT and INT_LIMIT is already a canonical key number."""

# DynamoDB developer guide, "Supported data types and naming rules" (Number):
# numbers have at most 38 significant digits; positive ones run from 1E-130 to 9.99...E+125.
_DIGITS = 38
_MIN_ADJUSTED, _MAX_ADJUSTED = -130, 125

# Normalizing in this context strips trailing zeros; it raises when a significant digit
# would be lost.
_EXACT = decimal.Context(prec=_DIGITS, Emax=999_999, Emin=-999_999, traps=[decimal.Inexact])

# boto3's DYNAMODB_CONTEXT (boto3.dynamodb.types), which its serializer and deserializer use.
_DYNAMODB = decimal.Context(
    Emin=-128,
    Emax=126,
    prec=_DIGITS,
    traps=[decimal.Clamped, decimal.Overflow, decimal.Inexact, decimal.Rounded, decimal.Underflow],
)

# Equal numbers have one canonical form and one verdict, so a number's form is remembered under
# any number equal to it: a warm call with a Decimal key then costs one dict lookup.
_MAX_KNOWN = 4096
_known: dict[int | Decimal, int | Decimal] = {}


def key_number(name: str, value: int | Decimal) -> int | Decimal:
    """The canonical form of a key number: an int if it is whole and fits in 38 digits, else
    the Decimal with trailing zeros stripped; raises ValueError if DynamoDB cannot hold it."""
    try:
        return _known[value]
    except (KeyError, TypeError):  # TypeError: a signaling NaN cannot be hashed
        pass

    canonical = _canonical(name, value)
    if len(_known) < _MAX_KNOWN:
        _known[value] = canonical
    return canonical


def _canonical(name: str, value: int | Decimal) -> int | Decimal:
    if type(value) is not Decimal:
        value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"key[{name!r}] is {value}; DynamoDB numbers must be finite")
    # Checked first: normalizing 1E+999999999 overflows the context, which would read as
    # too many digits. Stripping trailing zeros leaves adjusted() as it is.
    if value and not _MIN_ADJUSTED <= value.adjusted() <= _MAX_ADJUSTED:
        raise ValueError(
            f"key[{name!r}] is {_shown(value)}; DynamoDB numbers run from 1E-130 to 9.9E+125 "
            "in size"
        )

    try:
        normalized = value.normalize(_EXACT)
    except decimal.Inexact:
        raise ValueError(
            f"key[{name!r}] has more than {_DIGITS} significant digits; DynamoDB keeps "
            f"{_DIGITS} at most"
        ) from None

    if normalized.as_tuple().exponent >= 0 and normalized.adjusted() < _DIGITS:
        return int(normalized)  # what boto3 and DynamoDB write for a whole number
    return normalized


def _shown(value: Decimal) -> str:
    """The number as an error message can show it: in full, or in short when it is long."""
    text = str(value)
    return text if len(text) <= 40 else f"{value:.6E}"


def read_number(text: str) -> Decimal:
    """A number as DynamoDB writes it, as boto3's TypeDeserializer reads it; and one that is
    exact but written out in more than 38 digits, in full."""
    try:
        return _DYNAMODB.create_decimal(text)
    except decimal.Rounded:
        # DynamoDB answers 1E+100 as "1" and 100 zeros; boto3's 38-digit context refuses that
        # although only zeros are rounded away.
        return Decimal(text).normalize(_EXACT)


def write_number(value: int | Decimal) -> str:
    """A canonical key number as boto3's TypeSerializer writes it (its context's signals
    raise as they do there)."""
    return str(_DYNAMODB.create_decimal(value))
