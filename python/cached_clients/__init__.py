"""Cached STS credentials, boto3 clients and DynamoDB GetItem for AWS Lambda."""

from __future__ import annotations

import logging

from cached_clients import _lifecycle
from cached_clients._api import clear, stats
from cached_clients._clients import client
from cached_clients._dynamodb import get_item
from cached_clients._sessions import role_session
from cached_clients._sts import Credentials, assume_role

__all__ = [
    "Credentials",
    "__version__",
    "assume_role",
    "clear",
    "client",
    "get_item",
    "role_session",
    "stats",
]

logging.getLogger("cached_clients").addHandler(logging.NullHandler())
_lifecycle.install()


def __getattr__(name: str) -> str:
    # The version is read from the installed distribution only when asked for: importing
    # importlib.metadata costs more than the rest of this package at every cold start.
    if name == "__version__":
        from importlib.metadata import version

        return version("cached-clients")
    raise AttributeError(f"module 'cached_clients' has no attribute {name!r}")
