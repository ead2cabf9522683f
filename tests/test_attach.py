"""``build_layer.sh attach`` against moto's server, and Stubber tests for what moto never does."""

import io
import json
import logging
import time
import zipfile

import boto3
import pytest
from _cli import run_cli
from botocore.stub import ANY, Stubber

from layer import aws
from layer._function_update import MAX_ATTEMPTS
from layer.cli import main

LAYER = "cached-clients"
REGION = "us-east-1"
ARN_PREFIX = f"arn:aws:lambda:{REGION}:123456789012"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def handler_zip() -> bytes:
    """A function package with one handler (moto stores it and never runs it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


class Account:
    """Functions and layer versions in moto's server, made with plain boto3 as a user would."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.client = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint)
        iam = boto3.client("iam", region_name=REGION, endpoint_url=endpoint)
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))
        self.role = role["Role"]["Arn"]
        self.code = handler_zip()

    def publish(self, layer: str, count: int, **extra) -> list[str]:
        """Publish ``count`` versions of ``layer``; returns their ARNs, oldest first."""
        content = {"ZipFile": self.code}
        return [
            self.client.publish_layer_version(LayerName=layer, Content=content, **extra)[
                "LayerVersionArn"
            ]
            for _ in range(count)
        ]

    def function(self, name: str, layers: list[str], runtime: str = "python3.12") -> str:
        """Create a function with these layers; returns its ARN."""
        created = self.client.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=self.role,
            Handler="handler.handler",
            Code={"ZipFile": self.code},
            Layers=layers,
        )
        return created["FunctionArn"]

    def image_function(self, name: str) -> None:
        """Create a container image function (moto never pulls the image)."""
        self.client.create_function(
            FunctionName=name,
            Role=self.role,
            PackageType="Image",
            Code={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/fn:1"},
        )

    def layers(self, name: str) -> list[str]:
        """The function's layer ARNs, in order, as Lambda reports them now."""
        config = self.client.get_function_configuration(FunctionName=name)
        return [layer["Arn"] for layer in config.get("Layers", [])]


@pytest.fixture
def account(moto_endpoint: str) -> Account:
    """An empty moto account with a role for functions."""
    return Account(moto_endpoint)


def by_function(result: dict) -> dict[str, dict]:
    """The per-function reports of attach's JSON, by function name."""
    return {report["function"]: report for report in result["functions"]}


def test_attach_replaces_in_place_keeps_order_and_second_run_changes_nothing(
    account: Account, api_calls, capsys
) -> None:
    other = account.publish("other", 3)
    ours = account.publish(LAYER, 5, CompatibleRuntimes=["python3.12", "python3.13"])
    account.function("mixed", [other[2], ours[3]])
    account.function("first", [ours[0], other[0]])
    bare_arn = account.function("bare", [], runtime="python3.11")

    ran = run_cli(
        "attach", "--layer-arn", ours[4], "--endpoint-url", account.endpoint,
        "--function", "mixed", "--function", "first", "--function", bare_arn,
    )  # fmt: skip

    assert ran.returncode == 0, ran
    assert account.layers("mixed") == [other[2], ours[4]]
    assert account.layers("first") == [ours[4], other[0]]
    assert account.layers("bare") == [ours[4]]
    reports = by_function(ran.json())
    assert {name: report["status"] for name, report in reports.items()} == {
        "mixed": "updated",
        "first": "updated",
        "bare": "updated",
    }
    assert reports["mixed"]["before"] == [other[2], ours[3]]
    assert reports["mixed"]["after"] == [other[2], ours[4]]
    assert ran.json()["layer_version_arn"] == ours[4]
    assert reports["bare"]["warnings"] == ["runtime python3.11 is not among python3.12, python3.13"]
    # The runtime is the function's; the list is what the layer declares.
    assert "bare: warning: the function's runtime python3.11 is not among" in ran.stderr
    assert "warnings" not in reports["mixed"]

    again = ["attach", "--layer-arn", ours[4], "--endpoint-url", account.endpoint]
    assert main([*again, "--function", "mixed", "--function", "bare"]) == 0
    assert api_calls.count("lambda", "UpdateFunctionConfiguration") == 0
    statuses = [report["status"] for report in json.loads(capsys.readouterr().out)["functions"]]
    assert statuses == ["unchanged", "unchanged"]


def test_a_function_named_twice_is_reported_once(account: Account, capsys) -> None:
    ours = account.publish(LAYER, 2)
    account.function("twice", [ours[0]])

    arguments = ["attach", "--layer-arn", ours[1], "--endpoint-url", account.endpoint]
    assert main([*arguments, "--function", "twice", "--function", "twice"]) == 0

    reports = json.loads(capsys.readouterr().out)["functions"]
    assert [(report["function"], report["status"]) for report in reports] == [("twice", "updated")]
    assert account.layers("twice") == [ours[1]]


def test_a_sixth_layer_is_refused_and_other_functions_still_move(account: Account) -> None:
    others = [account.publish(f"other{index}", 1)[0] for index in range(5)]
    ours = account.publish(LAYER, 2)
    account.function("full", others)
    account.function("fine", [ours[0]])
    account.image_function("image")

    ran = run_cli(
        "attach", "--layer-arn", ours[1], "--endpoint-url", account.endpoint,
        "--function", "full", "--function", "missing", "--function", "image",
        "--function", "fine",
    )  # fmt: skip

    assert ran.returncode == 1, ran
    assert "Traceback" not in ran.stderr
    errors = [line for line in ran.stderr_lines if "error:" in line]
    assert len(errors) == 3, ran.stderr
    assert "function full would have 6 layers, Lambda allows 5" in errors[0]
    assert all(arn in errors[0] for arn in others)
    assert "function 'missing' not found in us-east-1" in errors[1]
    assert "check the name" in errors[1]
    assert "function image is a container image" in errors[2]
    assert "copy the layer's python/ into the image's /opt instead" in errors[2]

    reports = by_function(ran.json())
    assert reports["full"]["status"] == "failed"
    assert reports["missing"]["status"] == "failed"
    assert reports["image"]["status"] == "failed"
    assert reports["fine"]["status"] == "updated"
    assert account.layers("full") == others
    assert account.layers("image") == []
    assert account.layers("fine") == [ours[1]]


def test_all_using_moves_every_older_user_and_dry_run_changes_nothing(account: Account) -> None:
    other = account.publish("other", 1)[0]
    ours = account.publish(LAYER, 4)
    start = {
        "one": [ours[0]],
        "two": [other, ours[1]],
        "three": [ours[1], other],
        "current": [ours[2]],
        "without": [other],
        "newer": [ours[3]],
    }
    for name, layers in start.items():
        account.function(name, layers)
    command = ["attach", "--layer-arn", ours[2], "--all-using", LAYER]

    dry = run_cli(*command, "--endpoint-url", account.endpoint, "--dry-run")

    assert dry.returncode == 0, dry
    assert dry.json()["dry_run"] is True
    planned = by_function(dry.json())
    assert set(planned) == {"one", "two", "three", "current", "newer"}
    assert planned["two"]["before"] == [other, ours[1]]
    assert planned["two"]["after"] == [other, ours[2]]
    assert planned["three"]["after"] == [ours[2], other]
    assert [planned[name]["status"] for name in ("one", "two", "three")] == ["would-update"] * 3
    assert planned["current"]["status"] == "unchanged"
    assert planned["newer"]["status"] == "newer"
    assert {name: account.layers(name) for name in start} == start

    ran = run_cli(*command, "--endpoint-url", account.endpoint)

    assert ran.returncode == 0, ran
    statuses = {name: report["status"] for name, report in by_function(ran.json()).items()}
    assert statuses == {
        "one": "updated",
        "two": "updated",
        "three": "updated",
        "current": "unchanged",
        "newer": "newer",
    }
    assert account.layers("one") == [ours[2]]
    assert account.layers("two") == [other, ours[2]]
    assert account.layers("three") == [ours[2], other]
    assert account.layers("current") == [ours[2]]
    assert account.layers("without") == [other]
    assert account.layers("newer") == [ours[3]]


def test_malformed_or_unknown_layer_arn_is_one_line(account: Account) -> None:
    account.function("f", [])
    unversioned = f"{ARN_PREFIX}:layer:{LAYER}"
    for arn, expected in (
        ("cached-clients:5", "--layer-arn 'cached-clients:5' is not a layer version ARN; expected"),
        (unversioned, f"--layer-arn {unversioned} has no version; append ':VERSION'"),
        (f"{unversioned}:7", f"layer version {unversioned}:7 not found in us-east-1"),
    ):
        ran = run_cli(
            "attach", "--layer-arn", arn, "--function", "f", "--endpoint-url", account.endpoint
        )

        assert ran.returncode == 1, ran
        assert len(ran.stderr_lines) == 1, ran.stderr
        assert ran.stderr_lines[0].startswith("build_layer.sh attach: error: ")
        assert expected in ran.stderr_lines[0]
        assert ran.stdout == ""
    assert account.layers("f") == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--function", "arn:aws:lambda:eu-west-1:123456789012:function:f"], "is in eu-west-1"),
        (["--function", f"{ARN_PREFIX}:function:f:7"], "drop the qualifier"),
        (["--function", "not a name"], "neither a function name nor a function ARN"),
        (["--function", "f", "--region", "eu-west-1"], "differs from the layer's region"),
        (["--all-using", "another-layer"], "give --all-using cached-clients"),
    ],
)
def test_arguments_refused_before_any_call(extra, expected, api_calls, capsys) -> None:
    layer_arn = f"{ARN_PREFIX}:layer:{LAYER}:5"

    code = main(
        ["attach", "--layer-arn", layer_arn, "--endpoint-url", "http://127.0.0.1:9", *extra]
    )

    assert code == 1
    assert expected in capsys.readouterr().err
    assert api_calls.calls == []


class StubbedLambda:
    """A real Lambda client whose responses come from botocore's Stubber; nothing is sent."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = boto3.client("lambda", region_name=REGION, endpoint_url="http://127.0.0.1:9")
        self.stubber = Stubber(self.client)
        self.stubber.activate()
        monkeypatch.setattr(aws, "lambda_client", lambda region, endpoint_url=None: self.client)

    def layer_version(self, arn: str) -> None:
        """Queue GetLayerVersion's answer for the layer version attach is given."""
        layer, version = arn.rsplit(":", 1)
        response = {"LayerVersionArn": arn, "Version": int(version)}
        expected = {"LayerName": layer, "VersionNumber": int(version)}
        self.stubber.add_response("get_layer_version", response, expected)

    def config(self, name: str, layers: list[str], status: str = "Successful", **extra) -> None:
        """Queue a GetFunctionConfiguration answer."""
        response = {
            "FunctionName": name,
            "Layers": [{"Arn": arn} for arn in layers],
            "LastUpdateStatus": status,
            "RevisionId": f"rev-{len(layers)}-{status}",
            **extra,
        }
        self.stubber.add_response("get_function_configuration", response, {"FunctionName": name})

    def update(self, name: str, layers: list[str], error: str | None = None) -> None:
        """Queue an UpdateFunctionConfiguration answer, or its error."""
        expected = {"FunctionName": name, "Layers": layers, "RevisionId": ANY}
        if error:
            self.stubber.add_client_error(
                "update_function_configuration", error, "busy", 409, expected_params=expected
            )
        else:
            response = {"FunctionName": name, "LastUpdateStatus": "InProgress"}
            self.stubber.add_response("update_function_configuration", response, expected)


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> StubbedLambda:
    """Every Lambda client the tooling makes is this stubbed one."""
    return StubbedLambda(monkeypatch)


def test_conflict_on_first_update_is_retried_then_waited_for(
    stubbed: StubbedLambda, capsys, caplog
) -> None:
    old, new = f"{ARN_PREFIX}:layer:{LAYER}:4", f"{ARN_PREFIX}:layer:{LAYER}:5"
    other = f"{ARN_PREFIX}:layer:other:3"
    stubbed.layer_version(new)
    stubbed.config("f", [other, old])
    stubbed.update("f", [other, new], error="ResourceConflictException")
    stubbed.config("f", [other, old])
    stubbed.update("f", [other, new])
    stubbed.config("f", [other, new], status="InProgress")
    stubbed.config("f", [other, new], status="Successful")
    caplog.set_level(logging.INFO, logger="layer")

    code = main(["attach", "--layer-arn", new, "--function", "f"])

    output = capsys.readouterr()
    assert code == 0, output.err
    assert "f: ResourceConflictException; trying again in" in caplog.text
    assert json.loads(output.out)["functions"][0]["status"] == "updated"
    stubbed.stubber.assert_no_pending_responses()


def test_a_function_that_stays_busy_is_retried_with_growing_waits_then_reported(
    stubbed: StubbedLambda, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    new = f"{ARN_PREFIX}:layer:{LAYER}:5"
    stubbed.layer_version(new)
    for _ in range(MAX_ATTEMPTS):
        stubbed.config("f", [], status="InProgress")
        stubbed.update("f", [new], error="ResourceConflictException")
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)

    code = main(["attach", "--layer-arn", new, "--function", "f"])

    output = capsys.readouterr()
    assert code == 1
    assert output.err == (
        f"build_layer.sh attach: error: function f was still being changed by someone else "
        f"after {MAX_ATTEMPTS} tries (ResourceConflictException: busy); wait until its update "
        "is done, then run attach again\n"
    )
    assert json.loads(output.out)["functions"][0]["status"] == "failed"
    # Each wait is a doubling step, jittered down by at most half.
    assert len(waits) == MAX_ATTEMPTS - 1
    for attempt, wait in enumerate(waits):
        assert 2.0**attempt / 2 <= wait <= 2.0**attempt, waits
    stubbed.stubber.assert_no_pending_responses()


def test_a_sovereign_cloud_function_takes_a_layer_of_its_region(
    stubbed: StubbedLambda, capsys
) -> None:
    prefix = "arn:aws-eusc:lambda:eusc-de-east-1:123456789012"
    new, function = f"{prefix}:layer:{LAYER}:5", f"{prefix}:function:f"
    stubbed.layer_version(new)
    stubbed.stubber.add_response(
        "get_function_configuration", {"FunctionName": "f"}, {"FunctionName": function}
    )

    code = main(["attach", "--layer-arn", new, "--function", function, "--dry-run"])

    assert code == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)["functions"][0]
    assert (report["status"], report["after"]) == ("would-update", [new])
    stubbed.stubber.assert_no_pending_responses()


def test_failed_update_is_reported_with_its_reason(stubbed: StubbedLambda, capsys) -> None:
    new = f"{ARN_PREFIX}:layer:{LAYER}:5"
    reason = "The layer version is too large."
    stubbed.layer_version(new)
    stubbed.config("f", [])
    stubbed.update("f", [new])
    stubbed.config(
        "f", [new], status="Failed", LastUpdateStatusReason=reason,
        LastUpdateStatusReasonCode="InvalidConfiguration",
    )  # fmt: skip

    code = main(["attach", "--layer-arn", new, "--function", "f"])

    output = capsys.readouterr()
    assert code == 1
    assert f"the update failed (InvalidConfiguration): {reason}" in output.err
    assert json.loads(output.out)["functions"][0]["status"] == "failed"
    stubbed.stubber.assert_no_pending_responses()


def test_all_using_reads_every_page_of_functions(stubbed: StubbedLambda, capsys) -> None:
    old, new = f"{ARN_PREFIX}:layer:{LAYER}:1", f"{ARN_PREFIX}:layer:{LAYER}:2"
    first_page = {"Functions": [{"FunctionName": "a", "Layers": [{"Arn": old}]}], "NextMarker": "m"}
    second_page = {"Functions": [{"FunctionName": "b", "Layers": [{"Arn": old}]}]}
    stubbed.layer_version(new)
    stubbed.stubber.add_response("list_functions", first_page, {})
    stubbed.stubber.add_response("list_functions", second_page, {"Marker": "m"})
    for name in ("a", "b"):
        stubbed.config(name, [old])

    code = main(["attach", "--layer-arn", new, "--all-using", LAYER, "--dry-run"])

    assert code == 0
    reports = json.loads(capsys.readouterr().out)["functions"]
    assert [(report["function"], report["after"]) for report in reports] == [
        ("a", [new]),
        ("b", [new]),
    ]
    stubbed.stubber.assert_no_pending_responses()
