"""Errors a user can act on, through the real CLI in a subprocess: one line, no traceback."""

import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from _cli import Result, run_cli
from botocore.stub import Stubber
from conftest import free_port

from layer import aws
from layer.cli import main

LAYER_ARN = "arn:aws:lambda:us-east-1:123456789012:layer:cached-clients:5"
CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# Every other way botocore could find credentials or a region, taken away.
ELSEWHERE = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ENDPOINT_URL",
)


@pytest.fixture
def bare_env(tmp_path: Path) -> dict[str, str]:
    """The test environment with empty AWS config files and no metadata service."""
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {key: value for key, value in os.environ.items() if key not in ELSEWHERE}
    env.update(
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        BOTO_CONFIG=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def assert_one_error_line(ran: Result, command: str, *fragments: str) -> None:
    """Exit 1, no traceback, and exactly one stderr line carrying every fragment."""
    assert ran.returncode == 1, ran
    assert "Traceback" not in ran.stderr
    assert len(ran.stderr_lines) == 1, ran.stderr
    assert ran.stderr_lines[0].startswith(f"build_layer.sh {command}: error: ")
    for fragment in fragments:
        assert fragment in ran.stderr_lines[0]


def test_no_credentials(bare_env: dict[str, str], moto_server: str) -> None:
    for name in CREDENTIALS:
        bare_env.pop(name, None)
    where = ["--endpoint-url", moto_server]

    attach = run_cli("attach", "--layer-arn", LAYER_ARN, "--function", "f", *where, env=bare_env)
    publish = run_cli("publish", "--region", "us-east-1", *where, env=bare_env)

    advice = ("no AWS credentials found", "set AWS_PROFILE", "aws sso login")
    assert_one_error_line(attach, "attach", *advice)
    assert_one_error_line(publish, "publish", *advice)


def test_no_region(bare_env: dict[str, str], moto_server: str) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        bare_env.pop(name, None)

    ran = run_cli("publish", "--endpoint-url", moto_server, env=bare_env)

    assert_one_error_line(ran, "publish", "no AWS region given; pass --region REGION")


def test_unknown_profile(bare_env: dict[str, str]) -> None:
    bare_env["AWS_PROFILE"] = "nowhere"

    ran = run_cli("attach", "--layer-arn", LAYER_ARN, "--function", "f", env=bare_env)

    assert_one_error_line(ran, "attach", "(nowhere) could not be found", "fix AWS_PROFILE")


def test_unreachable_or_malformed_endpoint(bare_env: dict[str, str]) -> None:
    bare_env["AWS_MAX_ATTEMPTS"] = "1"
    closed = f"http://127.0.0.1:{free_port()}"
    command = ["attach", "--layer-arn", LAYER_ARN, "--function", "f", "--endpoint-url"]

    unreachable = run_cli(*command, closed, env=bare_env)
    malformed = run_cli(*command, "not a url", env=bare_env)
    not_http = run_cli(*command, "ftp://127.0.0.1:9", env=bare_env)

    assert_one_error_line(unreachable, "attach", closed, "check the network")
    assert_one_error_line(malformed, "attach", "pass --endpoint-url as http(s)://HOST[:PORT]")
    assert_one_error_line(not_http, "attach", "scheme ftp", "check the network")


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:99999", "http://[::1"])
def test_endpoint_with_a_bad_port_or_host(bare_env: dict[str, str], endpoint: str) -> None:
    # urllib refuses these only when botocore takes the URL apart, with a bare ValueError.
    attach = run_cli(
        "attach",
        "--layer-arn",
        LAYER_ARN,
        "--function",
        "f",
        "--endpoint-url",
        endpoint,
        env=bare_env,
    )
    publish = run_cli("publish", "--region", "us-east-1", "--endpoint-url", endpoint, env=bare_env)

    advice = (endpoint, "pass --endpoint-url as http(s)://HOST[:PORT]")
    assert_one_error_line(attach, "attach", *advice)
    assert_one_error_line(publish, "publish", *advice)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:99999", "Port out of range"),
        ("AWS_ENDPOINT_URL", "http://[::1", "Invalid IPv6 URL"),
        ("AWS_MAX_ATTEMPTS", "abc", "invalid literal"),
    ],
)
def test_malformed_aws_settings_in_the_environment(
    bare_env: dict[str, str], name: str, value: str, fragment: str
) -> None:
    bare_env[name] = value

    attach = run_cli("attach", "--layer-arn", LAYER_ARN, "--function", "f", env=bare_env)
    publish = run_cli("publish", "--region", "us-east-1", env=bare_env)

    assert_one_error_line(attach, "attach", fragment)
    assert_one_error_line(publish, "publish", fragment)


class _Denying(http.server.BaseHTTPRequestHandler):
    """Answers every request as Lambda answers a caller whose policy does not allow the call."""

    def _deny(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(
            {
                "Type": "User",
                "Message": "User: arn:aws:iam::123456789012:user/nobody is not authorized to "
                "perform: lambda:GetLayerVersion on resource: layer:cached-clients:5",
            }
        ).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-ErrorType", "AccessDeniedException")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = _deny

    def log_message(self, format: str, *args) -> None:
        """Quiet: the test reads the CLI's output, not the server's."""


@pytest.fixture
def denying_endpoint() -> Iterator[str]:
    """An HTTP endpoint on 127.0.0.1 that denies every call the way Lambda does.

    moto's server cannot do it for Lambda: with its IAM checks on, it fails the signature of
    every Lambda request and answers in XML, which a Lambda client cannot parse.
    """
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Denying)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_access_denied(bare_env: dict[str, str], denying_endpoint: str) -> None:
    ran = run_cli(
        "attach", "--layer-arn", LAYER_ARN, "--function", "f", "--endpoint-url", denying_endpoint,
        env=bare_env,
    )  # fmt: skip

    assert_one_error_line(
        ran,
        "attach",
        "access denied calling lambda:GetLayerVersion in us-east-1",
        "is not authorized to perform",
        "use credentials whose policy allows lambda:GetLayerVersion",
    )
    assert ran.stdout == ""


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("ExpiredTokenException", "the AWS credentials have expired (ExpiredTokenException)"),
        ("UnrecognizedClientException", "AWS rejected the credentials"),
        ("TooManyRequestsException", "wait a minute and run again"),
        ("ServiceException", "GetLayerVersion failed in us-east-1: ServiceException: bad day"),
    ],
)
def test_other_aws_errors_are_one_line_too(code, fragment, monkeypatch, capsys) -> None:
    client = boto3.client("lambda", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    stubber = Stubber(client)
    stubber.add_client_error("get_layer_version", code, "bad\n day", 400)
    stubber.activate()
    monkeypatch.setattr(aws, "lambda_client", lambda region, endpoint_url=None: client)

    exit_code = main(["attach", "--layer-arn", LAYER_ARN, "--function", "f"])

    error = capsys.readouterr().err
    assert exit_code == 1
    assert error.count("\n") == 1
    assert fragment in error
