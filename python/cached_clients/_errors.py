"""Upstream failures: which ones say "try again later", and how to name one in a log line."""

from __future__ import annotations

import functools
import sys

__all__ = ["describe", "transient"]

# Besides botocore's transient codes: 429 is throttling whatever the body says.
_TRANSIENT_STATUS_CODES = [429, 500, 502, 503, 504]


def transient(error: BaseException) -> bool:
    """Whether the failure is throttling, a timeout, a connection error or a fault of the
    service (5xx), as botocore's retry checkers judge them; never a request that was wrong."""
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None:
        return False  # botocore never ran, so this is a bug or a bad argument
    if not isinstance(error, (exceptions.BotoCoreError, exceptions.ClientError)):
        return False

    from botocore.retries.standard import RetryContext

    response = getattr(error, "response", None)
    context = RetryContext(
        attempt_number=1,
        parsed_response=response if isinstance(response, dict) else None,
        http_response=_Status(response),
        caught_exception=None if isinstance(response, dict) else error,
    )
    return any(checker.is_retryable(context) for checker in _checkers())


def describe(error: BaseException) -> str:
    """The error's type and its AWS error code where the type does not say it already:
    enough to act on, and never a credential."""
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    name = type(error).__name__
    return name if not code or code == name else f"{name} {code}"


class _Status:
    """The HTTP status of a parsed error response, in the shape botocore's checkers read."""

    __slots__ = ("status_code",)

    def __init__(self, response: object) -> None:
        metadata = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
        self.status_code = metadata.get("HTTPStatusCode")


@functools.cache
def _checkers() -> tuple:
    from botocore.retries.standard import ThrottledRetryableChecker, TransientRetryableChecker

    return (
        ThrottledRetryableChecker(),
        TransientRetryableChecker(transient_status_codes=_TRANSIENT_STATUS_CODES),
    )
