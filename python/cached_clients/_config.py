"""Configuration from the environment, read once per process at first use."""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Mapping

__all__ = ["Config", "after_fork", "current", "forget"]

MIB = 1024 * 1024
DEFAULT_TTL = 300.0
DEFAULT_MARGIN = 300.0
DEFAULT_MAX_BYTES = 32 * MIB
DEFAULT_SESSION_NAME = "cached-clients"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
_NOT_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]", re.ASCII)


class Config:
    """One snapshot of every setting the library reads from the environment."""

    __slots__ = (
        "disabled",
        "function_name",
        "max_bytes",
        "stale_if_error",
        "sts_refresh_margin",
        "ttl",
    )

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.ttl = _seconds(environ, "CACHED_CLIENTS_TTL", DEFAULT_TTL)
        self.max_bytes = _max_bytes(environ)
        self.sts_refresh_margin = _seconds(
            environ, "CACHED_CLIENTS_STS_REFRESH_MARGIN", DEFAULT_MARGIN
        )
        self.stale_if_error = _seconds(environ, "CACHED_CLIENTS_STALE_IF_ERROR", 0.0)
        self.disabled = _flag(environ, "CACHED_CLIENTS_DISABLE")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME", "")

    def default_session_name(self) -> str:
        """The function's name made into a valid STS session name, else a fixed default."""
        name = _NOT_SESSION_NAME_CHARS.sub("-", self.function_name)[:64]
        return name if len(name) >= 2 else DEFAULT_SESSION_NAME


class _Slot:
    __slots__ = ("config", "lock")

    def __init__(self) -> None:
        self.config: Config | None = None
        self.lock = threading.Lock()


_read = _Slot()


def current() -> Config:
    """The settings of this process, read from the environment on the first call."""
    config = _read.config
    if config is None:
        config = _load()
    return config


def forget() -> None:
    """Drop the settings read so far, so that the next call to current() reads them anew."""
    with _read.lock:
        _read.config = None


def after_fork() -> None:
    """In a forked child: a new lock, since another thread may have held the old one."""
    _read.lock = threading.Lock()


def _load() -> Config:
    with _read.lock:
        if _read.config is None:
            _read.config = Config(os.environ)
        return _read.config


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}={text!r}: must be a non-negative number of seconds")
    return value


def _max_bytes(environ: Mapping[str, str]) -> int:
    text = environ.get("CACHED_CLIENTS_MAX_BYTES", "").strip()
    if text:
        return _whole_number(text, "CACHED_CLIENTS_MAX_BYTES", "a non-negative number of bytes")

    memory = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "").strip()
    if memory:
        mib = _whole_number(memory, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "a number of MiB")
        return mib * MIB // 8
    return DEFAULT_MAX_BYTES


def _whole_number(text: str, name: str, meaning: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{name}={text!r}: must be a whole number, {meaning}")
    return int(text)


def _flag(environ: Mapping[str, str], name: str) -> bool:
    text = environ.get(name, "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{name}={text!r}: must be one of 1, true, yes, on, 0, false, no, off")
