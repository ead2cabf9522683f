"""Cached STS AssumeRole: Credentials, kept until their TTL or their refresh margin."""

from __future__ import annotations

import datetime
import logging
import math
import sys
from collections.abc import Hashable

from cached_clients import _boto, _config, _roles
from cached_clients._cache import MISS, Cache, check_ttl, register
from cached_clients._errors import transient

__all__ = ["Credentials", "Fetched", "RoleScope", "assume_role", "fetch", "forget", "role_scope"]

logger = logging.getLogger("cached_clients")

_MAX_BYTES = 1024 * 1024
_MAX_SCOPES = 1024


class Credentials:
    """Temporary credentials from STS; frozen, and its repr shows neither secret nor token.

    Of the access key id, the repr shows only the first and last four characters.
    """

    __slots__ = ("access_key_id", "expiration", "secret_access_key", "session_token")

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime.datetime

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str,
        expiration: datetime.datetime,
    ) -> None:
        for name, value in (
            ("access_key_id", access_key_id),
            ("secret_access_key", secret_access_key),
            ("session_token", session_token),
        ):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, not {type(value).__name__}")
        if not isinstance(expiration, datetime.datetime):
            raise TypeError(
                f"expiration must be an aware datetime, not {type(expiration).__name__}"
            )
        if expiration.tzinfo is None:
            raise ValueError("expiration must be an aware datetime")
        assign = object.__setattr__
        assign(self, "access_key_id", access_key_id)
        assign(self, "secret_access_key", secret_access_key)
        assign(self, "session_token", session_token)
        assign(self, "expiration", expiration.astimezone(datetime.UTC))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Credentials are frozen; cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Credentials are frozen; cannot delete {name}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not Credentials:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        shown = f"{self.access_key_id[:4]}...{self.access_key_id[-4:]}"
        return (
            f"Credentials(access_key_id={shown!r}, secret_access_key='***', "
            f"session_token='***', expiration={self.expiration.isoformat()!r})"
        )

    def __reduce__(self) -> tuple:
        return (Credentials, self._fields())

    def _fields(self) -> tuple:
        return (self.access_key_id, self.secret_access_key, self.session_token, self.expiration)


class Fetched:
    """Credentials with the refresh margin that applies to them and how long they may be used."""

    __slots__ = ("credentials", "margin", "usable")

    def __init__(self, credentials: Credentials, margin: float, usable: float) -> None:
        self.credentials = credentials
        self.margin = margin
        self.usable = usable


class RoleScope:
    """One validated set of AssumeRole parameters, the region of STS, and their cache key."""

    __slots__ = ("key", "params", "region")

    def __init__(self, params: _roles.RoleParams, region: str | None, key: Hashable) -> None:
        self.params = params
        self.region = region
        self.key = key


def _size(key: Hashable, fetched: Fetched) -> int:
    credentials = fetched.credentials
    return sum(
        sys.getsizeof(part)
        for part in (key, *key, fetched, credentials, *credentials._fields(), fetched.margin)
    )


def _stale_until(error: BaseException, fetched: Fetched, at: float, expired: float) -> float:
    """Until when credentials may stand in for a refresh that failed: while more than the
    refresh margin of their validity is left, and only if the failure was transient."""
    if not transient(error):
        return -math.inf

    # Both clocks must agree: the cache's (fetched at + usable) and the wall clock that the
    # expiration is written in.
    left = (fetched.credentials.expiration - datetime.datetime.now(datetime.UTC)).total_seconds()
    if left <= fetched.margin:
        return -math.inf
    return at + fetched.usable


_CACHE = register(
    Cache(
        "sts",
        max_bytes=lambda config: _MAX_BYTES,
        sizeof=_size,
        cap=lambda fetched: fetched.usable,
        stale_until=_stale_until,
    )
)
_scopes: dict[tuple, RoleScope] = {}


def assume_role(
    role_arn: str,
    *,
    session_name: str | None = None,
    external_id: str | None = None,
    duration_seconds: int = 3600,
    policy: str | None = None,
    region: str | None = None,
    ttl: float | None = None,
) -> Credentials:
    """Credentials for the role from STS AssumeRole, cached until the TTL or the refresh margin.

    Never returns credentials with less than the refresh margin of validity left. When a
    refresh fails with throttling, a timeout, a connection error or a 5xx while more than the
    margin is left, the cached credentials are returned (with a WARNING) and STS is tried
    again after a jittered backoff of about 1 s, doubling to 30 s.
    """
    check_ttl(ttl)
    scope = role_scope(
        role_arn,
        session_name=session_name,
        external_id=external_id,
        duration_seconds=duration_seconds,
        policy=policy,
        region=region,
    )
    return fetch(scope, ttl).credentials


def role_scope(
    role_arn: object,
    *,
    session_name: object = None,
    external_id: object = None,
    duration_seconds: object = 3600,
    policy: object = None,
    region: object = None,
) -> RoleScope:
    """The validated scope of these AssumeRole arguments, resolved once and then reused."""
    # Memo keys of AssumeRole arguments hold the type of duration_seconds: 900.0 and
    # Decimal(900) equal 900 and hash alike, but only the int passes its check, so keyed by
    # value alone they would find what 900 left. The other arguments are checked as a str
    # (or None), which any equal value passes or fails alike.
    raw = (
        role_arn,
        session_name,
        external_id,
        duration_seconds,
        policy,
        region,
        type(duration_seconds),
    )
    try:
        found = _scopes.get(raw)
    except TypeError:
        found = None
    if found is None:
        found = _resolve(raw)
    return found


def fetch(scope: RoleScope, ttl: float | None = None) -> Fetched:
    """The cached credentials of the scope, assuming the role again when they are due."""
    found = _CACHE.lookup(scope.key, ttl)
    if found is MISS:
        found = _CACHE.load(scope.key, lambda: _assume(scope), ttl)
    return found


def forget() -> None:
    """Forget every resolved scope (the cached credentials live in the cache core)."""
    _scopes.clear()


def _resolve(raw: tuple) -> RoleScope:
    role_arn, session_name, external_id, duration_seconds, policy, region, _ = raw
    params = _roles.role_params(
        role_arn,
        session_name=session_name,
        external_id=external_id,
        duration_seconds=duration_seconds,
        policy=policy,
    )
    region = _boto.region(region)
    endpoint = _sts_client(region).meta.endpoint_url
    scope = RoleScope(params, region, (region, endpoint, _boto.default_identity(), *params))
    if len(_scopes) < _MAX_SCOPES:
        _scopes[raw] = scope
    return scope


def _sts_client(region: str | None) -> object:
    return _boto.client_for(_boto.default_identity(), _boto.default_session, "sts", region, None)


def _assume(scope: RoleScope) -> Fetched:
    params = scope.params
    request = {
        "RoleArn": params.role_arn,
        "RoleSessionName": params.session_name,
        "DurationSeconds": params.duration_seconds,
    }
    if params.external_id is not None:
        request["ExternalId"] = params.external_id
    if params.policy is not None:
        request["Policy"] = params.policy

    answer = _sts_client(scope.region).assume_role(**request)["Credentials"]
    credentials = Credentials(
        answer["AccessKeyId"],
        answer["SecretAccessKey"],
        answer["SessionToken"],
        answer["Expiration"],
    )
    return _with_margin(credentials, params.role_arn)


def _with_margin(credentials: Credentials, role_arn: str) -> Fetched:
    now = datetime.datetime.now(datetime.UTC)
    lifetime = (credentials.expiration - now).total_seconds()
    if lifetime <= 0:
        raise RuntimeError(
            f"STS returned credentials for {role_arn} that expired at "
            f"{credentials.expiration.isoformat()}; check this machine's clock"
        )

    # The margin never exceeds half the credentials' lifetime, so short-lived ones still cache.
    margin = min(_config.current().sts_refresh_margin, lifetime / 2)
    logger.debug(
        "assumed %s; credentials expire at %s, refreshed %.0f s before",
        role_arn,
        credentials.expiration.isoformat(),
        margin,
    )
    return Fetched(credentials, margin, lifetime - margin)
