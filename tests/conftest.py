"""Shared fixtures: fake credentials everywhere, moto's server on 127.0.0.1, request counting."""

import collections
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench._env import FAKE_ENVIRONMENT, free_port, isolate
from bench._env import moto_server as running_moto_server

# Set before anything imports boto3, and inherited by every subprocess a test starts,
# so no test can reach real AWS or the instance metadata service. The benchmarks share them.
isolate()

ROOT = Path(__file__).resolve().parent.parent

# Tests import these from here; the benchmarks own them.
__all__ = ["FAKE_ENVIRONMENT", "ROOT", "free_port"]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's server in its own process on a free port of 127.0.0.1; yields its URL."""
    with running_moto_server() as url:
        yield url


@pytest.fixture
def moto_endpoint(moto_server: str) -> str:
    """moto's server, emptied of every resource an earlier test left behind."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    return moto_server


class ApiCalls:
    """Every AWS API call that any boto3 client in this process makes, as (service, operation)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def count(self, service: str | None = None, operation: str | None = None) -> int:
        """How many calls match the service and operation given (None matches any)."""
        return sum(
            1
            for called_service, called_operation in self.calls
            if service in (None, called_service) and operation in (None, called_operation)
        )

    def by_operation(self) -> collections.Counter:
        """A Counter of operation names."""
        return collections.Counter(operation for _, operation in self.calls)


@pytest.fixture
def api_calls(monkeypatch: pytest.MonkeyPatch) -> ApiCalls:
    """Records each call made through botocore, whichever client or thread makes it."""
    import botocore.client

    recorder = ApiCalls()
    original = botocore.client.BaseClient._make_api_call

    def recording(client, operation_name, api_params):
        service = client.meta.service_model.service_name
        recorder.calls.append((service, operation_name))
        return original(client, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return recorder


# Runtime fixtures: cached_clients with empty caches, moto in process, and a stand-in STS.


@pytest.fixture
def cached() -> Iterator[object]:
    """The cached_clients module, emptied (and its settings forgotten) before and after."""
    import cached_clients

    cached_clients.clear()
    yield cached_clients
    cached_clients.clear()


@pytest.fixture
def aws(cached: object) -> Iterator[None]:
    """moto's in-process mock of AWS for the test, with cached_clients emptied around it."""
    from moto import mock_aws

    with mock_aws():
        yield
        cached.clear()


class StsStandIn:
    """A small STS on 127.0.0.1 whose AssumeRole answers with credentials of a chosen lifetime.

    It also answers GetCallerIdentity, recording the access key that signed each request.
    """

    def __init__(self) -> None:
        self.lifetime = 3600.0
        self.error_code: str | None = None
        self.error_status = 403
        self.assume_calls: list[dict[str, str]] = []
        self.signed_by: list[str] = []
        self._server = None
        self.url = ""

    def start(self) -> None:
        """Listen on a free port of 127.0.0.1 in a daemon thread."""
        import functools
        import http.server
        import threading
        from urllib.parse import parse_qs

        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                params = {name: values[0] for name, values in form.items()}
                status, body = stand_in.answer(params, self.headers.get("Authorization", ""))
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        threading.Thread(target=serve, daemon=True).start()

    def stop(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()

    def answer(self, params: dict[str, str], authorization: str) -> tuple[int, str]:
        """The HTTP status and XML body for one query-protocol request."""
        if params.get("Action") == "GetCallerIdentity":
            credential = authorization.partition("Credential=")[2]
            self.signed_by.append(credential.partition("/")[0])
            return 200, _caller_identity_xml()

        self.assume_calls.append(params)
        if self.error_code is not None:
            return self.error_status, _error_xml(self.error_code)
        return 200, self._credentials_xml(len(self.assume_calls))

    def _credentials_xml(self, number: int) -> str:
        import datetime

        expiration = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=self.lifetime)
        return (
            f'<AssumeRoleResponse xmlns="{_STS_XMLNS}"><AssumeRoleResult><Credentials>'
            f"<AccessKeyId>ASIASTANDIN{number:09d}</AccessKeyId>"
            f"<SecretAccessKey>secret-{number}-do-not-log</SecretAccessKey>"
            f"<SessionToken>token-{number}-do-not-log</SessionToken>"
            f"<Expiration>{expiration.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}</Expiration>"
            "</Credentials><AssumedRoleUser><AssumedRoleId>AROASTANDIN:s</AssumedRoleId>"
            "<Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser>"
            "</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
            "</AssumeRoleResponse>"
        )


_STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


def _caller_identity_xml() -> str:
    return (
        f'<GetCallerIdentityResponse xmlns="{_STS_XMLNS}"><GetCallerIdentityResult>'
        "<Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn><UserId>AROASTANDIN:s</UserId>"
        "<Account>123456789012</Account></GetCallerIdentityResult>"
        "<ResponseMetadata><RequestId>2</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )


def _error_xml(code: str) -> str:
    return (
        f'<ErrorResponse xmlns="{_STS_XMLNS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>stand-in refuses: {code}</Message></Error><RequestId>3</RequestId>"
        "</ErrorResponse>"
    )


@pytest.fixture
def sts_stand_in(monkeypatch: pytest.MonkeyPatch, cached: object) -> Iterator[StsStandIn]:
    """A stand-in STS that boto3 reaches through AWS_ENDPOINT_URL_STS, started and stopped."""
    stand_in = StsStandIn()
    stand_in.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", stand_in.url)
    cached.clear()
    try:
        yield stand_in
    finally:
        cached.clear()
        stand_in.stop()


class BuiltLayer:
    """The layer zip built once for the whole session, and its manifest."""

    def __init__(self, zip_path: Path) -> None:
        self.zip_path = zip_path
        self.manifest_path = zip_path.with_suffix(".json")
        self.manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def built_layer(tmp_path_factory: pytest.TempPathFactory) -> BuiltLayer:
    """``build_layer.sh build`` run once per session (no SOURCE_DATE_EPOCH) into a temp dir."""
    from layer.build import main

    output = tmp_path_factory.mktemp("dist")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        assert main(["--output-dir", str(output)]) == 0
    (zip_path,) = output.glob("*.zip")
    return BuiltLayer(zip_path)
