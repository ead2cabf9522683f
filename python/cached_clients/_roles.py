"""AssumeRole parameters, checked against STS's rules before any request is made."""

from __future__ import annotations

import collections
import re

from cached_clients import _config

__all__ = ["ASSUME_ARGUMENTS", "RoleParams", "role_params"]

# https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}", re.A)
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_MAX_POLICY_CHARS = 2048

ASSUME_ARGUMENTS = frozenset({"session_name", "external_id", "duration_seconds", "policy"})
"""The keyword arguments that client() and get_item() pass on to AssumeRole."""

RoleParams = collections.namedtuple(
    "RoleParams", ["role_arn", "session_name", "external_id", "duration_seconds", "policy"]
)


def role_params(
    role_arn: object,
    *,
    session_name: object = None,
    external_id: object = None,
    duration_seconds: object = 3600,
    policy: object = None,
) -> RoleParams:
    """The parameters as STS will receive them, the default session name filled in."""
    if session_name is None:
        session_name = _config.current().default_session_name()
    return RoleParams(
        _role_arn(role_arn),
        _matching("session_name", session_name, _SESSION_NAME, "2-64 characters of [\\w+=,.@-]"),
        _external_id(external_id),
        _duration(duration_seconds),
        _policy(policy),
    )


def _role_arn(value: object) -> str:
    rule = "arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>"
    if not isinstance(value, str):
        raise TypeError(f"role_arn must be a str ({rule}), not {type(value).__name__}")
    if not _ROLE_ARN.fullmatch(value):
        raise ValueError(f"role_arn {value!r} is not a role ARN ({rule})")
    return value


def _matching(argument: str, value: object, pattern: re.Pattern, rule: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str of {rule}, not {type(value).__name__}")
    if not pattern.fullmatch(value):
        raise ValueError(f"{argument} {value!r} must be {rule}")
    return value


def _external_id(value: object) -> str | None:
    if value is None:
        return None
    return _matching("external_id", value, _EXTERNAL_ID, "2-1224 characters of [\\w+=,.@:/-]")


def _duration(value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"duration_seconds must be an int, not {type(value).__name__}")
    if not 900 <= value <= 43200:
        raise ValueError(f"duration_seconds must be between 900 and 43200, not {value}")
    return value


def _policy(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"policy must be a JSON document in a str, not {type(value).__name__}")
    if len(value) > _MAX_POLICY_CHARS:
        raise ValueError(f"policy must be at most {_MAX_POLICY_CHARS} characters")
    import json

    try:
        json.loads(value)
    except ValueError:
        raise ValueError("policy must be a JSON policy document") from None
    return value
