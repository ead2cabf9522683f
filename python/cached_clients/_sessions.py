"""boto3 sessions whose credentials refresh themselves from the assume_role cache."""

from __future__ import annotations

import functools

from cached_clients import _boto, _sts
from cached_clients._cache import check_ttl

__all__ = ["botocore_session_for", "role_session", "session_for"]

METHOD = "cached-clients-assume-role"
TYPE_CHECKING = False
if TYPE_CHECKING:
    import boto3


def role_session(
    role_arn: str,
    *,
    session_name: str | None = None,
    external_id: str | None = None,
    duration_seconds: int = 3600,
    policy: str | None = None,
    region: str | None = None,
    ttl: float | None = None,
) -> boto3.Session:
    """A new boto3.Session acting as the role; its credentials come from assume_role's cache.

    botocore refreshes them by itself once less than the refresh margin is left, so a session
    kept for hours keeps working; a refresh that fails is handled as assume_role handles it.
    Making it calls nothing; its first request assumes the role.
    """
    check_ttl(ttl)
    scope = _sts.role_scope(
        role_arn,
        session_name=session_name,
        external_id=external_id,
        duration_seconds=duration_seconds,
        policy=policy,
        region=region,
    )
    return session_for(scope, ttl)


def session_for(scope: _sts.RoleScope, ttl: float | None = None) -> boto3.Session:
    """A boto3.Session whose refreshable credentials are fed from the scope's cached entry."""
    import boto3

    return boto3.Session(botocore_session=botocore_session_for(scope, ttl))


def botocore_session_for(scope: _sts.RoleScope, ttl: float | None = None) -> object:
    """A botocore session, set up as session_for's is, whose refreshable credentials are fed
    from the scope's cached entry."""
    import botocore.credentials

    credentials = _credentials_class()(scope, ttl)
    provider = _provider_class()(credentials)
    session = _boto.botocore_session(scope.region)
    session.register_component(
        "credential_provider", botocore.credentials.CredentialResolver([provider])
    )
    return session


@functools.cache
def _credentials_class() -> type:
    from botocore.credentials import DeferredRefreshableCredentials

    class RoleCredentials(DeferredRefreshableCredentials):
        """botocore's refreshable credentials, refreshed from the assume_role cache."""

        def __init__(self, scope: _sts.RoleScope, ttl: float | None) -> None:
            super().__init__(refresh_using=self._metadata, method=METHOD)
            self._scope = scope
            self._ttl = ttl

        def _metadata(self) -> dict[str, str]:
            fetched = _sts.fetch(self._scope, self._ttl)
            # botocore refreshes below its advisory window (15 min by default) and insists below
            # the mandatory one (10 min): with 900-second credentials it would refresh on every
            # request and warn. Our margin is where the cache hands out new ones, and both
            # windows end there: a refresh that fails below the margin is raised, as
            # assume_role raises it, where botocore's advisory window would sign on with the
            # old credentials and ask STS again before every request.
            self._advisory_refresh_timeout = fetched.margin
            self._mandatory_refresh_timeout = fetched.margin
            credentials = fetched.credentials
            return {
                "access_key": credentials.access_key_id,
                "secret_key": credentials.secret_access_key,
                "token": credentials.session_token,
                "expiry_time": credentials.expiration.isoformat(),
            }

    return RoleCredentials


@functools.cache
def _provider_class() -> type:
    from botocore.credentials import CredentialProvider

    class RoleProvider(CredentialProvider):
        """A credential provider that always answers with one RoleCredentials object."""

        METHOD = METHOD

        def __init__(self, credentials: object) -> None:
            super().__init__()
            self._credentials = credentials

        def load(self) -> object:
            """The role's refreshable credentials."""
            return self._credentials

    return RoleProvider
