"""Cached boto3 clients: one per service, region, endpoint and credentials identity."""

from __future__ import annotations

import functools
from collections.abc import Callable

from cached_clients import _boto, _roles, _sessions, _sts

__all__ = ["Resolved", "client", "forget", "resolve"]

_MAX_RESOLVED = 1024
_resolved: dict[tuple, Resolved] = {}


class Resolved:
    """Checked client arguments: the region they resolved to, and the way to their client.

    It holds no client: the clients kept are the ones _boto keeps, within its bound.
    """

    __slots__ = ("_make", "region")

    def __init__(self, make: Callable[[], object], region: str | None) -> None:
        self._make = make
        self.region = region

    @property
    def client(self) -> object:
        """The cached client, made again if it was dropped (by clear(), a fork or the bound)."""
        return self._make()


def client(
    service_name: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
    **assume_kwargs: object,
) -> object:
    """A cached boto3 client on the default credentials, or on the role when role_arn is given.

    ``assume_kwargs`` (session_name, external_id, duration_seconds, policy) go to AssumeRole.
    Region and endpoint default to boto3's own resolution.
    """
    return resolve(service_name, region, endpoint_url, role_arn, assume_kwargs).client


def resolve(
    service_name: object,
    region: object,
    endpoint_url: object,
    role_arn: object,
    assume_kwargs: dict[str, object],
) -> Resolved:
    """The cached client for these arguments, checked and made on their first use."""
    raw = (service_name, region, endpoint_url, role_arn, *assume_kwargs.items())
    if assume_kwargs:
        raw += (type(assume_kwargs.get("duration_seconds")),)  # see _sts.role_scope
    try:
        found = _resolved.get(raw)
    except TypeError:
        found = None
    if found is None:
        found = _make(
            raw, service_name, region, endpoint_url, role_arn, assume_kwargs=assume_kwargs
        )
    return found


def forget() -> None:
    """Forget every client, so that the next call makes new ones."""
    _resolved.clear()
    _boto.forget()


def _make(
    raw: tuple,
    service_name: object,
    region: object,
    endpoint_url: object,
    role_arn: object,
    *,
    assume_kwargs: dict[str, object],
) -> Resolved:
    _check_service(service_name)
    _check_endpoint(endpoint_url)
    _check_assume_kwargs(role_arn, assume_kwargs)
    region = _boto.region(region)

    if role_arn is None:
        identity, factory = _boto.default_identity(), _boto.default_session
    else:
        scope = _sts.role_scope(role_arn, region=region, **assume_kwargs)
        identity = ("role", scope.key)

        def factory() -> object:
            return _sessions.botocore_session_for(scope)

    make = functools.partial(
        _boto.client_for, identity, factory, service_name, region, endpoint_url
    )
    make()  # made now, so that a service or region that botocore refuses raises here
    found = Resolved(make, region)
    if len(_resolved) < _MAX_RESOLVED:
        _resolved[raw] = found
    return found


def _check_service(service_name: object) -> None:
    if not isinstance(service_name, str) or not service_name:
        raise TypeError(f"service_name must be a non-empty str, not {service_name!r}")


def _check_endpoint(endpoint_url: object) -> None:
    if endpoint_url is None:
        return
    if not isinstance(endpoint_url, str) or not endpoint_url.startswith(("http://", "https://")):
        raise ValueError(f"endpoint_url must be None or an http(s):// URL, not {endpoint_url!r}")


def _check_assume_kwargs(role_arn: object, assume_kwargs: dict[str, object]) -> None:
    unknown = sorted(set(assume_kwargs) - _roles.ASSUME_ARGUMENTS)
    if unknown:
        raise TypeError(
            f"unexpected keyword argument {unknown[0]!r}; AssumeRole takes "
            + ", ".join(sorted(_roles.ASSUME_ARGUMENTS))
        )
    if assume_kwargs and role_arn is None:
        raise TypeError(f"{', '.join(sorted(assume_kwargs))} need role_arn")
