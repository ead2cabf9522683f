"""A layer version's Description: what publish writes there, and reads back from the latest."""

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_LENGTH", "Described", "describe", "parse", "runtime_of"]

MAX_LENGTH = 256  # Lambda's limit on a layer version's Description

_PATTERN = re.compile(
    r"(?P<name>\S+) (?P<version>\S+) with cachetools (?P<cachetools>\S+)"
    r" \(sha256 [0-9a-f]+, bytecode (?P<tags>none|\d+(,\d+)*)\)"
)


@dataclass(frozen=True)
class Described:
    """What a Description says: the release, its cachetools, the bytecode tags it carries."""

    name: str
    version: str
    cachetools: str
    tags: frozenset[str]

    def same_release(self, other: "Described") -> bool:
        """True when both name the same release of cached-clients with the same cachetools."""
        return (self.name, self.version, self.cachetools) == (
            other.name,
            other.version,
            other.cachetools,
        )


def describe(manifest: dict[str, Any]) -> str:
    """Version, bundled cachetools, short sha256 and bytecode tags, as "311,312"."""
    cachetools = manifest["distributions"].get("cachetools", "unknown")
    tags = ",".join(sorted(tag.removeprefix("cpython-") for tag in manifest["bytecode"]))
    text = (
        f"{manifest['name']} {manifest['version']} with cachetools {cachetools}"
        f" (sha256 {manifest['sha256'][:12]}, bytecode {tags or 'none'})"
    )
    return text[:MAX_LENGTH]


def parse(description: str) -> Described | None:
    """What ``describe`` put in ``description``, or None if something else wrote it."""
    match = _PATTERN.fullmatch(description or "")
    if match is None:
        return None
    tags = match["tags"].split(",") if match["tags"] != "none" else []
    return Described(
        name=match["name"],
        version=match["version"],
        cachetools=match["cachetools"],
        tags=frozenset(f"cpython-{tag}" for tag in tags),
    )


def runtime_of(tag: str) -> str:
    """The Lambda runtime that a CPython cache tag serves: "cpython-313" -> "python3.13"."""
    digits = tag.removeprefix("cpython-")
    return f"python{digits[0]}.{digits[1:]}"
