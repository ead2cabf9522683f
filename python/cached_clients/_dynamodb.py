"""Cached DynamoDB GetItem, with values as boto3's Table resource gives them."""

from __future__ import annotations

import functools
import math
import re

from cached_clients import _clients, _config, _keys
from cached_clients._cache import MISS, Cache, check_ttl, register
from cached_clients._errors import transient
from cached_clients._items import StoredItem, deep_size
from cached_clients._keys import canonical_key, projection
from cached_clients._wire import key_attribute, read_item

__all__ = ["forget", "get_item"]

_TABLE = re.compile(
    r"[\w.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[\w.-]{3,255}", re.ASCII
)
_MAX_SCOPES = 1024


class _Scope:
    """A checked table name with the arguments that choose its client."""

    __slots__ = ("assume_kwargs", "region", "role_arn", "table_name")

    def __init__(
        self,
        table_name: str,
        resolved: _clients.Resolved,
        role_arn: object,
        assume_kwargs: dict[str, object],
    ) -> None:
        self.table_name = table_name
        self.region = resolved.region
        self.role_arn = role_arn
        self.assume_kwargs = assume_kwargs

    def client(self) -> object:
        """The cached DynamoDB client of this scope (made again after a fork or clear())."""
        return _clients.resolve(
            "dynamodb", self.region, None, self.role_arn, self.assume_kwargs
        ).client


def _size(key: tuple, stored: StoredItem) -> int:
    return deep_size(key) + stored.size


def _stale_until(error: BaseException, stored: StoredItem, at: float, expired: float) -> float:
    """Until when an expired item may stand in for a failed read: CACHED_CLIENTS_STALE_IF_ERROR
    seconds past its expiry, and only if the failure was transient."""
    window = _config.current().stale_if_error
    if window <= 0 or not transient(error):
        return -math.inf
    return expired + window


_ITEMS = register(
    Cache(
        "dynamodb",
        max_bytes=lambda config: config.max_bytes,
        sizeof=_size,
        stale_until=_stale_until,
    )
)
_lookup = _ITEMS.lookup
_scopes: dict[tuple, _Scope] = {}


def get_item(
    table_name: str,
    key: dict,
    *,
    attributes: list[str] | None = None,
    consistent_read: bool = False,
    ttl: float | None = None,
    region: str | None = None,
    role_arn: str | None = None,
    **assume_kwargs: object,
) -> dict | None:
    """The item with this primary key, or None when there is none; cached per key and scope.

    The caller owns the returned dict. ``consistent_read=True`` always reads upstream and
    refreshes the entry. ``assume_kwargs`` go to AssumeRole along with ``role_arn``. With
    CACHED_CLIENTS_STALE_IF_ERROR set, an expired item stands in for a read that fails with
    throttling, a timeout, a connection error or a 5xx for up to that many seconds past its
    expiry (with a WARNING); a consistent read never gets a stale item.
    """
    if ttl is not None:
        check_ttl(ttl)
    # The arguments as given, not as resolved: equal arguments always resolve to the same
    # region, endpoint and identity in one process, and a hit then needs one lookup only.
    # table_name, region and role_arn are checked as a str (or None), which any equal value
    # passes or fails alike; duration_seconds is checked by type (see _sts.role_scope).
    cache_key = (
        table_name,
        region,
        role_arn,
        canonical_key(key),
        None if attributes is None else projection(attributes),
    )
    if assume_kwargs:
        cache_key += (
            tuple(sorted(assume_kwargs.items())),
            type(assume_kwargs.get("duration_seconds")),
        )

    if consistent_read is False:
        try:
            stored = _lookup(cache_key, ttl)
        except TypeError:  # an unhashable argument, refused just below
            stored = MISS
        if stored is not MISS:
            return stored.copy()
    elif consistent_read is not True:
        raise TypeError(f"consistent_read must be a bool, not {type(consistent_read).__name__}")
    return _read(cache_key, assume_kwargs, ttl, consistent_read)


def forget() -> None:
    """Forget every resolved table scope (the items themselves live in the cache core)."""
    _scopes.clear()


def _read(
    cache_key: tuple, assume_kwargs: dict[str, object], ttl: float | None, consistent_read: bool
) -> dict | None:
    """The item read upstream (once per key at a time) and stored, after the checks that a
    hit never needs: a key too long for DynamoDB, or a bad table or role, is never stored."""
    table_name, region, role_arn, pairs, names = cache_key[:5]
    _keys.check_key_size(pairs)
    scope = _scope(table_name, region, role_arn, assume_kwargs)

    fetch = functools.partial(_fetch, scope, pairs, names, consistent_read)
    return _ITEMS.load(cache_key, fetch, ttl, refresh=consistent_read).copy()


def _scope(
    table_name: object, region: object, role_arn: object, assume_kwargs: dict[str, object]
) -> _Scope:
    """The checked scope of these arguments, resolved on their first use."""
    raw = (table_name, region, role_arn, *assume_kwargs.items())
    if assume_kwargs:
        raw += (type(assume_kwargs.get("duration_seconds")),)  # see _sts.role_scope
    try:
        found = _scopes.get(raw)
    except TypeError:
        found = None
    if found is None:
        found = _new_scope(raw, table_name, region, role_arn, assume_kwargs)
    return found


def _new_scope(
    raw: tuple,
    table_name: object,
    region: object,
    role_arn: object,
    assume_kwargs: dict[str, object],
) -> _Scope:
    if not isinstance(table_name, str) or not _TABLE.fullmatch(table_name):
        raise ValueError(
            f"table_name {table_name!r} must be 3-255 characters of [A-Za-z0-9_.-] or a table ARN"
        )

    resolved = _clients.resolve("dynamodb", region, None, role_arn, assume_kwargs)
    found = _Scope(table_name, resolved, role_arn, dict(assume_kwargs))
    if len(_scopes) < _MAX_SCOPES:
        _scopes[raw] = found
    return found


def _fetch(
    scope: _Scope, pairs: tuple, names: tuple[str, ...] | None, consistent_read: bool
) -> StoredItem:
    request = {
        "TableName": scope.table_name,
        "Key": {name: key_attribute(value) for name, value in pairs},
    }
    if names is not None:
        request.update(_keys.projection_parameters(names))
    if consistent_read:
        request["ConsistentRead"] = True

    item = scope.client().get_item(**request).get("Item")
    return StoredItem(None if item is None else read_item(item))
