"""What Lambda does to a process: restore it from a snapshot (SnapStart), or fork it."""

from __future__ import annotations

import logging
import os

from cached_clients import _api, _boto, _cache, _clients, _config, _jitter

__all__ = ["after_fork_in_child", "after_restore", "install"]

logger = logging.getLogger("cached_clients")

_NEVER_RESTORED = frozenset({"on-demand", "provisioned-concurrency"})


def install() -> None:
    """Register the fork handler, and the after-restore hook where SnapStart can run it."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=after_fork_in_child)

    # On-demand and provisioned environments are never restored from a snapshot; importing the
    # module there (it imports typing) would cost about 4 ms of every cold start for nothing.
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") in _NEVER_RESTORED:
        return
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return
    register_after_restore(after_restore)


def after_restore() -> None:
    """Forget everything the snapshot holds: cached credentials and items, clients (their
    sockets were snapshotted), settings; and reseed the random source. Calls no network."""
    _api.clear()
    _jitter.reseed()
    logger.debug("restored from a snapshot: caches emptied, clients dropped, random reseeded")


def after_fork_in_child() -> None:
    """In a forked child, drop every client and session (the parent goes on using their
    connections) and every lock or flight another thread held; the cached values stay."""
    _config.after_fork()
    _boto.after_fork()
    for cache in _cache.caches():
        cache.after_fork()
    _clients.forget()
