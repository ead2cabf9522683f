"""Sessions and clients, made once per identity under one lock and then reused.

Sessions are botocore's, announcing themselves as boto3's do. A client of a service that boto3
adds nothing to (DynamoDB, STS) is made by botocore alone, which spares the get_item and
assume_role paths importing boto3 (some 25 ms of a cold start); every other client is made
through a boto3.Session around the same botocore session.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
from collections.abc import Callable, Hashable

from cached_clients._loader import shared_loader

__all__ = [
    "after_fork",
    "botocore_session",
    "client_for",
    "default_identity",
    "default_session",
    "forget",
    "region",
]

# boto3 1.44's Session registers handlers for S3 clients and for resources, none for the clients
# of these services, so botocore alone makes clients of them that act as boto3's would.
_BARE_SERVICES = frozenset({"dynamodb", "sts"})

logger = logging.getLogger("cached_clients")

# The first element of the identity of the default credential chain.
_DEFAULT = "default"

# Each identity's clients hold a botocore session of their own, some 340 KiB with its client:
# a handler that assumes a role per tenant would otherwise grow until Lambda stops it.
_MAX_CLIENTS = 32


class _State:
    """What this module has made so far, and the lock to make it under; forget() starts afresh.

    boto3 does not make sessions or clients thread-safely, so every one is made under the lock.
    Re-entrant: making a role session's client may first make the default session.
    """

    __slots__ = ("boto3_sessions", "clients", "identity", "lock", "session", "sessions")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget everything made so far."""
        self.session: object | None = None
        self.identity: tuple | None = None
        self.sessions: dict[Hashable, object] = {}
        self.boto3_sessions: dict[Hashable, object] = {}
        self.clients: dict[tuple, object] = {}


_made = _State()


def default_session() -> object:
    """This process's botocore session on the default credential chain."""
    session = _made.session
    if session is None:
        with _made.lock:
            if _made.session is None:
                _made.session = botocore_session()
            session = _made.session
    return session


def botocore_session(region_name: str | None = None) -> object:
    """A new botocore session on the process's one loader, set up as boto3.Session sets up
    the botocore session it makes (its user agent, and the region if one is given)."""
    import botocore.session

    session = botocore.session.get_session()
    # Parsing a service's model costs tens of milliseconds per session; the files never change
    # while the process runs, so every session on the same data path shares one loader.
    data_path = session.get_config_variable("data_path")
    session.register_component("data_loader", shared_loader(data_path))

    # What boto3.Session.__init__ does to a botocore session's user agent; a boto3.Session
    # made around this one later sees it done and leaves it.
    if session.user_agent_name == "Botocore":
        botocore_info = f"Botocore/{session.user_agent_version}"
        extra = session.user_agent_extra
        session.user_agent_extra = f"{extra} {botocore_info}" if extra else botocore_info
        session.user_agent_name = "Boto3"
        session.user_agent_version = _boto3_version()
    if region_name is not None:
        session.set_config_variable("region", region_name)
    return session


@functools.cache
def _boto3_version() -> str:
    """The version of the boto3 that ``import boto3`` loads, read from its metadata if that
    can be done without importing it."""
    boto3 = sys.modules.get("boto3")
    if boto3 is None:
        version = _installed_boto3_version()
        if version is not None:
            return version
        import boto3
    return boto3.__version__


def _installed_boto3_version() -> str | None:
    # Only where importlib.metadata is loaded already (urllib3 2 loads it): importing it costs
    # more than importing boto3.
    metadata = sys.modules.get("importlib.metadata")
    if metadata is None:
        return None
    from importlib.util import find_spec

    spec = find_spec("boto3")
    if spec is None or spec.origin is None:
        return None
    # The metadata installed beside the package that would be imported, not another boto3's.
    beside = os.path.dirname(os.path.dirname(spec.origin))
    versions = {found.version for found in metadata.distributions(name="boto3", path=[beside])}
    return versions.pop() if len(versions) == 1 else None


def default_identity() -> tuple:
    """Who the default credentials are: the access key they hold when first asked."""
    identity = _made.identity
    if identity is None:
        with _made.lock:
            if _made.identity is None:
                credentials = default_session().get_credentials()
                access_key = None if credentials is None else credentials.access_key
                _made.identity = (_DEFAULT, access_key)
            identity = _made.identity
    return identity


def region(name: object) -> str | None:
    """The region asked for, else AWS_REGION, else what boto3 resolves (AWS_DEFAULT_REGION)."""
    if name is not None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"region must be None or a non-empty str, not {name!r}")
        return name
    return os.environ.get("AWS_REGION") or default_session().get_config_variable("region")


def client_for(
    identity: tuple,
    session_factory: Callable[[], object],
    service_name: str,
    region_name: str | None,
    endpoint_url: str | None,
) -> object:
    """The one client of this service, region, endpoint and identity, made on first use."""
    key = (service_name, region_name, endpoint_url, identity)
    found = _made.clients.get(key)
    if found is not None:
        return found

    with _made.lock:
        found = _made.clients.get(key)
        if found is None:
            session = _made.sessions.get(identity)
            if session is None:
                session = _made.sessions[identity] = session_factory()
            logger.debug("making a %s client for %s", service_name, region_name)
            found = _maker(identity, session, service_name)(
                service_name, region_name=region_name, endpoint_url=endpoint_url
            )
            _made.clients[key] = found
            if len(_made.clients) > _MAX_CLIENTS:
                _drop_oldest()
        return found


def _drop_oldest() -> None:
    """Forget the client made longest ago, and its identity's sessions once no client of that
    identity is left (under the lock); whoever still holds the client may go on using it."""
    key = next(iter(_made.clients))
    del _made.clients[key]
    identity = key[3]
    if all(other[3] != identity for other in _made.clients):
        _made.sessions.pop(identity, None)
        _made.boto3_sessions.pop(identity, None)
    logger.debug("forgot the %s client made longest ago, to keep %d", key[0], _MAX_CLIENTS)


def _maker(identity: tuple, session: object, service_name: str) -> Callable[..., object]:
    """The create_client of the identity's botocore session, or for a service that boto3
    customizes, the client method of a boto3.Session around it (made once; under the lock)."""
    if service_name in _BARE_SERVICES:
        return session.create_client

    wrapper = _made.boto3_sessions.get(identity)
    if wrapper is None:
        import boto3

        wrapper = _made.boto3_sessions[identity] = boto3.Session(botocore_session=session)
    return wrapper.client


def forget() -> None:
    """Drop every session and client, so that the next use makes new ones."""
    with _made.lock:
        _made.reset()


def after_fork() -> None:
    """In a forked child: a new lock, and none of the parent's sessions or clients.

    Another thread may have held the old lock at the fork, and the clients' pooled
    connections are sockets that the parent goes on using.
    """
    _made.lock = threading.RLock()
    _made.reset()
