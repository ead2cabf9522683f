"""End to end: the built layer, unpacked read-only like /opt, serving the example handler.

One long-lived interpreter plays a warm execution environment: AWS's own runtime interface
client (awslambdaric) fetches 50 invocations from a small Runtime API on 127.0.0.1 and runs
examples/accounts.py, which assumes a role in a second account and reads its accounts table
from moto's server. A counting proxy in front of moto sees every AWS request it makes.
"""

import collections
import http.client
import http.server
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import urllib.parse
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from _tables import hash_key_table
from conftest import FAKE_ENVIRONMENT, ROOT, BuiltLayer

from layer.interpreters import discover
from layer.runtime_packages import runtime_packages
from layer.unpack import read_only_opt

pytestmark = [pytest.mark.layer, pytest.mark.server]

OWNER = "222222222222"  # the account that owns the table; moto's default is 123456789012
ROLE_ARN = f"arn:aws:iam::{OWNER}:role/accounts-reader"
ACCOUNTS = {
    "111111111111": {"account_id": "111111111111", "name": "payments", "tier": Decimal(1)},
    "333333333333": {
        "account_id": "333333333333",
        "name": "search",
        "tier": Decimal("2.5"),
        "owners": {"team": "discovery", "oncall": ["ana", "bo"]},
        # Sets and binary are what Lambda's JSON encoding of the response cannot take as is.
        "regions": {"us-east-1", "eu-west-1"},
        "quotas": {Decimal(50), Decimal("0.5")},
        "signing_key": b"\x00\xffkey",
    },
    "444444444444": {"account_id": "444444444444", "name": "ledger", "tier": Decimal(3)},
}
# What the handler returns for each, as JSON carries it.
ACCOUNTS_AS_JSON = {
    "111111111111": {"account_id": "111111111111", "name": "payments", "tier": 1},
    "333333333333": {
        "account_id": "333333333333",
        "name": "search",
        "tier": 2.5,
        "owners": {"team": "discovery", "oncall": ["ana", "bo"]},
        "regions": ["eu-west-1", "us-east-1"],
        "quotas": [0.5, 50],
        "signing_key": "AP9rZXk=",
    },
    "444444444444": {"account_id": "444444444444", "name": "ledger", "tier": 3},
}
MISSING = "999999999999"
INVOCATIONS = 50

# Lambda's bootstrap: the task root, then /opt/python, then the runtime's own packages.
BOOTSTRAP = """
import runpy, sys
task, layer, runtime, handler = sys.argv[1:5]
sys.path[:0] = [task, layer]
sys.path.append(runtime)
sys.argv = ["awslambdaric", handler]
runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
"""


def test_warm_environment_assumes_once_and_reads_each_key_once(
    built_layer: BuiltLayer, moto_endpoint: str, lambda_runtime: Path
) -> None:
    create_accounts_table(moto_endpoint)
    keys = list(itertools.islice(itertools.cycle([*ACCOUNTS, MISSING]), INVOCATIONS))
    events = [{"account_id": key} for key in keys]

    with (
        CountingProxy(moto_endpoint) as proxy,
        RuntimeApi(events) as api,
        read_only_opt(built_layer.zip_path) as opt,
    ):
        process = start_environment(api.address, proxy.url, opt / "python", lambda_runtime)
        try:
            finished = api.finished.wait(timeout=120)
            still_warm = process.poll() is None
        finally:
            process.kill()
            _, stderr = process.communicate()

    assert finished, f"{len(api.responses)} of {INVOCATIONS} answered; runtime said: {stderr}"
    assert api.errors == {} and api.init_error is None, (api.errors, api.init_error, stderr)
    assert still_warm, "the execution environment did not survive its invocations"

    for request_id, key in zip(api.request_ids, keys, strict=True):
        assert api.responses[request_id] == expected_response(key)
    assert proxy.calls == collections.Counter(
        {("sts", "AssumeRole"): 1, ("dynamodb", "GetItem"): len(ACCOUNTS) + 1}
    )


def expected_response(key: str) -> dict:
    if key == MISSING:
        return {"account_id": key, "found": False}
    return {"account_id": key, "found": True, "account": ACCOUNTS_AS_JSON[key]}


@pytest.fixture(scope="module")
def lambda_runtime() -> Path:
    """awslambdaric and boto3 at their pinned versions, like a runtime's own packages."""
    running = discover([sys.version_info[:2]])
    return runtime_packages(("awslambdaric", "boto3", "botocore"), running)


def create_accounts_table(endpoint: str) -> None:
    """The role and the table in the owner's account, reached through moto's AssumeRole."""
    sts = boto3.client("sts", endpoint_url=endpoint)
    credentials = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="setup")["Credentials"]
    owner = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    owner.client("iam", endpoint_url=endpoint).create_role(
        RoleName="accounts-reader", AssumeRolePolicyDocument=json.dumps(trust)
    )
    table = hash_key_table(
        owner.resource("dynamodb", endpoint_url=endpoint), "accounts", "account_id"
    )
    for item in ACCOUNTS.values():
        table.put_item(Item=item)


def start_environment(api: str, aws: str, layer: Path, runtime: Path) -> subprocess.Popen:
    """The execution environment: one isolated interpreter running the runtime client."""
    environment = {
        **FAKE_ENVIRONMENT,
        "PATH": os.environ["PATH"],
        "AWS_LAMBDA_RUNTIME_API": api,
        "AWS_ENDPOINT_URL": aws,
        "AWS_LAMBDA_FUNCTION_NAME": "accounts",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}",
        "LAMBDA_TASK_ROOT": str(ROOT / "examples"),
        "ACCOUNTS_ROLE_ARN": ROLE_ARN,
        "ACCOUNTS_TABLE": "accounts",
    }
    command = [sys.executable, "-I", "-S", "-B", "-c", BOOTSTRAP]
    command += [str(ROOT / "examples"), str(layer), str(runtime), "accounts.handler"]
    return subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


class Server(http.server.ThreadingHTTPServer):
    """A threaded server on 127.0.0.1 that does not report a client hanging up on it."""

    daemon_threads = True

    def __init__(self, handler: type) -> None:
        super().__init__(("127.0.0.1", 0), handler)

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RuntimeApi:
    """Lambda's Runtime API on 127.0.0.1: hands out the events, collects the answers."""

    PREFIX = "/2018-06-01/runtime"

    def __init__(self, events: list[dict]) -> None:
        self.pending: queue.Queue = queue.Queue()
        for number, event in enumerate(events):
            self.pending.put((f"request-{number:03}", event))
        self.expected = len(events)
        self.request_ids: list[str] = []
        self.responses: dict[str, object] = {}
        self.errors: dict[str, object] = {}
        self.init_error: object = None
        self.finished = threading.Event()
        self.server = Server(self._handler())
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "RuntimeApi":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.finished.set()
        self.server.shutdown()
        self.server.server_close()

    def next_invocation(self) -> tuple[str, dict] | None:
        while not self.finished.is_set():
            try:
                return self.pending.get(timeout=0.2)
            except queue.Empty:
                continue
        return None

    def answered(self, path: str, body: object) -> None:
        if path == f"{self.PREFIX}/init/error":
            self.init_error = body
            self.finished.set()
            return
        request_id, kind = path.removeprefix(f"{self.PREFIX}/invocation/").split("/")
        (self.responses if kind == "response" else self.errors)[request_id] = body
        if len(self.responses) + len(self.errors) == self.expected:
            self.finished.set()

    def _handler(self) -> type:
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                invocation = api.next_invocation()
                if invocation is None:
                    return self._reply(410, b"")
                request_id, event = invocation
                api.request_ids.append(request_id)
                self._reply(200, json.dumps(event).encode(), request_id)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                api.answered(self.path, json.loads(body) if body else None)
                self._reply(202, b"{}")

            def _reply(self, status: int, body: bytes, request_id: str = "") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if request_id:
                    self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                    self.send_header("Lambda-Runtime-Deadline-Ms", "99999999999999")
                    self.send_header(
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:accounts",
                    )
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


class CountingProxy:
    """Forwards every request to moto's server and counts them as (service, operation)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.calls: collections.Counter = collections.Counter()
        self.server = Server(self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "CountingProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.calls[identify(self.headers, self.path, body)] += 1
                connection = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                connection.request("POST", self.path, body, headers)
                response = connection.getresponse()
                payload = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in {"connection", "transfer-encoding", "content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                connection.close()

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def identify(headers: http.client.HTTPMessage, path: str, body: bytes) -> tuple[str, str]:
    """(service, operation) of a signed AWS request, whichever protocol it speaks."""
    scope = headers.get("Authorization", "").split("Credential=")[-1].split("/")
    service = scope[3] if len(scope) > 3 else "?"
    target = headers.get("X-Amz-Target")
    if target:
        return service, target.rsplit(".", 1)[-1]
    if "/operation/" in path:
        return service, path.rsplit("/", 1)[-1]
    action = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", ["?"])
    return service, action[0]
