"""AWS plumbing shared by publish and attach: Lambda clients, and botocore errors as one line."""

import contextlib
import logging
import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import boto3
import botocore.config
import botocore.exceptions
from botocore.exceptions import ClientError

from layer.errors import LayerError

__all__ = [
    "describe",
    "error_code",
    "lambda_client",
    "one_line",
    "resolve_region",
    "translated",
]

# Standard mode retries throttling and transient network errors with backoff; it leaves the
# attempt count to AWS_MAX_ATTEMPTS or the profile's max_attempts when those are set.
CLIENT_CONFIG = botocore.config.Config(
    retries={"mode": "standard"},
    connect_timeout=10,
    read_timeout=120,
    user_agent_extra="cached-clients-tooling",
)

ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
}
EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
THROTTLED = {"TooManyRequestsException", "ThrottlingException", "Throttling"}

NO_CREDENTIALS = (
    "no AWS credentials found; set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY), or run 'aws configure' / 'aws sso login'"
)
NO_REGION = "no AWS region given; pass --region REGION or set AWS_REGION"
ENDPOINT_ADVICE = "pass --endpoint-url as http(s)://HOST[:PORT]"
SETTINGS_ADVICE = "fix the AWS_* variables in the environment, or the profile in ~/.aws/config"

ADVICE = [
    (
        (botocore.exceptions.ProfileNotFound,),
        "fix AWS_PROFILE or add that profile to ~/.aws/config",
    ),
    (
        # Every failure to connect or to talk HTTP: refused, timed out, TLS, proxy, or a
        # scheme botocore cannot speak (--endpoint-url ftp://...).
        (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError),
        "check the network, the region and --endpoint-url",
    ),
    (
        (
            botocore.exceptions.TokenRetrievalError,
            botocore.exceptions.SSOTokenLoadError,
            botocore.exceptions.UnauthorizedSSOTokenError,
        ),
        "refresh the credentials (e.g. 'aws sso login')",
    ),
    (
        (botocore.exceptions.ParamValidationError,),
        "check the names and ARNs given",
    ),
]


def one_line(text: object) -> str:
    """The text with every run of whitespace (newlines included) collapsed to one space."""
    return " ".join(str(text).split())


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError, e.g. ``ResourceConflictException``."""
    return error.response.get("Error", {}).get("Code", "")


def resolve_region(region: str | None) -> str:
    """The region given, else the one AWS_REGION, AWS_DEFAULT_REGION or the profile names."""
    # botocore reads AWS_DEFAULT_REGION only; AWS_REGION is what the AWS CLI v2, the other
    # SDKs and Lambda itself set, and it wins over AWS_DEFAULT_REGION as it does in the CLI.
    with translated():
        resolved = region or os.environ.get("AWS_REGION") or boto3.Session().region_name
    if not resolved:
        raise LayerError(NO_REGION)
    return resolved


def lambda_client(region: str, endpoint_url: str | None = None):
    """A Lambda client for one region (and endpoint); fails early when there are no credentials."""
    # botocore says at INFO where it found credentials; the CLI's stderr is for our steps.
    logging.getLogger("botocore").setLevel(logging.WARNING)

    if endpoint_url is not None:
        _check_endpoint_url(endpoint_url, ENDPOINT_ADVICE)
    with translated():
        session = boto3.Session(region_name=region)
        if session.get_credentials() is None:
            raise LayerError(NO_CREDENTIALS)
        client = _client(session, endpoint_url)
    # One from AWS_ENDPOINT_URL(_LAMBDA) or the profile, which botocore takes apart only later.
    _check_endpoint_url(client.meta.endpoint_url, SETTINGS_ADVICE)
    return client


def _client(session: boto3.Session, endpoint_url: str | None):
    try:
        return session.client("lambda", endpoint_url=endpoint_url, config=CLIENT_CONFIG)
    except ValueError as error:
        # botocore reads the AWS_* settings here and raises a bare ValueError for a malformed
        # one (AWS_MAX_ATTEMPTS=abc); translated() words an --endpoint-url it cannot parse.
        if endpoint_url is not None and "endpoint" in str(error).lower():
            raise
        raise LayerError(f"{one_line(error)}; {SETTINGS_ADVICE}") from None


def _check_endpoint_url(endpoint_url: str, advice: str) -> None:
    """Refuse a URL that urllib cannot take apart (a port out of range, a broken IPv6 host):
    botocore would raise a bare ValueError for it at the first request."""
    try:
        _ = urlsplit(endpoint_url).port  # reading the port is what checks it
    except ValueError as error:
        raise LayerError(f"endpoint URL {endpoint_url}: {error}; {advice}") from None


@contextlib.contextmanager
def translated(subject: str = "", region: str = "") -> Iterator[None]:
    """Turn any botocore error raised inside into a LayerError that says what to do."""
    try:
        yield
    except (botocore.exceptions.BotoCoreError, ClientError) as error:
        raise LayerError(describe(error, subject, region)) from error
    except ValueError as error:
        # botocore raises a bare ValueError for an endpoint URL it cannot parse.
        if "endpoint" not in str(error).lower():
            raise
        raise LayerError(f"{one_line(error)}; {ENDPOINT_ADVICE}") from error


def describe(error: Exception, subject: str = "", region: str = "") -> str:
    """One line for a botocore error: what went wrong and what to do about it."""
    if isinstance(error, ClientError):
        return _describe_client_error(error, subject, region)

    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return NO_CREDENTIALS
    if isinstance(error, botocore.exceptions.NoRegionError):
        return NO_REGION
    for kinds, advice in ADVICE:
        if isinstance(error, kinds):
            return f"{one_line(error)}; {advice}"
    return f"{type(error).__name__}: {one_line(error)}"


def _describe_client_error(error: ClientError, subject: str, region: str) -> str:
    code = error_code(error)
    operation = error.operation_name
    message = one_line(error.response.get("Error", {}).get("Message", "")) or code
    where = f" in {region}" if region else ""

    if code in ACCESS_DENIED:
        return (
            f"access denied calling lambda:{operation}{where}: {message}; use credentials "
            f"whose policy allows lambda:{operation} (AWS_PROFILE or AWS_ACCESS_KEY_ID)"
        )
    if code in BAD_CREDENTIALS:
        return f"AWS rejected the credentials ({code}); check AWS_PROFILE or AWS_ACCESS_KEY_ID"
    if code in EXPIRED:
        return f"the AWS credentials have expired ({code}); refresh them (e.g. 'aws sso login')"
    if code in THROTTLED:
        return f"Lambda throttled {operation}{where} ({code}); wait a minute and run again"
    if code == "ResourceNotFoundException":
        what = subject or "resource"
        return f"{what} not found{where} ({message}); check the name, ARN and region"
    return f"{operation} failed{where}: {code}: {message}"
