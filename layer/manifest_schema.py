"""The manifest's shape as a JSON Schema: every key, its type, and the values Lambda accepts."""

from typing import Any

import jsonschema

from layer.extensions import ARCHITECTURES
from layer.runtimes import RUNTIMES

__all__ = ["REQUIRED_KEYS", "SCHEMA", "shape_problems"]

REQUIRED_KEYS = (
    "name",
    "version",
    "zip",
    "license",
    "distributions",
    "compatible_runtimes",
    "compatible_architectures",
    "bytecode",
    "unzipped_bytes",
    "zip_bytes",
    "sha256",
    "code_sha256",
    "files",
)

_TEXT = {"type": "string", "minLength": 1}
_COUNT = {"type": "integer", "minimum": 0}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def _names(values: list[str]) -> dict[str, Any]:
    """A non-empty list of distinct names, each one of ``values``."""
    return {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": values}}


def _mapping(values: dict[str, Any], keys: str = ".") -> dict[str, Any]:
    return {"type": "object", "propertyNames": {"pattern": keys}, "additionalProperties": values}


SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": list(REQUIRED_KEYS),
    "properties": {
        # The name is the default layer name, so it must be one Lambda accepts.
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,140}$"},
        "version": _TEXT,
        "zip": {"type": "string", "pattern": r"^[^/\\]+\.zip$"},
        # Published as LicenseInfo, which Lambda caps at 512 characters (moto takes more).
        "license": {"type": "string", "maxLength": 512},
        "distributions": {**_mapping(_TEXT), "minProperties": 1},
        "licenses": _mapping({"type": ["string", "null"]}),
        "compatible_runtimes": _names([runtime.name for runtime in RUNTIMES]),
        "compatible_architectures": _names(list(ARCHITECTURES)),
        "runtimes_as_of": {"type": "string", "format": "date"},
        "bytecode": _mapping(_TEXT, keys="^cpython-3[0-9]+$"),
        "installed_for": {
            "type": "object",
            "required": ["platform", "implementation", "python_version"],
            "properties": {"platform": _TEXT, "implementation": _TEXT, "python_version": _TEXT},
        },
        "unzipped_bytes": _COUNT,
        "zip_bytes": _COUNT,
        "sha256": _SHA256,
        "code_sha256": {"type": "string", "pattern": "^[A-Za-z0-9+/]{43}=$"},
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "size", "sha256"],
                "properties": {"path": _TEXT, "size": _COUNT, "sha256": _SHA256},
            },
        },
    },
}

_VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def shape_problems(manifest: Any) -> list[tuple[str | None, str]]:
    """Each way ``manifest`` breaks the schema: (the top-level key at fault, or None; a line)."""
    found = []
    for error in _VALIDATOR.iter_errors(manifest):
        path = list(error.absolute_path)
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)
        key = str(path[0]) if path else None
        found.append(
            (key, f"{where.removeprefix('.')}: {error.message}" if where else error.message)
        )
    return sorted(found, key=lambda problem: problem[1])
