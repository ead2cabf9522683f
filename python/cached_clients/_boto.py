"""boto3 sessions and clients, made once per identity under one lock and then reused."""

from __future__ import annotations

import logging
import os
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

logger = logging.getLogger("cached_clients")

# The first element of the identity of the default credential chain.
_DEFAULT = "default"


class _State:
    """What this module has made so far, and the lock to make it under; forget() starts afresh.

    boto3 does not make sessions or clients thread-safely, so every one is made under the lock.
    Re-entrant: making a role session's client may first make the default session.
    """

    __slots__ = ("clients", "identity", "lock", "session", "sessions")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget everything made so far."""
        self.session: object | None = None
        self.identity: tuple | None = None
        self.sessions: dict[Hashable, object] = {}
        self.clients: dict[tuple, object] = {}


_made = _State()


def default_session() -> object:
    """This process's boto3.Session on the default credential chain."""
    session = _made.session
    if session is None:
        with _made.lock:
            if _made.session is None:
                import boto3

                _made.session = boto3.Session(botocore_session=botocore_session())
            session = _made.session
    return session


def botocore_session() -> object:
    """A new botocore session that reads service models through the process's one loader."""
    import botocore.session

    session = botocore.session.get_session()
    # Parsing a service's model costs tens of milliseconds per session; the files never change
    # while the process runs, so every session on the same data path shares one loader.
    data_path = session.get_config_variable("data_path")
    session.register_component("data_loader", shared_loader(data_path))
    return session


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
    return os.environ.get("AWS_REGION") or default_session().region_name


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
            found = _made.clients[key] = session.client(
                service_name, region_name=region_name, endpoint_url=endpoint_url
            )
        return found


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
