"""Whether this checkout's cached_clients has the public names a benchmark needs."""

import importlib

__all__ = ["missing"]


def missing(*names: str) -> str:
    """Empty when ``cached_clients`` exports every name; otherwise why our row is left out."""
    try:
        module = importlib.import_module("cached_clients")
    except ImportError as error:
        return f"cached_clients does not import ({error})"
    absent = [name for name in names if not hasattr(module, name)]
    if absent:
        return "this checkout's cached_clients has no " + ", ".join(absent)
    return ""
